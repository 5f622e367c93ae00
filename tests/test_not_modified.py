"""Rescans ask the server whether each page changed; a 304 Not Modified page keeps the last
scan's reading without being downloaded, and what the scan stores is the same."""

from __future__ import annotations

import http.client
import http.server
import os
import shutil
import threading
import time
from pathlib import Path

from app.demo import DEMO_SITE, serve_site
from store.database import open_database
from store.previous import load_known_readability
from tests.conftest import SITES, query, run_siteaudit

# What a page's reading gives the store, compared between a download and a 304.
STORED = {
    "findings": "SELECT url, kind, rule_id, fingerprint, selector, snippet, outcome, impact, "
    "team, scope, summary FROM findings WHERE scan_id = ?",
    "links": "SELECT source_url, target_url, link_text, internal FROM links WHERE scan_id = ?",
    "dates": "SELECT url, kind, source, value, evidence FROM page_dates WHERE scan_id = ?",
    "pages": "SELECT url, team, title, lang, content_hash, bytes, word_count, reading_age, "
    "long_sentences, words_to_avoid, last_updated, last_updated_source, review_due, structure, "
    "score, reading_age_target, etag, last_modified_header FROM pages WHERE scan_id = ?",
}


def scan(
    base: str, db: Path, *extra: str, config: str | None = "app/demo.toml", start: str = "/"
) -> str:
    configured = ("--config", config) if config else ()
    result = run_siteaudit(
        "scan", base + start, "--db", str(db), *configured, "--no-browser", *extra
    )
    assert result.returncode == 0, result.stderr
    return result.stderr


def stored(db: Path, scan_id: int) -> dict[str, list[tuple]]:
    return {name: sorted(query(db, sql, scan_id), key=repr) for name, sql in STORED.items()}


def not_modified(db: Path, scan_id: int) -> set[str]:
    rows = query(db, "SELECT url FROM pages WHERE scan_id = ? AND not_modified = 1", scan_id)
    return {url.split("/", 3)[-1] for (url,) in rows}


