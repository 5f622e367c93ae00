"""A page cannot forge its audit: axe-core runs out of its reach, and its results are checked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from audits.accessibility import check_axe_result
from browser.axe_session import AxeOutcome
from browser.browser_pool import AuditResult, BrowserPool
from browser.devtools import PageJob
from browser.launch import BrowserOptions
from crawler.pipelines import BrowserAuditPipeline
from crawler.reasons import reason_for_browser_error
from crawler.store_rows import audit_columns
from tests.conftest import query, run_siteaudit
from tests.hostile import HostileSite, serve_hostile

RULES = frozenset({"image-alt", "label", "link-name"})
DEQUE = "https://dequeuniversity.com/rules/axe/4.14/image-alt?application=axeAPI"


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, HostileSite]]:
    folder = tmp_path_factory.mktemp("forgery")
    db, config = folder / "scan.db", folder / "site.toml"
    # The forging frame is served from localhost, a second site on this machine: allowed as
    # a user allows a private host, so Chromium's private-network proxy lets the frame load.
    config.write_text('[site]\nprivate_hosts = ["localhost"]\n')
    with serve_hostile() as site:
        result = run_siteaudit(
            "scan", site.url("/forgery/"), "--db", str(db), "--browsers", "1",
            "--page-timeout", "20", "--config", str(config),
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        yield db, site


def findings(db: Path, path: str) -> list[tuple[str, str, list[str]]]:
    rows = query(
        db,
        "SELECT rule_id, impact, selector FROM findings "
        "WHERE kind = 'accessibility' AND url LIKE ? ORDER BY rule_id",
        f"%{path}",
    )
    return [(rule, impact, json.loads(selector)) for rule, impact, selector in rows]


def page_row(db: Path, path: str) -> tuple[Any, ...]:
    sql = "SELECT reason, violations, frames_present, frames_audited FROM pages WHERE url LIKE ?"
    return query(db, sql, f"%{path}")[0]


@pytest.mark.browser
def test_page_with_its_own_axe_gets_the_real_finding(scanned: tuple[Path, HostileSite]) -> None:
    db, _ = scanned
    assert findings(db, "/fake-axe.html") == [("image-alt", "critical", ["img"])]
    assert page_row(db, "/fake-axe.html") == ("audited", 1, 0, 0)


@pytest.mark.browser
def test_page_that_reports_itself_clean_is_not(scanned: tuple[Path, HostileSite]) -> None:
    db, _ = scanned
    assert findings(db, "/hidden.html") == [("image-alt", "critical", ["img"])]
    assert page_row(db, "/hidden.html") == ("audited", 1, 0, 0)


@pytest.mark.browser
def test_patched_json_promise_and_map_change_nothing(scanned: tuple[Path, HostileSite]) -> None:
    db, _ = scanned
    assert findings(db, "/builtins.html") == [("image-alt", "critical", ["img"])]


@pytest.mark.browser
def test_forging_cross_origin_frame_is_audited(scanned: tuple[Path, HostileSite]) -> None:
    db, site = scanned
    assert findings(db, "/frame.html") == [("image-alt", "critical", ["#hostile-frame", "img"])]
    assert page_row(db, "/frame.html") == ("audited", 1, 1, 1)
    assert any(r.path == "/forgery/framed.html" for r in site.requests)  # the frame loaded


@pytest.mark.browser
def test_nothing_forged_is_stored_and_the_report_runs(
    scanned: tuple[Path, HostileSite], tmp_path: Path
) -> None:
    db, _ = scanned
    ((rules,),) = query(db, "SELECT axe_rules FROM scans")
    stored = query(
        db, "SELECT rule_id, impact, help_url FROM findings WHERE kind = 'accessibility'"
    )
    assert len(stored) == 4
    for rule, impact, help_url in stored:
        assert rule in json.loads(rules) and impact in ("minor", "moderate", "serious", "critical")
        assert help_url.startswith("https://dequeuniversity.com/")
    report = run_siteaudit("report", "--db", str(db), "--out", str(tmp_path / "report"))
    assert report.returncode == 0, report.stderr
    assert "forged" not in (tmp_path / "report" / "index.html").read_text()


def axe_result(**changes: Any) -> dict[str, Any]:
    """One violation as axe-core gives it, with `changes` made to the rule."""
    node = {
        "target": ["img"],
        "ancestry": ["html > body > img"],
        "html": "<img>",
        "impact": "critical",
        "failureSummary": "Fix any of the following",
    }
    rule = {
        "id": "image-alt",
        "impact": "critical",
        "tags": ["wcag2a", "wcag111"],
        "help": "Images must have alternative text",
        "helpUrl": DEQUE,
        "nodes": [node],
    }
    return {"violations": [{**rule, **changes}], "incomplete": []}


def test_real_result_passes() -> None:
    result = axe_result()
    result["incomplete"] = [{**result["violations"][0], "id": "label", "impact": None}]
    assert check_axe_result(result, RULES) is None


@pytest.mark.parametrize(
    ("changes", "quoted"),
    [
        ({"id": "forged"}, 'unknown rule id "forged"'),
        ({"id": None}, "unknown rule id null"),
        ({"impact": "bogus"}, 'unknown impact "bogus"'),
        ({"impact": None}, "unknown impact null"),  # a violation always has one
        ({"helpUrl": "javascript:alert(1)"}, '"javascript:alert(1)"'),
        ({"helpUrl": "http://dequeuniversity.com/rules/x"}, "not on dequeuniversity.com"),
        ({"helpUrl": "https://dequeuniversity.com.evil.example/x"}, "evil.example"),
        ({"helpUrl": "https://evil.example/?https://dequeuniversity.com/"}, "evil.example"),
        ({"helpUrl": 'https://dequeuniversity.com/"><script>'}, "not on dequeuniversity.com"),
        ({"tags": "wcag2a"}, "tags of image-alt"),
        ({"nodes": [{"target": ["img"], "impact": "bogus"}]}, 'unknown impact "bogus"'),
        ({"nodes": [{"target": "img"}]}, 'selector "img"'),
        ({"nodes": [{"target": ["img"], "html": {"x": 1}}]}, "html"),
    ],
)
def test_values_axe_never_gives_are_rejected(changes: dict[str, Any], quoted: str) -> None:
    problem = check_axe_result(axe_result(**changes), RULES)
    assert problem is not None and problem.startswith("axe-core result rejected: ")
    assert quoted in problem
    assert reason_for_browser_error(problem) == "audit-tampered"


def test_rejected_value_is_escaped_and_shortened() -> None:
    problem = check_axe_result(axe_result(id="\x1b[31mred\r\n" + "x" * 500), RULES)
    assert problem is not None and len(problem) < 150
    assert "\x1b" not in problem and "\r" not in problem and "\\u001b[31mred\\r\\n" in problem


def test_not_a_list_is_rejected() -> None:
    assert check_axe_result({"violations": "none", "incomplete": []}, RULES) is not None
    assert check_axe_result({"violations": [7], "incomplete": []}, RULES) is not None


def test_tampered_page_is_recorded_as_such_never_as_clean() -> None:
    pool = BrowserPool(BrowserOptions(), 1)
    pool.axe_rules = RULES
    pipeline = BrowserAuditPipeline(crawler=None, pool=pool, context=None)
    forged = axe_result(id="forged", impact="bogus", helpUrl="javascript:alert(1)")
    outcome = AxeOutcome(forged["violations"], [], "4.14.1", 0, 0, [])
    audit = pipeline._checked(AuditResult(PageJob("http://x/", 200, [], b""), outcome, None, 1, 5))
    columns = audit_columns(audit)
    assert audit.outcome is None and columns["reason"] == "audit-tampered"
    assert columns["error"] == 'axe-core result rejected: unknown rule id "forged"'
    assert "violations" not in columns and columns["audited_at"] is None
