"""Broken links and documents on a real local site, each finding owned by the right team."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import SplitResult

import pytest
from pikepdf import Encryption, Permissions

from app.demo import serve_site
from tests.conftest import query, run_siteaudit
from tests.recording import RecordingHandler, serve
from tests.test_documents import IMAGE_ONLY, docx_bytes, make_accessible, new_pdf, pdf_bytes

PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
</head><body><main><h1>{title}</h1>{body}</main></body></html>"""


def external_site(h: RecordingHandler, url: SplitResult) -> None:
    """The 'other site': /ok answers, /missing is 404, /no-head refuses HEAD but not GET."""
    status = 404 if h.path == "/missing" else 200
    h.send_body(405 if h.command == "HEAD" and h.path == "/no-head" else status, b"")


@pytest.fixture(scope="module")
def external() -> Iterator[str]:
    with serve({"*": external_site}) as server:
        yield server.base.replace("127.0.0.1", "localhost")


def write_site(root: Path, external: str) -> None:
    files = {
        "index.html": PAGE.format(
            title="Home",
            body=(
                '<a href="/waste/">Waste</a> <a href="/tax/">Council tax</a>'
                '<a href="/tax/bands.pdf">Bands (from the home page)</a>'
            ),
        ),
        "waste/index.html": PAGE.format(
            title="Waste",
            body=(
                '<a href="/waste/old-page.html">Old page</a>'
                f'<a href="{external}/missing">Recycling partner</a>'
                f'<a href="{external}/ok">Working partner</a>'
                f'<a href="{external}/no-head">Partner refusing HEAD</a>'
                '<a href="/waste/scanned.pdf">Scanned leaflet</a>'
                '<a href="/waste/locked.pdf">Locked leaflet</a>'
                '<a href="/waste/calendar.docx">Calendar</a>'
            ),
        ),
        "tax/index.html": PAGE.format(
            title="Council tax",
            body=(
                f'<a href="{external}/missing">Valuation office</a>'
                '<a href="/tax/bands.pdf">Bands</a><a href="/tax/untagged.pdf">Untagged</a>'
                '<a href="/tax/good.pdf">Good</a>'
            ),
        ),
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    untagged = new_pdf()  # no tags, no title, no language
    locked = Encryption(
        owner="council", user="", allow=Permissions(accessibility=False, extract=False)
    )
    binaries = {
        "tax/good.pdf": pdf_bytes(make_accessible(new_pdf())),
        "tax/untagged.pdf": pdf_bytes(untagged),
        "tax/bands.pdf": pdf_bytes(new_pdf()),
        "waste/scanned.pdf": pdf_bytes(make_accessible(new_pdf(content=IMAGE_ONLY))),
        "waste/locked.pdf": pdf_bytes(make_accessible(new_pdf()), encryption=locked),
        "waste/calendar.docx": docx_bytes(),
    }
    for name, data in binaries.items():
        (root / name).write_bytes(data)


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory, external: str) -> tuple[Path, str]:
    """One scan, with its report, that every test here reads."""
    tmp_path = tmp_path_factory.mktemp("links-documents")
    root = tmp_path / "site"
    write_site(root, external)
    config = tmp_path / "teams.toml"
    config.write_text(
        '[site]\nprivate_hosts = ["localhost"]\n'
        '[[teams]]\nname = "Waste"\npaths = ["/waste/"]\n'
        '[[teams]]\nname = "Revenues"\npaths = ["/tax/"]\n'
    )
    db = tmp_path / "scan.db"
    with serve_site(root) as base:
        result = run_siteaudit(
            "scan",
            f"{base}/",
            "--db",
            str(db),
            "--no-browser",
            "--config",
            str(config),
            "--report",
            str(tmp_path / "report"),
        )
    assert result.returncode == 0, result.stderr
    return db, base


def findings(db: Path, kind: str) -> set[tuple[str, str, str]]:
    return {
        (url, rule, team)
        for url, rule, team in query(
            db, "SELECT url, rule_id, team FROM findings WHERE kind = ?", kind
        )
    }


