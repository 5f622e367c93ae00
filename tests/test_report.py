"""Team reports: scores, ownership, template issues, dates, escaping, axe, print, email."""

from __future__ import annotations

import csv
import os
import shutil
import socket
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from app.demo import serve_site
from tests.conftest import SITES, Site, query, run_siteaudit

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_report(council_site: Site, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("report")
    db, out = tmp / "scan.db", tmp / "report"
    result = run_siteaudit(
        "scan",
        council_site.url("/"),
        "--db",
        str(db),
        "--config",
        "app/demo.toml",
        "--browsers",
        "2",
        "--report",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    return db, out, council_site


def scores(db: Path, site: Site) -> dict[str, float]:
    return {
        url.removeprefix(site.base): score
        for url, score in query(db, "SELECT url, score FROM pages")
    }


def test_every_page_has_a_score_and_worse_pages_score_lower(demo_report) -> None:  # type: ignore[no-untyped-def]
    db, _, site = demo_report
    by_path = scores(db, site)
    assert all(0 <= s <= 100 for s in by_path.values()) and len(by_path) == 17
    # Two critical image-alt failures, stale and hard to read, against a plain, fresh page.
    assert (
        by_path["/bins-and-recycling/collection-days.html"]
        < by_path["/bins-and-recycling/garden-waste.html"]
    )


def test_each_team_report_lists_exactly_its_pages(demo_report) -> None:  # type: ignore[no-untyped-def]
    db, out, _ = demo_report
    for (team,) in query(db, "SELECT DISTINCT team FROM pages"):
        slug = team.lower().replace(" ", "-")
        # The web team's page also lists the pages each layout problem is on: not its pages.
        html = (out / f"team-{slug}.html").read_text().split('id="layout"')[0]
        html += (out / f"team-{slug}.html").read_text().split(">Pages, most serious")[-1]
        mine = {url for (url,) in query(db, "SELECT url FROM pages WHERE team = ?", team)}
        others = {url for (url,) in query(db, "SELECT url FROM pages WHERE team != ?", team)}
        assert all(f'href="{url}"' in html for url in mine), team
        assert not any(f'href="{url}"' in html for url in others), team
        with (out / f"team-{slug}.csv").open(encoding="utf-8-sig") as handle:
            documents = {
                url for (url,) in query(db, "SELECT url FROM documents WHERE team = ?", team)
            }
            rows = [row for row in csv.DictReader(handle) if not row["layout_pages"]]
            assert {row["url"] for row in rows} <= mine | documents


def test_layout_defect_is_one_template_issue_with_its_page_count(demo_report) -> None:  # type: ignore[no-untyped-def]
    db, out, _ = demo_report
    template = query(db, "SELECT DISTINCT rule_id, team FROM findings WHERE scope = 'template'")
    assert template == [("label", "Web Team")]
    index = (out / "index.html").read_text()
    assert index.count("&lt;input type=&#34;search&#34; name=&#34;q&#34;&gt;") == 1
    assert "On 17 pages" in index
    # Editors' pages do not list it; Libraries still sees its own unlabelled postcode box.
    libraries = (out / "team-libraries.html").read_text()
    assert "type=&#34;search&#34;" not in libraries and "postcode" in libraries
    # The web team's own page lists it once, folded with the 17 pages it is on.
    web = BeautifulSoup((out / "team-web-team.html").read_text(), "html.parser")
    (folded,) = web.select("details.layout-pages")
    assert folded.summary.get_text() == "On 17 pages" and len(folded.select("li")) == 17
    # The statement page is the web team's too: its score names the statement's problems.
    (lowered,) = [line for line in web.get_text().splitlines() if "Lowered by" in line]
    assert "1 problem in the shared layout (for Web Team to fix)" in lowered, lowered


def test_stale_pages_show_their_evidence(demo_report) -> None:  # type: ignore[no-untyped-def]
    db, out, _ = demo_report
    sources = {
        source
        for (source,) in query(
            db,
            "SELECT last_updated_source FROM pages WHERE url IN (SELECT url FROM findings "
            "WHERE rule_id = 'stale')",
        )
    }
    assert {"visible-text", "jsonld:dateModified", "meta:dcterms.modified"} <= sources
    waste = (out / "team-waste-and-recycling.html").read_text()
    assert "Not updated for too long" in waste
    # The date's source in words, not its code (vocabulary/labels.py).
    assert "2019-03-12 (the page says &#39;Last updated&#39;" in waste
    assert "(visible-text" not in waste and "jsonld:" not in waste and "meta:" not in waste


def test_reading_age_finding_names_the_figures(demo_report) -> None:  # type: ignore[no-untyped-def]
    db, _, _ = demo_report
    ((summary, snippet),) = query(
        db,
        "SELECT summary, snippet FROM findings WHERE rule_id = 'reading-age' "
        "AND url LIKE '%/about/digital-strategy.html'",
    )
    assert summary.startswith("Reading age ") and "(target 9)" in summary
    assert "words to avoid:" in summary and len(snippet.split()) > 25
    assert not query(
        db,
        "SELECT 1 FROM findings WHERE rule_id = 'reading-age' AND url LIKE '%/garden-waste.html'",
    )


def test_report_has_no_script_and_forbids_it(demo_report) -> None:  # type: ignore[no-untyped-def]
    _, out, _ = demo_report
    for page in out.glob("*.html"):
        html = page.read_text()
        assert "<script" not in html.lower(), page.name
        meta = BeautifulSoup(html, "lxml").find("meta", attrs={"http-equiv": True})
        assert meta["http-equiv"] == "Content-Security-Policy"
        assert "script-src 'none'" in meta["content"] and "default-src 'none'" in meta["content"]


def test_report_passes_axe_in_chromium(demo_report, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, out, _ = demo_report
    db = tmp_path / "report-audit.db"
    with serve_site(out) as base:
        urls = [f"{base}/{page.name}" for page in sorted(out.glob("*.html"))]
        result = run_siteaudit(
            "scan", *urls, "--db", str(db), "--max-depth", "0", "--best-practices"
        )
    assert result.returncode == 0, result.stderr
    assert query(db, "SELECT count(audited_at) FROM pages")[0][0] == len(urls)
    assert (
        query(
            db,
            "SELECT url, rule_id, selector FROM findings WHERE outcome = 'violation' "
            "AND kind = 'accessibility'",
        )
        == []
    )


def test_printed_report_contains_every_issue(demo_report) -> None:  # type: ignore[no-untyped-def]
    from io import BytesIO

    from pypdf import PdfReader
    from selenium.webdriver.common.print_page_options import PrintOptions

    from browser.browser import BrowserSession
    from browser.launch import BrowserOptions

    db, out, _ = demo_report
    session = BrowserSession(BrowserOptions()).start()
    try:
        session.driver.get((out / "team-waste-and-recycling.html").as_uri())  # type: ignore[union-attr]
        pdf = session.driver.print_page(PrintOptions())  # type: ignore[union-attr]
    finally:
        session.close()
    import base64

    text = " ".join(page.extract_text() for page in PdfReader(BytesIO(base64.b64decode(pdf))).pages)
    flat = " ".join(text.split())
    issues = query(
        db,
        "SELECT DISTINCT url, help, rule_id FROM findings WHERE team = 'Waste and Recycling' "
        "AND scope = 'content'",
    )
    assert issues
    # One problem is one rule on one page, its elements listed under it (unfolded in print).
    for _, help_text, rule_id in issues:
        assert " ".join(help_text.split()) in flat and rule_id in flat, rule_id
    assert flat.count("Rule ") >= len(issues)


def test_hostile_page_content_is_escaped(tmp_path: Path) -> None:
    db, out = tmp_path / "scan.db", tmp_path / "report"
    with serve_site(SITES / "hostile") as base:
        result = run_siteaudit("scan", f"{base}/", "--db", str(db), "--report", str(out))
    assert result.returncode == 0, result.stderr
    html = (out / "team-unassigned.html").read_text()
    assert "<script>" not in html and "alert(" in html
    assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;" in html
    assert 'onmouseover="alert' not in html
    assert "%22%3E%3Cscript%3E" in html  # the hostile query stays encoded in the URL
    with (out / "team-unassigned.csv").open(encoding="utf-8-sig") as handle:
        titles = {row["title"] for row in csv.DictReader(handle)}
    assert '\'=HYPERLINK("http://evil.example/","click")' in titles


def test_stale_from_every_kind_of_date_evidence(tmp_path: Path) -> None:
    site = tmp_path / "site"
    # Fresh modification times, which the server reports as Last-Modified: siteaudit ignores
    # a Last-Modified this close to the fetch, as dynamic pages stamp every response so.
    shutil.copytree(SITES / "dated", site, copy_function=shutil.copy)
    old = time.mktime((2018, 6, 1, 12, 0, 0, 0, 0, 0))
    os.utime(site / "server-dated.html", (old, old))
    config = tmp_path / "policy.toml"
    config.write_text(
        '[[freshness.rules]]\npaths = ["/news/"]\nmax_age_months = 0\narchive_after_months = 24\n'
    )
    db = tmp_path / "scan.db"
    with serve_site(site) as base:
        result = run_siteaudit(
            "scan", f"{base}/", "--db", str(db), "--no-browser", "--config", str(config)
        )
    assert result.returncode == 0, result.stderr
    found = {
        (url.removeprefix(base), rule, source)
        for url, rule, source in query(
            db,
            "SELECT f.url, f.rule_id, p.last_updated_source FROM findings f "
            "JOIN pages p USING (scan_id, url) WHERE f.kind = 'stale'",
        )
    }
    assert found == {
        ("/server-dated.html", "stale", "http-last-modified"),
        ("/sitemap-only.html", "stale", "sitemap-lastmod"),
        ("/undated.html", "undated", None),
        ("/review-due.html", "review-overdue", "visible-text"),
        ("/news/old-story.html", "archive-candidate", "meta:article:published_time"),
    }
    assert query(
        db,
        "SELECT count(*) FROM page_dates WHERE url LIKE '%/review-due.html' "
        "AND kind = 'review-due'",
    ) == [(1,)]


def test_team_email_arrives_at_local_smtp_server(demo_report, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received: list[bytes] = []

    class Collect(Message):
        def handle_message(self, message) -> None:  # type: ignore[no-untyped-def]
            received.append(bytes(message))

        def prepare_message(self, session, envelope):  # type: ignore[no-untyped-def]
            return envelope.original_content

    with socket.socket() as probe:  # aiosmtpd needs a real port number to check it started
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        config = tmp_path / "email.toml"
        config.write_text(
            Path("app/demo.toml").read_text()
            + f'\n[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\n'
            'from_address = "siteaudit@example-council.gov.uk"\n'
            'report_url = "https://intranet.example-council.gov.uk/audit"\n'
        )
        db, _, _ = demo_report
        result = run_siteaudit(
            "report",
            "--db",
            str(db),
            "--out",
            str(tmp_path / "r"),
            "--config",
            str(config),
            "--email",
        )
    finally:
        controller.stop()
    assert result.returncode == 0, result.stderr
    messages = {
        m["To"]: m for m in (message_from_bytes(b, policy=policy.default) for b in received)
    }
    waste = messages["waste@example-council.gov.uk"]
    assert waste["Subject"].startswith("Website audit for Waste and Recycling: score ")
    assert waste.get_content_type() == "multipart/alternative"
    body = waste.get_body(("plain",)).get_content()
    assert (
        "https://intranet.example-council.gov.uk/audit/team-waste-and-recycling.html#page-" in body
    )
    assert "Bin collection days" in body
    assert len(messages) == 7  # every team with an address; Unassigned has none