def test_an_unchanged_site_is_not_downloaded_again_and_stores_the_same(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(DEMO_SITE, site)
    db = tmp_path / "scan.db"
    log: list[str] = []
    with serve_site(site, access_log=log) as base:
        scan(base, db)
        output = scan(base, db)
        pages = {url.split("/", 3)[-1] for (url,) in query(db, "SELECT url FROM pages")}
        assert len(pages) == 17 and not_modified(db, 2) == pages
        assert "17 not downloaded: unchanged, said the server" in output
        assert stored(db, 2) == stored(db, 1)
        # The wire says 304 for each page, and the reports count the same problems.
        assert query(
            db, "SELECT count(*) FROM fetches WHERE scan_id = 2 AND status_code = 304"
        ) == [(17,)]
        assert query(db, "SELECT pages_failed FROM scans WHERE id = 2") == query(
            db, "SELECT pages_failed FROM scans WHERE id = 1"
        )

        # One page changes (a later file time): that page alone is downloaded and read.
        page = site / "libraries" / "opening-hours.html"
        page.write_text(page.read_text().replace("<title>", "<title>Changed: "))
        later = time.time() + 5
        os.utime(page, (later, later))
        scan(base, db)
        assert not_modified(db, 3) == pages - {"libraries/opening-hours.html"}
        (title,) = query(
            db, "SELECT title FROM pages WHERE scan_id = 3 AND url LIKE '%/opening-hours.html'"
        )
        assert title[0].startswith("Changed: ")

        # --full downloads everything; so does a scan under another configuration.
        scan(base, db, "--full")
        assert not_modified(db, 4) == set()
        scan(base, db, "--max-pages", "500")
        assert not_modified(db, 5) == set()


def test_a_rescan_asks_about_its_own_sites_last_scan_not_the_one_between(
    tmp_path: Path,
) -> None:
    """One database, two sites scanned in turn (as siteaudit scan --sites does with --redis):
    the demo's rescan asks about the demo's last scan, not the other site's after it, and
    reuses the readability (by content hash) of the demo's pages; the other site's first
    scan, with none of its own before it, reuses the demo's."""
    db = tmp_path / "scan.db"
    with serve_site(DEMO_SITE) as demo, serve_site(SITES / "dated") as dated:
        scan(demo, db)
        scan(dated, db, config=None)
        output = scan(demo, db)
    pages = {
        url.split("/", 3)[-1] for (url,) in query(db, "SELECT url FROM pages WHERE scan_id = 1")
    }
    assert len(pages) == 17 and not_modified(db, 3) == pages
    assert "17 not downloaded: unchanged, said the server" in output
    assert stored(db, 3) == stored(db, 1)
    store = open_database(db, create=False)
    try:
        reused = {scan: set(load_known_readability(store, scan)) for scan in (2, 3)}
    finally:
        store.conn.close()
    demo_hashes = {h for (h,) in query(db, "SELECT content_hash FROM pages WHERE scan_id = 1")}
    assert len(demo_hashes) == 17 and reused == {2: demo_hashes, 3: demo_hashes}


def test_a_page_with_an_etag_is_asked_about_with_if_none_match(tmp_path: Path) -> None:
    # {{BASE}} is filled in by the fixture server, which then sends an ETag, not a time.
    (tmp_path / "start.html").write_text(
        '<!doctype html><html lang="en"><head><title>Home - Test</title></head><body><main>'
        '<h1>Home</h1><p>See <a href="{{BASE}}/about.html">about us</a>.</p></main></body></html>'
    )
    (tmp_path / "about.html").write_text(
        '<!doctype html><html lang="en"><head><title>About - Test</title></head><body><main>'
        "<h1>About</h1><p>We run the services.</p></main></body></html>"
    )
    db = tmp_path / "scan.db"
    with serve_site(tmp_path) as base:
        scan(base, db, config=None, start="/start.html")
        scan(base, db, config=None, start="/start.html")
    rows = query(db, "SELECT url, etag IS NOT NULL, not_modified FROM pages WHERE scan_id = 2")
    assert sorted((url.rsplit("/", 1)[-1], etag, nm) for url, etag, nm in rows) == [
        ("about.html", 0, 1),  # a plain file: its Last-Modified matched
        ("start.html", 1, 1),  # the filled-in page: its ETag did
    ]
    # Its link was followed from what the last scan stored: about.html was still found.
    assert query(db, "SELECT count(*) FROM links WHERE scan_id = 2") == query(
        db, "SELECT count(*) FROM links WHERE scan_id = 1"
    )


def test_a_link_no_parser_can_read_costs_that_link_not_its_page(tmp_path: Path) -> None:
    # A real council page linked `http://[ccpa-preferences]` (a consent manager's
    # placeholder): a bracketed host that is no IP address made the whole page vanish.
    (tmp_path / "start.html").write_text(
        '<!doctype html><html lang="en"><head><title>Home - Test</title></head><body><main>'
        '<p><a href="http://[ccpa-preferences]">Cookie settings</a> and '
        '<a href="about.html">about us</a>.</p></main></body></html>'
    )
    (tmp_path / "about.html").write_text(
        '<!doctype html><html lang="en"><head><title>About - Test</title></head><body><main>'
        "<p>We run the services.</p></main></body></html>"
    )
    db = tmp_path / "scan.db"
    with serve_site(tmp_path) as base:
        scan(base, db, config=None, start="/start.html")
    pages = query(db, "SELECT url FROM pages ORDER BY url")
    assert [url.rsplit("/", 1)[-1] for (url,) in pages] == ["about.html", "start.html"]


class StubbornHandler(http.server.BaseHTTPRequestHandler):
    """A home page linking to a page that always answers 304, asked or not."""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/stubborn.html":
            self.send_response(304)
            self.end_headers()
            return
        body = (
            b'<!doctype html><html lang="en"><head><title>Home - Test</title></head><body>'
            b'<main><p><a href="/stubborn.html">A stubborn page</a></p></main></body></html>'
        )
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_a_304_nobody_asked_for_is_recorded_with_its_reason(tmp_path: Path) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), StubbornHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        db = tmp_path / "scan.db"
        scan(f"http://127.0.0.1:{server.server_address[1]}", db, config=None)
    finally:
        server.shutdown()
        server.server_close()
    assert query(
        db, "SELECT status_code, reason, error FROM fetches WHERE url LIKE '%/stubborn.html'"
    ) == [
        (
            304,
            "fetch-error",
            "the server answered 304 Not Modified to a request that sent no validators",
        )
    ]


def test_a_server_that_keeps_connections_open_gives_the_same_scan(tmp_path: Path) -> None:
    """The benchmarks serve with HTTP/1.1 keep-alive, as real servers do: one connection
    answers request after request, 304s included, and the scan stores what it stores through
    a connection per request (the same port, so the same URLs and fingerprints)."""
    with serve_site(DEMO_SITE) as base:
        scan(base, tmp_path / "closed.db")
    port = int(base.rsplit(":", 1)[1])
    with serve_site(DEMO_SITE, port=port, keep_alive=True) as base:
        connection = http.client.HTTPConnection("127.0.0.1", port)
        connection.request("GET", "/")
        first = connection.getresponse()
        validator = {"If-Modified-Since": first.getheader("Last-Modified") or ""}
        first.read()
        connection.request("GET", "/", headers=validator)
        second = connection.getresponse()
        second.read()
        assert (first.version, first.status, second.status) == (11, 200, 304)
        assert not second.will_close
        connection.close()
        scan(base, tmp_path / "kept.db")
        scan(base, tmp_path / "kept.db")
    assert stored(tmp_path / "kept.db", 1) == stored(tmp_path / "closed.db", 1)
    assert len(not_modified(tmp_path / "kept.db", 2)) == 17
