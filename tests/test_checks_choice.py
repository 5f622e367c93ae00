"""Choosing the checks a scan runs (--checks, audit.checks) and how their rules are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from audits.accessibility import findings_from_axe
from browser.own_checks import (
    CheckError,
    CheckPage,
    CheckResult,
    rule_result,
    run_browser_checks,
)
from store.previous import rules_key
from tests.conftest import run_siteaudit
from vocabulary.checks import CHECKS, OWN_RULES, RULE_PREFIX, parse_checks, rules_of


def test_checks_are_named_in_their_run_order_and_all_means_every_one() -> None:
    assert parse_checks("reflow, AXE,focus") == ("axe", "focus", "reflow")
    assert parse_checks("all") == CHECKS


@pytest.mark.parametrize(
    ("text", "message"),
    [("axe,colour", "unknown check 'colour'"), (" , ", "no checks named")],
)
def test_an_unknown_or_empty_list_of_checks_is_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_checks(text)


def test_a_bad_checks_option_is_one_line_naming_the_known_checks(tmp_path: Path) -> None:
    result = run_siteaudit(
        "scan", "http://127.0.0.1:9/", "--db", str(tmp_path / "x.db"), "--checks", "axe,spelling"
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: --checks: unknown check 'spelling': the checks are " + ", ".join(CHECKS)
    )
    assert not (tmp_path / "x.db").exists()


def test_own_rules_cannot_be_taken_for_axe_rules_and_name_their_criteria() -> None:
    for rule in OWN_RULES.values():
        assert rule.id.startswith(RULE_PREFIX) and rule.check in CHECKS
        assert rule.help_url.startswith("https://www.w3.org/WAI/WCAG21/Understanding/")
    assert rules_of(("titles",)) == [
        "siteaudit-title-duplicate",
        "siteaudit-title-generic",
        "siteaudit-title-missing",
    ]


def test_an_own_rule_becomes_a_finding_with_its_criteria_and_level() -> None:
    node = {"target": ["#menu"], "ancestry": ["html > body > nav"], "html": "<nav id=menu>"}
    result = {"violations": [rule_result("siteaudit-focus-lost", [node])], "incomplete": []}
    (finding,) = findings_from_axe(result)
    assert (finding.rule_id, finding.wcag, finding.level, finding.impact) == (
        "siteaudit-focus-lost",
        "2.1.1,2.4.7,3.2.1",
        "A",
        "serious",
    )
    assert finding.help_url == "https://www.w3.org/WAI/WCAG21/Understanding/keyboard.html"


def test_audits_made_with_other_browser_checks_are_not_reused() -> None:
    axe_alone = rules_key("4.14.1", ("wcag2a",))
    assert rules_key("4.14.1", ("wcag2a",), checks=("axe", "titles")) == axe_alone
    assert rules_key("4.14.1", ("wcag2a",), checks=CHECKS) != axe_alone
    assert rules_key("4.14.1", ("wcag2a",), checks=("axe", "reflow")) != rules_key(
        "4.14.1", ("wcag2a",), checks=("axe", "focus")
    )


def test_a_check_that_fails_costs_its_own_results_only() -> None:
    """A bug in one check (any exception) is recorded for the page; the others still run."""

    def broken(page: CheckPage) -> CheckResult:
        raise KeyError("boom")

    def finds(page: CheckPage) -> CheckResult:
        return CheckResult(violations=[rule_result("siteaudit-reflow", [{"target": ["#x"]}])])

    def out_of_time(page: CheckPage) -> CheckResult:
        raise CheckError("the page's time ran out")

    result = run_browser_checks(
        None,  # type: ignore[arg-type] - these checks never call DevTools
        CHECKS,
        deadline=0.0,
        viewport=(1280, 1024),
        runners={"focus": broken, "hover": out_of_time, "reflow": finds},
    )
    assert result.errors == ["focus: failed (KeyError)", "hover: the page's time ran out"]
    assert [r["id"] for r in result.violations] == ["siteaudit-reflow"]
