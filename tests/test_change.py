"""Change since the previous scan: new and fixed problems, by page path and fingerprint."""

from __future__ import annotations

from pathlib import Path

from reports.data import load_report
from store.database import open_database
from store.scans import finish_scan, start_scan


def add_scan(
    db,
    host: str,
    pages: dict[str, str | None],
    findings: list[tuple[str, str]],
    scope: str = "content",
) -> int:  # type: ignore[no-untyped-def]
    """A finished scan: pages (path -> error or None) and (path, fingerprint) violations,
    all in the page's content or all in the shared layout (scope)."""
    scan_id = start_scan(db, f"https://{host}/", browser=1)
    db["pages"].insert_all(
        {
            "scan_id": scan_id,
            "url": f"https://{host}{path}",
            "team": "Waste",
            "error": error,
            "audited_at": None if error else "2026-11-22T00:00:00+00:00",
        }
        for path, error in pages.items()
    )
    db["findings"].insert_all(
        {
            "scan_id": scan_id,
            "url": f"https://{host}{path}",
            "kind": "accessibility",
            "rule_id": "image-alt",
            "impact": "critical",
            "outcome": "violation",
            "fingerprint": fingerprint,
            "team": "Waste" if scope == "content" else "Web Team",
            "scope": scope,
        }
        for path, fingerprint in findings
    )
    finish_scan(db, scan_id, "finished")
    return scan_id


def test_new_and_fixed_counts_across_hosts(tmp_path: Path) -> None:
    db = open_database(tmp_path / "scan.db")
    add_scan(
        db,
        "www.example.gov.uk",
        {"/a": None, "/b": None, "/c": None},
        [("/a", "fp1"), ("/b", "fp2"), ("/c", "fp4")],
    )
    # The next scan ran on a staging host: the same pages by path. /b failed to load, so its
    # problem is not counted as fixed; /a's fp1 is fixed and fp3 is new; /c is unchanged.
    second = add_scan(
        db,
        "staging.example.gov.uk",
        {"/a": None, "/b": "timed out", "/c": None},
        [("/a", "fp3"), ("/c", "fp4")],
    )
    report = load_report(db, second)
    assert (report.new, report.fixed) == (1, 1)
    waste = report.team("Waste")
    assert waste is not None and (waste.new, waste.fixed) == (1, 1)
    assert report.previous_id == second - 1


def test_first_scan_has_nothing_to_compare(tmp_path: Path) -> None:
    db = open_database(tmp_path / "scan.db")
    first = add_scan(db, "www.example.gov.uk", {"/a": None}, [("/a", "fp1")])
    report = load_report(db, first)
    assert (report.previous_id, report.new, report.fixed) == (None, 0, 0)


def test_a_layout_problem_is_new_and_fixed_once_not_once_a_page(tmp_path: Path) -> None:
    db = open_database(tmp_path / "scan.db")
    pages: dict[str, str | None] = {"/a": None, "/b": None, "/c": None}
    on_every_page = [(path, "footer-link") for path in pages]
    add_scan(db, "www.example.gov.uk", pages, [("/a", "fp1")])
    second = add_scan(db, "www.example.gov.uk", pages, on_every_page, scope="template")
    report = load_report(db, second)
    web_team = report.team("Web Team")
    assert web_team is not None and (web_team.new, web_team.fixed) == (1, 0)
    third = add_scan(db, "www.example.gov.uk", pages, [])
    report = load_report(db, third)
    web_team = report.team("Web Team")
    assert (report.new, report.fixed) == (0, 1)
    assert web_team is not None and (web_team.new, web_team.fixed) == (0, 1)
