"""Discovery and storage on the demo council site, without the browser."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import SplitResult

import pytest

from app.demo import DEMO_SITE
from tests.conftest import Site, query, run_siteaudit
from tests.recording import RecordingHandler, page, serve, static


@pytest.fixture(scope="module")
def crawled(council_site: Site, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Site]:
    db = tmp_path_factory.mktemp("crawl") / "scan.db"
    result = run_siteaudit(
        "scan",
        council_site.url("/"),
        "--db",
        str(db),
        "--no-browser",
        "--config",
        "app/demo.toml",
    )
    assert result.returncode == 0, result.stderr
    return db, council_site


def test_pages_are_exactly_the_reachable_urls(crawled: tuple[Path, Site]) -> None:
    db, site = crawled
    expected = (DEMO_SITE / "expected_urls.txt").read_text().split()
    stored = sorted(url.removeprefix(site.base) for (url,) in query(db, "SELECT url FROM pages"))
    assert stored == sorted(expected)


def test_robots_disallowed_path_is_never_fetched(crawled: tuple[Path, Site]) -> None:
    db, site = crawled
    assert site.requests_for("/admin/") == 0
    assert query(db, "SELECT error FROM fetches WHERE url LIKE '%/admin/'") == [
        ("disallowed by robots.txt",)
    ]


def test_sitemap_only_page_is_found_with_its_lastmod(crawled: tuple[Path, Site]) -> None:
    db, _ = crawled
    rows = query(
        db,
        "SELECT found_via, sitemap_lastmod FROM pages "
        "WHERE url LIKE '%/libraries/summer-reading.html'",
    )
    assert rows and rows[0][0] == "sitemap" and rows[0][1]


def test_off_site_links_are_recorded_and_checked_not_crawled(crawled: tuple[Path, Site]) -> None:
    db, _ = crawled
    off_site = query(
        db,
        "SELECT target_url, internal FROM links "
        "WHERE target_url LIKE 'https://www.gov.uk%' "
        "OR target_url LIKE 'http://localhost:1/%'",
    )
    assert {row[0] for row in off_site} == {"https://www.gov.uk/", "http://localhost:1/elsewhere"}
    assert all(row[1] == 0 for row in off_site)
    assert not query(
        db, "SELECT 1 FROM pages WHERE url LIKE '%localhost:1%' OR url LIKE '%gov.uk%'"
    )
    # demo.toml allows external checks only on this machine: localhost:1 is checked once.
    assert query(db, "SELECT url, kind FROM fetches WHERE kind = 'external'") == [
        ("http://localhost:1/elsewhere", "external")
    ]


def test_broken_link_target_has_its_404(crawled: tuple[Path, Site]) -> None:
    db, _ = crawled
    rows = query(
        db,
        "SELECT source_url, link_text, status_code FROM links "
        "WHERE target_url LIKE '%/planning/old-local-plan.html'",
    )
    assert rows and all(status == 404 for _, _, status in rows)
    assert rows[0][0].endswith("/planning/")


def test_pdf_is_a_document_not_a_page(crawled: tuple[Path, Site]) -> None:
    db, _ = crawled
    assert query(db, "SELECT content_type, linked_from LIKE '%/council-tax/' FROM documents") == [
        ("application/pdf", 1)
    ]
    assert not query(db, "SELECT 1 FROM pages WHERE url LIKE '%.pdf'")


def test_each_page_has_its_owning_team(crawled: tuple[Path, Site]) -> None:
    db, site = crawled
    teams = {
        url.removeprefix(site.base): team for url, team in query(db, "SELECT url, team FROM pages")
    }
    assert teams["/council-tax/pay.html"] == "Revenues and Benefits"
    assert teams["/benefits/"] == "Revenues and Benefits"
    assert teams["/bins-and-recycling/garden-waste.html"] == "Waste and Recycling"
    assert teams["/about/digital-strategy.html"] == "Digital Services"  # by meta tag
    assert teams["/accessibility-statement.html"] == "Web Team"
    assert teams["/"] == "Unassigned"


def test_readability_figures_are_stored(crawled: tuple[Path, Site]) -> None:
    db, _ = crawled
    plain, jargon, welsh = (
        query(
            db,
            "SELECT reading_age, readability_measured, "
            "readability_note, words_to_avoid FROM pages "
            "WHERE url LIKE ?",
            f"%{path}",
        )[0]
        for path in ("/garden-waste.html", "/about/digital-strategy.html", "/cymraeg/")
    )
    assert plain[0] < jargon[0]
    assert json.loads(jargon[3])
    assert welsh[1] == 0 and "cy" in welsh[2]


def test_scan_row_is_finished_without_browser(crawled: tuple[Path, Site]) -> None:
    db, site = crawled
    assert query(db, "SELECT status, start_url, axe_version, browser FROM scans") == [
        ("finished", site.url("/"), None, 0)
    ]
    assert query(db, "PRAGMA user_version")[0][0] >= 1


def test_a_second_scan_adds_to_the_same_database(crawled: tuple[Path, Site]) -> None:
    db, site = crawled
    result = run_siteaudit(
        "scan", site.url("/"), "--db", str(db), "--no-browser", "--max-pages", "3"
    )
    assert result.returncode == 0, result.stderr
    assert query(db, "SELECT id, status FROM scans ORDER BY id") == [
        (1, "finished"),
        (2, "finished"),
    ]
    assert query(db, "SELECT count(*) FROM pages WHERE scan_id = 2")[0][0] <= 3


def test_a_linked_page_takes_its_date_from_a_slow_sitemap(tmp_path: Path) -> None:
    """The start page links to /news/ at once; the sitemap that dates it comes a second
    later. The page still gets the sitemap's date: pages wait for the sitemaps."""
    sitemap = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>{base}/news/</loc><lastmod>2019-03-12</lastmod></url></urlset>"
    )

    def slow_sitemap(h: RecordingHandler, url: SplitResult) -> None:
        time.sleep(1.0)
        body = sitemap.format(base=h.server.base).encode()  # type: ignore[attr-defined]
        h.send_body(200, body, "application/xml")

    routes = static(
        {
            "/": page("Home", '<p><a href="/news/">News</a></p>', site="Test"),
            "/news/": page("News", "<p>Our news.</p>", site="Test"),
        }
    )
    routes["/sitemap.xml"] = slow_sitemap
    db = tmp_path / "scan.db"
    with serve(routes) as site:
        result = run_siteaudit("scan", site.url("/"), "--db", str(db), "--no-browser")
    assert result.returncode == 0, result.stderr
    assert query(db, "SELECT sitemap_lastmod FROM pages WHERE url LIKE '%/news/'") == [
        ("2019-03-12",)
    ]
