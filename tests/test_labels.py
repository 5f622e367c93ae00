"""Plain-English labels in the report, and the CSV an editor opens in Excel (issue 13)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from markupsafe import escape

from audits.dates import JSONLD_KINDS, META_KINDS, PRECEDENCE
from reports.data import load_report
from reports.html import CSV_COLUMNS, write_report
from store.database import open_database
from store.history import record_history
from store.scans import finish_scan, start_scan
from store.writer import Batch, write_batch
from vocabulary.impacts import IMPACTS
from vocabulary.labels import (
    DATE_SOURCE_LABELS,
    READING_AGE_METHOD,
    date_source_label,
    impact_label,
)

# Every source audits/dates.py gives a date (see its date_candidates and PRECEDENCE).
DATE_SOURCES = {
    "visible-text",
    "time-element",
    "sitemap-lastmod",
    "http-last-modified",
    "htmldate",
    "server-time:later",
    "server-time:shared",
    "meta:http-equiv:last-modified",
    *(f"meta:{name}" for name in META_KINDS),
    *(f"jsonld:{key}" for key in JSONLD_KINDS),
    *(f"microdata:{key}" for key in JSONLD_KINDS),
}
SITE = "http://127.0.0.1:9/"
PAGE = f"{SITE}bins.html"


def test_every_date_source_has_a_label() -> None:
    assert set(DATE_SOURCE_LABELS) >= DATE_SOURCES
    prefixes = {p for level in PRECEDENCE for p in level.source_prefixes if p}
    assert all(any(s.startswith(p) for s in DATE_SOURCE_LABELS) for p in prefixes)
    for source in DATE_SOURCES:
        label = date_source_label(source)
        assert label and source not in label, source
    assert date_source_label("meta:something-new") == "the page's hidden details give a date"
    assert date_source_label(None) == "no date found"


def test_every_impact_has_a_label() -> None:
    for impact in IMPACTS:
        assert impact_label(impact) and impact not in impact_label(impact), impact
    assert impact_label(None) == "" and impact_label("bogus") == ""


def two_scans(path: Path) -> None:
    """Two finished scans of one site: "a:1" in both, "b:1" only in the second."""
    db = open_database(path)
    for number, fingerprints in enumerate((["a:1"], ["a:1", "b:1"]), start=1):
        scan_id = start_scan(db, SITE, browser=1, axe_version="4.14.1")
        db.execute(
            "UPDATE scans SET started_at = ? WHERE id = ?", [f"2026-0{number}-01T09:00", scan_id]
        )
        batch = Batch()
        page = {"scan_id": scan_id, "url": PAGE, "title": "Bins", "team": "Waste", "score": 71.5}
        page |= {"last_updated": "2019-03-12", "last_updated_source": "visible-text"}
        page |= {"reading_age": 12.0, "reading_age_target": 9, "word_count": 300}
        batch.add("pages", [page])
        finding = {"scan_id": scan_id, "url": PAGE, "kind": "accessibility", "team": "Waste"}
        finding |= {"outcome": "violation", "rule_id": "image-alt", "impact": "critical"}
        finding |= {"wcag": "1.1.1", "level": "A", "selector": '["img"]'}
        batch.add("findings", [{**finding, "fingerprint": fp} for fp in fingerprints])
        write_batch(db, batch)
        with db.conn:  # as the end of a scan does (app/after_crawl.py), in a transaction
            record_history(db, scan_id)
        finish_scan(db, scan_id, "finished")
    db.conn.close()


@pytest.fixture
def report(tmp_path: Path) -> Path:
    two_scans(tmp_path / "scan.db")
    out = tmp_path / "report"
    write_report(load_report(open_database(tmp_path / "scan.db", create=False)), out)
    return out


def test_report_shows_labels_not_codes(report: Path) -> None:
    html = (report / "team-waste.html").read_text(encoding="utf-8")
    assert "2019-03-12 (the page says &#39;Last updated&#39;" in html
    assert "visible-text" not in html
    assert f"Critical: {impact_label('critical')}." in html
    assert str(escape(READING_AGE_METHOD)) in html


def test_csv_opens_in_excel_with_editors_columns_first(report: Path) -> None:
    raw = (report / "team-waste.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark
    with (report / "team-waste.csv").open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
        rows = {row["fingerprint"]: row for row in reader}
    editors = ("team", "page_score", "first_seen", "decision", "wcag", "wcag_level")
    developers = ("rule_id", "selector", "snippet", "fingerprint")
    assert max(map(CSV_COLUMNS.index, editors)) < min(map(CSV_COLUMNS.index, developers))
    row = rows["a:1"]
    assert (row["team"], row["page_score"], row["wcag_level"]) == ("Waste", "71.5", "A")
    assert row["wcag"] == "1.1.1 Non-text Content" and row["decision"] == ""
    assert row["impact_meaning"] == impact_label("critical")
    # First seen: the earliest scan of the same site that found it on this page.
    assert (rows["a:1"]["first_seen"], rows["b:1"]["first_seen"]) == ("2026-01-01", "2026-02-01")
    assert (rows["a:1"]["history"], rows["b:1"]["history"]) == ("open", "new")


def test_email_says_what_critical_and_serious_mean(tmp_path: Path) -> None:
    from reports.email import team_message

    two_scans(tmp_path / "scan.db")
    report = load_report(open_database(tmp_path / "scan.db", create=False))
    team = report.team("Waste")
    assert team is not None

    class Addresses:
        from_address = "audit@example.org"
        report_url = ""

    message = team_message(report, team, Addresses(), "the site")
    body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"critical: {impact_label('critical')}" in body


def test_every_content_check_says_how_to_fix_it() -> None:
    from audits.content import TITLES
    from vocabulary.labels import CONTENT_FIXES, content_fix
    from vocabulary.spelling import TITLES as SPELLING_TITLES

    links = {"broken-link-internal", "broken-link-external"}
    assert set(CONTENT_FIXES) == {*TITLES, *links, *SPELLING_TITLES}
    assert all(content_fix(rule).endswith(".") for rule in CONTENT_FIXES)
    assert content_fix("image-alt") == ""
