"""The gate's policy, exactly: both sides of every boundary, without a browser."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from app.browser_setup import rules_known
from app.check import load_gate_decisions
from reports.gate import (
    Baseline,
    GateError,
    GatePolicy,
    PageStatus,
    Problem,
    evaluate,
    london_today,
)
from vocabulary.checks import CHECKS
from vocabulary.decisions import Decision
from vocabulary.impacts import IMPACTS

TODAY = date(2026, 11, 22)
PAGES = [PageStatus("https://staging.example.gov.uk/a", None)]


def problem(
    impact: str | None = "serious",
    outcome: str = "violation",
    rule: str = "image-alt",
    fingerprint: str = "fp1",
    page: str = "/a",
) -> Problem:
    return Problem(
        page,
        f"https://staging.example.gov.uk{page}",
        fingerprint,
        rule,
        impact,
        outcome,
        "1.1.1",
        '["img"]',
        "Images must have alternative text",
        "",
    )


def gate(
    *problems: Problem,
    baseline: Baseline | None = None,
    waivers: list[Decision] | None = None,
    today: date = TODAY,
    **policy: object,
) -> int:
    return evaluate(
        list(problems), PAGES, baseline, waivers or [], GatePolicy(**policy), today
    ).exit_code


@pytest.mark.parametrize("fail_on", IMPACTS)
@pytest.mark.parametrize("impact", IMPACTS)
def test_fail_on_is_at_or_above(fail_on: str, impact: str) -> None:
    expected = 2 if IMPACTS.index(impact) <= IMPACTS.index(fail_on) else 0  # critical first
    assert gate(problem(impact), fail_on=fail_on) == expected


def test_missing_impact_counts_as_minor() -> None:
    assert gate(problem(None), fail_on="minor") == 2
    assert gate(problem(None), fail_on="moderate") == 0


def test_needs_review_only_fails_when_asked() -> None:
    assert gate(problem("critical", "needs-review")) == 0
    assert gate(problem("critical", "needs-review"), fail_on_needs_review=True) == 2


def test_no_problems_passes() -> None:
    assert gate() == 0


def test_baseline_matches_page_and_fingerprint() -> None:
    baseline = Baseline("b", "4.14.1", None, frozenset({("/a", "fp1")}))
    assert gate(problem(), baseline=baseline) == 0
    assert gate(problem(fingerprint="fp2"), baseline=baseline) == 2
    assert gate(problem(page="/b"), baseline=baseline) == 2


def test_rule_new_since_the_baseline_is_not_a_regression() -> None:
    baseline = Baseline("b", "4.10.0", frozenset({"label"}), frozenset())
    result = evaluate([problem(rule="brand-new-rule")], PAGES, baseline, [], GatePolicy(), TODAY)
    assert result.exit_code == 0 and [p.rule_id for p in result.new_rules] == ["brand-new-rule"]
    assert gate(problem(rule="brand-new-rule"), baseline=baseline, fail_on_new_rules=True) == 2
    assert gate(problem(rule="label"), baseline=baseline) == 2


def waiver(expires: date, **match: str) -> Decision:
    return Decision("accepted", "reason", expires, "approver", **match)


def test_waiver_holds_through_its_expiry_day_then_stops() -> None:
    by_fingerprint = waiver(TODAY, fingerprint="fp1")
    assert gate(problem(), waivers=[by_fingerprint], today=TODAY) == 0
    result = evaluate([problem()], PAGES, None, [by_fingerprint], GatePolicy(), date(2026, 11, 23))
    assert result.exit_code == 2 and result.expired_decisions == [by_fingerprint]


def test_rule_waiver_matches_its_url_glob_only() -> None:
    by_rule = waiver(TODAY, rule="image-alt", url="/a*")
    assert gate(problem(), waivers=[by_rule]) == 0
    assert gate(problem(page="/b"), waivers=[by_rule]) == 2
    assert gate(problem(rule="label"), waivers=[by_rule]) == 2


def test_expiry_day_is_london_time() -> None:
    # 23:30 on 1 July in London is 22:30 UTC; 00:30 on 2 July in London is 23:30 UTC.
    assert london_today(datetime(2026, 7, 1, 22, 30, tzinfo=UTC)) == date(2026, 7, 1)
    assert london_today(datetime(2026, 7, 1, 23, 30, tzinfo=UTC)) == date(2026, 7, 2)
    # In winter London is on UTC.
    assert london_today(datetime(2026, 12, 31, 23, 59, tzinfo=UTC)) == date(2026, 12, 31)


def test_a_page_that_could_not_be_checked_is_exit_1() -> None:
    pages = [*PAGES, PageStatus("https://staging.example.gov.uk/b", "ConnectionRefusedError")]
    assert evaluate([problem()], pages, None, [], GatePolicy(), TODAY).exit_code == 1


def test_example_waivers_file_loads() -> None:
    waivers = load_gate_decisions("config/waivers.example.toml")
    assert [w.rule or w.fingerprint for w in waivers] == [
        "color-contrast:3f2a9c0d1e4b5a67",
        "frame-title",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[waiver]]\nrule = "x"\nreason = "r"\napproved_by = "a"\nexpires = "2026-01-01"\n',
            "expires must be a date",
        ),
        (
            '[[waiver]]\nreason = "r"\napproved_by = "a"\nexpires = 2026-01-01\n',
            "needs a fingerprint, or a rule",
        ),
        ('[[waiver]]\nrule = "x"\napproved_by = "a"\nexpires = 2026-01-01\n', "reason is missing"),
        (
            '[[waiver]]\nrule = "x"\nreason = "r"\napproved_by = "a"\n'
            "expires = 2026-01-01\nwhy = 1\n",
            "unknown key why",
        ),
    ],
)
def test_bad_waivers_name_file_and_fix(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "waivers.toml"
    path.write_text(text)
    with pytest.raises(GateError, match=message) as err:
        load_gate_decisions(str(path))
    assert str(err.value).startswith(f"{path}: waiver[0]")


def test_a_check_added_after_the_baseline_does_not_fail_the_gate() -> None:
    """A baseline from before the own checks knew only axe's rules: their findings are new
    rules, not regressions; once a baseline knows a rule, its new findings fail as axe's do."""
    before_checks = Baseline("b", "4.14.1", frozenset({"image-alt"}), frozenset())
    reflow = problem(rule="siteaudit-reflow", fingerprint="fp9")
    result = evaluate([reflow], PAGES, before_checks, [], GatePolicy(), TODAY)
    assert result.exit_code == 0 and [p.rule_id for p in result.new_rules] == ["siteaudit-reflow"]
    assert gate(reflow, baseline=before_checks, fail_on_new_rules=True) == 2
    knows_checks = Baseline(
        "b", "4.14.1", frozenset(rules_known(["image-alt"], CHECKS)), frozenset()
    )
    assert gate(reflow, baseline=knows_checks) == 2
    assert "siteaudit-reflow" not in rules_known(["image-alt"], ("axe", "titles"))
