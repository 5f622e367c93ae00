"""A Last-Modified header that is the server's time, not the content's (issue 15): shared by
many pages within minutes, judged after the crawl; and the real site where it mattered."""

from __future__ import annotations

import os
import re
import shutil
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from app.after_crawl import after_crawl
from app.demo import serve_site
from audits.dates import DateCandidate
from audits.server_time import SHARED_WINDOW, as_server_time, shared_header_pages
from settings.model import TemplateConfig
from store.database import open_database
from tests.conftest import query, run_siteaudit, shared_corpus

DIGITAL_LAND = shared_corpus("digital-land") / "site"
DEPLOYED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def header(stamp: datetime) -> str:
    return format_datetime(stamp, usegmt=True)


def test_a_header_many_pages_share_within_minutes_is_the_servers() -> None:
    deployed = {f"/deploy/{i}": header(DEPLOYED + timedelta(seconds=20 * i)) for i in range(6)}
    edited = {f"/edit/{i}": header(DEPLOYED - timedelta(days=40 * i + 1)) for i in range(6)}
    assert shared_header_pages({**deployed, **edited}) == set(deployed)


def test_two_pages_edited_together_are_not_many() -> None:
    pair = {f"/pair/{i}": header(DEPLOYED + timedelta(minutes=i)) for i in range(2)}
    alone = {f"/alone/{i}": header(DEPLOYED - timedelta(days=i + 1)) for i in range(3)}
    assert shared_header_pages({**pair, **alone}) == set()


def test_a_few_pages_together_on_a_big_site_are_an_editing_session() -> None:
    """Five pages edited in one sitting, among 100 dated by their edits: under a tenth."""
    session = {f"/session/{i}": header(DEPLOYED + timedelta(minutes=i)) for i in range(5)}
    edits = {f"/page/{i}": header(DEPLOYED - timedelta(days=i + 1)) for i in range(100)}
    assert shared_header_pages({**session, **edits}) == set()


def test_the_window_is_minutes_either_side_and_bad_headers_are_skipped() -> None:
    spread = {
        f"/p/{i}": header(DEPLOYED + i * (SHARED_WINDOW + timedelta(seconds=1))) for i in range(4)
    }
    assert shared_header_pages(spread) == set()  # each apart from the next by over the window
    close = {f"/c/{i}": header(DEPLOYED + i * SHARED_WINDOW / 2) for i in range(3)}
    assert shared_header_pages({**close, "/bad": "yesterday", "/long": "x" * 10_000}) == set(close)


def test_a_shared_header_ranks_below_the_pages_own_dates() -> None:
    candidates = [
        DateCandidate("updated", "http-last-modified", "2024-05-01", "Wed, 01 May 2024 12:00 GMT"),
        DateCandidate("published", "htmldate", "2019-07-05", "2019-07-05"),
        DateCandidate("review-due", "visible-text", "2020-01-01", "Review due: 1 January 2020"),
    ]
    redated = as_server_time(candidates, "http-last-modified")
    assert [c.source for c in redated.candidates] == [
        "server-time:shared",
        "htmldate",
        "visible-text",
    ]
    assert redated.last_updated == candidates[1] and redated.review_due == candidates[2]
    alone = as_server_time(candidates[:1], "http-last-modified")
    assert alone.last_updated is not None and alone.last_updated.source == "server-time:shared"


# --- A real site served as static files ---------------------------------------------------


def deployed_copy(tmp_path: Path) -> Path:
    """The site copied as a deployment does: every file's time a few minutes ago, seconds
    apart (not within 60 s of the fetch, which siteaudit already ignores as dynamic)."""
    site = tmp_path / "site"
    shutil.copytree(DIGITAL_LAND, site)
    now = time.time()
    for number, file in enumerate(sorted(site.rglob("*"))):
        os.utime(file, (now - 300 + number / 100, now - 300 + number / 100))
    return site


def dated_post(path: str) -> str | None:
    """A weeknote's or blog post's own date, from the page as its readers see it."""
    match = re.fullmatch(r"/weeknote/(\d{4}-\d\d-\d\d)/", path)
    return match.group(1) if match else None


@pytest.mark.skipif(not DIGITAL_LAND.is_dir(), reason="needs ../shared/corpora/digital-land")
def test_digital_land_posts_older_than_the_policy_are_stale(tmp_path: Path) -> None:
    """157 pages served with today's Last-Modified took it as their last update, so only 1
    came out stale; the weeknotes (2018-2022) and blog posts are older than the 12 months'
    policy, and every one is stale now, dated by what the page says."""
    site = deployed_copy(tmp_path)
    config = tmp_path / "site.toml"
    config.write_text(
        "[site]\nsitemaps = false\n[links]\ncheck_external = false\n[documents]\ncheck = false\n"
    )
    db, report = tmp_path / "scan.db", tmp_path / "report"
    with serve_site(site) as base:
        result = run_siteaudit(
            "scan", f"{base}/", "--db", str(db), "--no-browser", "--config", str(config),
            "--report", str(report),
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    pages = {
        url.removeprefix(base): (last_updated, source)
        for url, last_updated, source in query(
            db, "SELECT url, last_updated, last_updated_source FROM pages"
        )
    }
    stale = {url.removeprefix(base) for (url,) in query(
        db, "SELECT url FROM findings WHERE rule_id IN ('stale', 'archive-candidate')"
    )}  # fmt: skip
    posts = [p for p in pages if dated_post(p) or re.fullmatch(r"/blog-post/[^/]+/", p)]
    assert len(posts) >= 100
    assert set(posts) <= stale
    for path in posts:  # dated by the page itself, never by the server's time
        assert not pages[path][1].startswith(("http-", "server-time")), (path, pages[path])
        if dated_post(path):
            assert pages[path][0] == dated_post(path)
    assert "Last-Modified headers ignored as the server's time" in result.stderr
    index = (report / "index.html").read_text(encoding="utf-8")
    assert re.search(r"ignored\s+on \d+ pages, because they all share the same time", index)
    shared_before = query(db, "SELECT count(*) FROM page_dates WHERE source = 'server-time:shared'")
    # Judged again, the scan stays as it is (after_crawl replaces what it wrote before).
    database = open_database(db, create=False)
    try:
        after_crawl(database, 1, TemplateConfig())
    finally:
        database.conn.close()
    assert query(db, "SELECT count(*) FROM page_dates WHERE source = 'server-time:shared'") == (
        shared_before
    )
    assert {url.removeprefix(base) for (url,) in query(
        db, "SELECT url FROM findings WHERE rule_id IN ('stale', 'archive-candidate')"
    )} == stale  # fmt: skip
