"""The keyboard checks in real Chromium: real Tab and Escape presses, the real mouse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.demo import serve_site
from tests.conftest import SITES, query, run_siteaudit

pytestmark = pytest.mark.browser

RULES = (
    "focus-visible",
    "focus-lost",
    "keyboard-trap",
    "no-keyboard",
    "mouse-only",
    "hover-dismiss",
)
# What each failing page gives: (rule, outcome, wcag, selector).
FAILING = {
    "focus-visible": {("siteaudit-focus-visible", "violation", "2.4.7", "#hidden")},
    "focus-lost": {("siteaudit-focus-lost", "violation", "2.1.1,2.4.7,3.2.1", "#lost")},
    "keyboard-trap": {("siteaudit-keyboard-trap", "violation", "2.1.2", "#trap")},
    "no-keyboard": {
        ("siteaudit-no-keyboard", "violation", "2.1.1", "#inline"),
        ("siteaudit-no-keyboard", "violation", "2.1.1", "#heard"),
    },
    "mouse-only": {
        ("siteaudit-mouse-only", "violation", "2.1.1", "#double"),
        ("siteaudit-mouse-only", "needs-review", "2.1.1", "#hovered"),
    },
    "hover-dismiss": {("siteaudit-hover-dismiss", "needs-review", "1.4.13", "#help")},
}


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    db = tmp_path_factory.mktemp("keyboard") / "scan.db"
    with serve_site(SITES / "keyboard") as base:
        urls = [f"{base}/{rule}-{half}.html" for rule in RULES for half in ("fail", "pass")]
        urls += [f"{base}/hostile.html", f"{base}/focus-order-shadow.html"]
        result = run_siteaudit(
            "scan",
            *urls,
            "--db",
            str(db),
            "--max-depth",
            "0",
            "--browsers",
            "2",
            "--checks",
            "axe,focus,keyboard,hover",
        )
    assert result.returncode == 0, result.stderr
    return db, base


def own_findings(db: Path, base: str, page: str) -> set[tuple[str, str, str, str]]:
    rows = query(
        db,
        "SELECT rule_id, outcome, wcag, selector FROM findings "
        "WHERE rule_id LIKE 'siteaudit-%' AND url = ?",
        f"{base}/{page}",
    )
    return {
        (rule, outcome, wcag, json.loads(selector)[0]) for rule, outcome, wcag, selector in rows
    }


def focus_order(db: Path, base: str, page: str) -> list[str]:
    (order,) = query(db, "SELECT focus_order FROM pages WHERE url = ?", f"{base}/{page}")[0]
    return json.loads(order)


@pytest.mark.parametrize("rule", RULES)
def test_failing_page_gives_its_rule_on_the_element(scanned: tuple[Path, str], rule: str) -> None:
    db, base = scanned
    assert own_findings(db, base, f"{rule}-fail.html") == FAILING[rule]


@pytest.mark.parametrize("rule", RULES)
def test_passing_page_gives_nothing(scanned: tuple[Path, str], rule: str) -> None:
    db, base = scanned
    assert own_findings(db, base, f"{rule}-pass.html") == set()


def test_the_walk_goes_on_past_stops_its_count_missed(scanned: tuple[Path, str]) -> None:
    """Five stops in a shadow root are not counted before the walk: its first look (after the
    count + 2 presses) finds focus still going, and it presses on until focus comes round."""
    db, base = scanned
    # Focus in the shadow root is seen as its host's.
    assert focus_order(db, base, "focus-order-shadow.html") == [
        "#first",
        "#second",
        "#widget",
        "#last",
    ]


def test_focus_order_is_each_tab_stop_once(scanned: tuple[Path, str]) -> None:
    db, base = scanned
    assert focus_order(db, base, "focus-lost-fail.html") == ["#before", "#lost", "#after"]
    assert focus_order(db, base, "focus-visible-pass.html") == [
        "#shown",
        "#ringed",
        "#plain",
        "#agree",
    ]
    # Focus stuck on the trap: the order ends there.
    assert focus_order(db, base, "keyboard-trap-fail.html") == ["#way-in", "#trap"]


def test_checks_leave_no_errors(scanned: tuple[Path, str]) -> None:
    db, _ = scanned
    assert query(db, "SELECT url, check_errors FROM pages WHERE check_errors IS NOT NULL") == []


def test_a_hostile_page_is_audited_within_bounds(scanned: tuple[Path, str]) -> None:
    """400 links that throw focus away and boxes with click handlers, and two buttons
    throwing focus at each other for ever: the walk and the findings stay capped."""
    db, base = scanned
    url = f"{base}/hostile.html"
    assert query(db, "SELECT audited_at IS NOT NULL FROM pages WHERE url = ?", url) == [(1,)]
    counts = dict(
        query(
            db,
            "SELECT rule_id, count(*) FROM findings WHERE url = ? AND rule_id LIKE "
            "'siteaudit-%' AND outcome = 'violation' GROUP BY rule_id",
            url,
        )
    )
    assert counts["siteaudit-no-keyboard"] == 50  # capped, as every rule is
    assert max(counts.values()) == 50
    # Where the walk ends depends on when the buttons' timers fire; it ends, within bounds.
    assert 0 < len(focus_order(db, base, "hostile.html")) <= 200