def test_broken_links_sit_on_the_linking_page_with_its_team(
    scanned: tuple[Path, str], external: str
) -> None:
    db, base = scanned
    assert findings(db, "broken-link") == {
        (f"{base}/waste/", "broken-link-internal", "Waste"),
        (f"{base}/waste/", "broken-link-external", "Waste"),
        (f"{base}/tax/", "broken-link-external", "Revenues"),
    }
    summaries = " ".join(
        s for (s,) in query(db, "SELECT summary FROM findings WHERE kind = 'broken-link'")
    )
    assert "“Recycling partner” goes to a page on another site that answered 404" in summaries
    assert "“Old page” goes to a page on this site that answered 404" in summaries
    # Checked once per scan, though two pages link it; HEAD refused, then GET worked.
    assert query(
        db, "SELECT url, status_code FROM fetches WHERE kind = 'external' ORDER BY url"
    ) == [(f"{external}/missing", 404), (f"{external}/no-head", 200), (f"{external}/ok", 200)]


def test_each_document_problem_is_found_and_owned(scanned: tuple[Path, str]) -> None:
    db, base = scanned
    found = findings(db, "document")
    assert {(u.removeprefix(base), r, t) for u, r, t in found} == {
        ("/tax/untagged.pdf", "pdf-untagged", "Revenues"),
        ("/tax/untagged.pdf", "pdf-no-title", "Revenues"),
        ("/tax/untagged.pdf", "pdf-no-language", "Revenues"),
        # Linked from the home page (depth 0) and Revenues' page: the shallowest wins.
        ("/tax/bands.pdf", "pdf-untagged", "Unassigned"),
        ("/tax/bands.pdf", "pdf-no-title", "Unassigned"),
        ("/tax/bands.pdf", "pdf-no-language", "Unassigned"),
        ("/waste/scanned.pdf", "pdf-no-text", "Waste"),
        ("/waste/locked.pdf", "pdf-encrypted-blocks-at", "Waste"),
        ("/waste/calendar.docx", "office-no-title", "Waste"),
        ("/waste/calendar.docx", "office-no-language", "Waste"),
    }
    assert query(db, "SELECT tagged, title FROM documents WHERE url LIKE '%good.pdf'") == [
        (1, "Council tax bands 2025")
    ]


def test_team_reports_and_csvs_include_links_and_documents(scanned: tuple[Path, str]) -> None:
    report = scanned[0].parent / "report"
    waste = (report / "team-waste.html").read_text()
    assert "Broken links (2)" in waste and "Recycling partner" in waste
    assert "scanned.pdf" in waste and "PDF" in waste
    csv_text = (report / "team-revenues.csv").read_text()
    assert "broken-link-external" in csv_text and "pdf-untagged" in csv_text


def test_a_link_to_a_page_first_reached_through_an_immediate_refresh_has_its_status(
    tmp_path: Path,
) -> None:
    # The only way to /parking.html is the old page's immediate refresh, so it is always
    # fetched as where that fetch ended before /permits.html, found on it, links to it
    # again: the link's own request is a duplicate, never sent, whatever the crawl's order.
    refresh = '<meta http-equiv="refresh" content="0; url=/parking.html">'
    files = {
        "index.html": PAGE.format(title="Home", body='<a href="/old-parking.html">Parking</a>'),
        "old-parking.html": PAGE.format(title="Moved", body="").replace(
            "</title>", "</title>" + refresh
        ),
        "parking.html": PAGE.format(title="Parking", body='<a href="/permits.html">Permits</a>'),
        "permits.html": PAGE.format(title="Permits", body='<a href="/parking.html">Parking</a>'),
    }
    site = tmp_path / "site"
    site.mkdir()
    for name, html in files.items():
        (site / name).write_text(html, encoding="utf-8")
    db = tmp_path / "scan.db"
    with serve_site(site) as base:
        result = run_siteaudit("scan", f"{base}/", "--db", str(db), "--no-browser")
    assert result.returncode == 0, result.stderr
    parking = f"{base}/parking.html"
    assert query(db, "SELECT url FROM fetches WHERE final_url = ?", parking) == [
        (f"{base}/old-parking.html",)
    ]
    assert query(db, "SELECT status_code, error FROM links WHERE target_url = ?", parking) == [
        (200, None)
    ]
    assert query(db, "SELECT count(*) FROM links WHERE status_code IS NULL") == [(0,)]
