"""Kinds of page: a timed meta refresh is a page to audit, an immediate one a redirect;
XHTML is a page, standalone SVG a document (tests/sites/pagekinds)."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.demo import serve_site
from audits.page import Refresh, parse_page, parse_refresh
from browser.browser import BrowserSession
from browser.devtools import PageJob, PageRefused
from browser.launch import BrowserOptions
from tests.conftest import SITES, query, run_siteaudit

SITE = SITES / "pagekinds"


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    with serve_site(SITE) as base:
        yield base


@pytest.fixture(scope="module")
def scanned(served: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    db = tmp_path_factory.mktemp("pagekinds") / "scan.db"
    result = run_siteaudit("scan", f"{served}/", "--db", str(db), "--page-timeout", "10")
    assert result.returncode == 0, result.stderr
    return db, served


def page_row(db: Path, url: str) -> list[tuple]:
    return query(db, "SELECT content_type, title, reason FROM pages WHERE url = ?", url)


def violations(db: Path, url: str) -> dict[str, str]:
    rows = query(
        db,
        "SELECT rule_id, wcag FROM findings WHERE url = ? AND outcome = 'violation' "
        "AND kind = 'accessibility'",
        url,
    )
    return dict(rows)


@pytest.mark.parametrize(
    ("content", "refresh"),
    [
        ("5; url=/moved.html", Refresh(5, "/moved.html")),
        ("0;URL='/now.html'", Refresh(0, "/now.html")),
        (' 3 , url = "a b.html" rest', Refresh(3, "a b.html")),
        ("0.9; url=/x", Refresh(0, "/x")),  # browsers read whole seconds: immediate
        (".5;url=/y", Refresh(0, "/y")),
        ("30", Refresh(30, "")),  # the page itself
        ("10;/bare.html", Refresh(10, "/bare.html")),
        ("5x; url=/x", None),  # a browser ignores it
        ("soon", None),
        ("", None),
    ],
)
def test_a_meta_refresh_is_read_as_a_browser_reads_it(content: str, refresh: Refresh) -> None:
    assert parse_refresh(content) == refresh


def test_the_first_refresh_outside_script_and_noscript_counts() -> None:
    html = (
        '<html><head><noscript><meta http-equiv="refresh" content="0; url=/no-js"></noscript>'
        '<meta http-equiv="Refresh" content="7; url=/next"><meta http-equiv="refresh" '
        'content="1; url=/second"></head><body><p>Hi</p></body></html>'
    )
    assert parse_page(html).refresh == Refresh(7, "/next")
    assert parse_page("<html><body><p>No refresh</p></body></html>").refresh is None


@pytest.mark.browser
def test_a_timed_refresh_is_a_page_audited_with_its_failure(scanned: tuple[Path, str]) -> None:
    db, base = scanned
    url = f"{base}/timed-refresh.html"
    assert query(db, "SELECT final_url, kind FROM fetches WHERE url = ?", url) == [(url, "page")]
    assert page_row(db, url) == [("text/html", "Bin collections have moved", "audited")]
    assert "2.2.1" in violations(db, url)["meta-refresh"].split(",")


@pytest.mark.browser
def test_a_timed_refresh_target_is_found_as_a_link(scanned: tuple[Path, str]) -> None:
    db, base = scanned
    target = f"{base}/refresh-target.html"
    assert query(
        db,
        "SELECT target_url, link_text FROM links WHERE source_url = ?",
        f"{base}/timed-refresh.html",
    ) == [(target, "refresh after 5 s")]
    assert page_row(db, target) == [("text/html", "Bin collections", "audited")]


@pytest.mark.browser
def test_an_immediate_refresh_is_followed_as_a_redirect(scanned: tuple[Path, str]) -> None:
    db, base = scanned
    url = f"{base}/instant-refresh.html"
    assert query(db, "SELECT final_url FROM fetches WHERE url = ?", url) == [
        (f"{base}/parking.html",)
    ]
    assert page_row(db, url) == []  # recorded as the page it leads to
    assert page_row(db, f"{base}/parking.html") == [("text/html", "Parking", "audited")]
    assert "meta-refresh" not in violations(db, f"{base}/parking.html")


@pytest.mark.browser
def test_an_xhtml_page_is_read_checked_and_audited(scanned: tuple[Path, str]) -> None:
    db, base = scanned
    url = f"{base}/licences.xhtml"
    assert page_row(db, url) == [("application/xhtml+xml", "Licences", "audited")]
    assert query(db, "SELECT word_count > 0, lang FROM pages WHERE url = ?", url) == [(1, "en")]
    assert violations(db, url)["image-alt"] == "1.1.1"
    assert query(db, "SELECT selector FROM findings WHERE url = ? AND rule_id = 'image-alt'", url)
    assert query(db, "SELECT target_url FROM links WHERE source_url = ?", url) == [
        (f"{base}/parking.html",)
    ]


@pytest.mark.browser
def test_standalone_svg_stays_a_document(scanned: tuple[Path, str]) -> None:
    db, base = scanned
    url = f"{base}/ward-map.svg"
    assert query(db, "SELECT content_type FROM documents WHERE url = ?", url) == [
        ("image/svg+xml",)
    ]
    assert page_row(db, url) == []
    assert query(db, "SELECT kind FROM fetches WHERE url = ?", url) == [("document",)]


def wait_for_refresh(session: BrowserSession) -> list[str]:
    """The refresh requests the browser made, once it has made one (at most 20 s)."""
    assert session.devtools is not None
    waited = time.monotonic() + 20
    while time.monotonic() < waited and not (
        session.devtools.refreshes or session.devtools.navigations
    ):
        time.sleep(0.05)
    return session.devtools.refreshes + session.devtools.navigations


@pytest.mark.browser
def test_a_refresh_firing_mid_audit_keeps_the_page_its_own_refresh_only(served: str) -> None:
    """A 1 s refresh fires after the load, while the checks would run: the page's declared
    refresh is answered (Chromium stays on the document) and the audit stands; the same
    navigation, not declared by the page the crawler read, still refuses the page."""
    url = f"{served}/soon-refresh.html"
    with urllib.request.urlopen(url) as reply:
        headers, body = list(reply.headers.items()), reply.read()
    # Without the layout checks: a page they leave at another viewport is left for
    # about:blank once audited, and this test watches the page after its audit.
    options = BrowserOptions(
        local_site=True, private_hosts=("127.0.0.1",), checks=("axe", "focus", "keyboard", "hover")
    )
    session = BrowserSession(options)
    session.start()
    try:
        declared = PageJob(url, 200, headers, body, refresh=f"{served}/refresh-target.html")
        outcome = session.audit(declared)
        assert "meta-refresh" in {v["id"] for v in outcome.violations}
        assert wait_for_refresh(session) == [f"{served}/refresh-target.html"]
        assert session.devtools is not None and session.devtools.refreshes
        session.devtools.check_document()  # the same document: nothing refused
        session.audit(PageJob(url, 200, headers, body))  # the crawler saw no refresh
        assert wait_for_refresh(session) == [f"{served}/refresh-target.html"]
        with pytest.raises(PageRefused, match="navigated away"):
            session.devtools.check_document()
    finally:
        session.close()
