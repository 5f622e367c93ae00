"""A worker whose browsers start, then stop starting in the middle of a shared scan: its pages
go back to the frontier, not stored as not audited, and it leaves the scan to a healthy
worker, which audits them (docs/scaling.md, "The browser in workers")."""

from __future__ import annotations

import queue
from pathlib import Path

import pytest
import redis

from app.demo import serve_site
from app.distributed_browser import BROWSER_RETRY_WAITS, BrowserTrouble
from browser.browser_pool import AuditResult, BrowserPool
from browser.devtools import PageJob
from browser.launch import BrowserOptions
from crawler.distributed import SharedSeen
from crawler.distributed_audit import FAILED_AFTER_PAGES, BrowserHealth
from crawler.reasons import reason_for_browser_error
from tests.conftest import program_for_chromium_user, query
from tests.test_distributed import start_browser_seeder, start_worker, stop, wait_for
from tests.test_distributed_lifecycle import kill, open_scan, pages_once

SECTIONS = 6
# Chromium, but in a process whose TMPDIR holds chromium-fails it starts once only: each later
# start exits at once, as a Chromium short of memory or with a broken install does, and
# ChromeDriver cannot create a session. Every start is counted in that folder.
FAILING_CHROMIUM = """#!/bin/sh
dir="${TMPDIR:-/nonexistent}"
if [ -e "$dir/chromium-fails" ]; then
  echo start >> "$dir/chromium-starts"
  if [ "$(wc -l < "$dir/chromium-starts")" -gt 1 ]; then
    echo "chromium: cannot allocate memory" >&2
    exit 1
  fi
fi
exec /usr/bin/chromium "$@"
"""


def sections_site(folder: Path) -> Path:
    """A home page linking to SECTIONS sections as /sN, which the server redirects to /sN/
    (a folder): each page but the home page is reached through a redirect."""
    folder.mkdir()
    links = "".join(f'<a href="/s{n}">Section {n}</a> ' for n in range(1, SECTIONS + 1))
    folder.joinpath("index.html").write_text(page("Home", links))
    for n in range(1, SECTIONS + 1):
        section = folder / f"s{n}"
        section.mkdir()
        section.joinpath("index.html").write_text(page(f"Section {n}", '<a href="/">Home</a>'))
    return folder


def page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><title>{title}</title></head>'
        f"<body><main><h1>{title}</h1><p>{body}</p></main></body></html>"
    )


@pytest.mark.browser
def test_a_worker_whose_browsers_stop_starting_gives_its_pages_back(
    redis_url: str, tmp_path: Path
) -> None:
    """The failing worker audits the home page in its first session; with a new session for
    every page (audit.recycle_after = 1), none starts after that. It gives back the pages it
    could not audit (each reached through a redirect, so the URL it was redirected to must
    not stay seen) and the pages it still held, and leaves the scan, exiting 1 with one
    Error: line; a healthy worker started after it left audits every one of them."""
    # Both where Chromium's own user (when the tests run as root) can reach them, inside
    # the run's TMPDIR (tests/conftest.py): the failing worker's TMPDIR, which its Chromium
    # writes its count to, like /tmp.
    chromium = program_for_chromium_user("failing-worker-", "chromium", FAILING_CHROMIUM)
    failing = chromium.parent
    config = tmp_path / "scan.toml"
    config.write_text(f'[audit]\nchromium = "{chromium}"\nrecycle_after = 1\n')
    (failing / "chromium-fails").touch()
    db, client, access_log = tmp_path / "scan.db", redis.Redis.from_url(redis_url), []
    with (
        serve_site(sections_site(tmp_path / "site"), access_log=access_log) as base,
        (tmp_path / "seeder.log").open("wb") as out,
    ):
        seeder = start_browser_seeder(base, config, db, redis_url, out)
        broken_log = tmp_path / "broken.log"
        workers = [start_worker(redis_url, broken_log, env={"TMPDIR": str(failing)})]
        try:
            keys = open_scan(client)
            wait_for(lambda: "attempt 1 of 3" in broken_log.read_text(), timeout=180)
            # It left the scan having stored no page unaudited: every section is back on the
            # frontier, nothing is leased, and no page a redirect led to is still seen.
            sections = [f"{base}/s{n}/" for n in range(1, SECTIONS + 1)]
            assert query(db, "SELECT count(*) FROM pages WHERE audited_at IS NULL") == [(0,)]
            assert client.zcard(keys.key("requests")) == SECTIONS
            assert client.zcard(keys.key("leases")) == 0
            seen = SharedSeen(client, keys, "test")
            assert [url for url in sections if url in seen] == []
            workers.append(start_worker(redis_url, tmp_path / "healthy.log"))
            assert seeder.wait(timeout=300) in (0, 2), (tmp_path / "seeder.log").read_text()
        finally:
            kill(seeder)
            codes = stop(workers)
            client.close()
    broken = broken_log.read_text()
    scan = f"scan 1 of {base}/"
    assert codes == [1, 0], broken + (tmp_path / "healthy.log").read_text()
    # Its browsers did start, then failed: a first Chromium, then two tries for each of the
    # pages in a row, and one more for each new try at the scan.
    starts = (failing / "chromium-starts").read_text().count("start")
    assert starts >= 1 + 2 * FAILED_AFTER_PAGES + 1
    # Each line says what happened: its browsers started, audited the home page, then
    # stopped starting (not that they could not start, as at its next try).
    assert (
        f"{scan}: this worker's browsers stopped starting after 1 page (no new browser session "
        f"would start for {FAILED_AFTER_PAGES} pages in a row, the last: Chromium did not "
        "start: session not created: Chrome instance exited"
    ) in broken
    assert "; its pages went back to the frontier); trying the scan again in 5 s" in broken
    assert f"{scan}: this worker's browsers could not start (" in broken
    assert broken.splitlines()[-1] == (
        f"Error: this worker's browsers stopped starting for {scan} after 1 page, left to the "
        "other workers; free memory on this machine or mend its Chromium (the warnings above "
        "say why), then start the worker again"
    )
    assert "Traceback" not in broken
    # The pages it gave back were fetched again, by the healthy worker.
    fetched = [line for line in access_log if line.startswith("GET /s")]
    assert len([line for line in set(fetched) if fetched.count(line) > 1]) >= FAILED_AFTER_PAGES
    # Every page stored once and audited, none as not audited; counted once.
    assert pages_once(db) == [f"{base}/", *sections]
    assert query(
        db, "SELECT count(*) FROM pages WHERE audited_at IS NULL OR error IS NOT NULL"
    ) == [(0,)]
    assert query(db, "SELECT pages_audited, pages_failed FROM scans") == [(SECTIONS + 1, 0)]
    seeder_log = (tmp_path / "seeder.log").read_text()
    assert f"Pages: {SECTIONS + 1} recorded, {SECTIONS + 1} audited in Chromium, 0 could" in (
        seeder_log
    )


def test_the_error_line_says_what_the_browsers_did_in_each_scan_left(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A scan whose browsers never started, and one whose started, audited pages, then
    stopped starting (counted over its tries): one line naming both, and both fixes."""
    trouble = BrowserTrouble()
    for pages in (2, None, 1):
        trouble.failed("mid", "scan 2 of http://b.test/", "no session", pages)
    for _ in range(len(BROWSER_RETRY_WAITS) + 1):
        trouble.failed("never", "scan 1 of http://a.test/", "no axe-core")
    assert [record.getMessage().split(": ", 1)[1] for record in caplog.records] == [
        "this worker's browsers stopped starting after 2 pages (no session); trying the scan "
        "again in 5 s (attempt 1 of 3)",
        "this worker's browsers could not start (no session); trying the scan again in 15 s "
        "(attempt 2 of 3)",
        "this worker's browsers stopped starting after 1 page, at the last of 3 tries (no "
        "session); it leaves the scan to the other workers",
        "this worker's browsers could not start (no axe-core); trying the scan again in 5 s "
        "(attempt 1 of 3)",
        "this worker's browsers could not start (no axe-core); trying the scan again in 15 s "
        "(attempt 2 of 3)",
        "this worker's browsers could not start 3 times (no axe-core); it leaves the scan to "
        "the other workers",
    ]
    assert trouble.left_error() == (
        "this worker's browsers could not start for scan 1 of http://a.test/, and stopped "
        "starting for scan 2 of http://b.test/ after 3 pages, left to the other workers; "
        "install Chromium, ChromeDriver and axe-core on this machine as scripts/setup.sh "
        "does, and free memory on this machine or mend its Chromium (the warnings above say "
        "why), then start the worker again"
    )


def result(error: str | None, browser_down: bool = False) -> AuditResult:
    """A page's audit as the browser pool gives it: failed with error, or clean."""
    return AuditResult(PageJob("http://127.0.0.1/", 200, [], b""), None, error, 2, 10, browser_down)


def test_only_pages_in_a_row_with_no_session_starting_fail_the_browsers() -> None:
    health = BrowserHealth()
    down = result("browser error: Chromium did not start: session not created", True)
    # Any page whose session started ends the run: one audited, or one that crashed its tab.
    for ended_by in (result(None), result("browser error: tab crashed")):
        for _ in range(FAILED_AFTER_PAGES - 1):
            assert not health.audited(down)
        assert not health.audited(ended_by)
    assert [health.audited(down) for _ in range(FAILED_AFTER_PAGES)] == [False, False, True]
    assert health.reason() == (
        "no new browser session would start for 3 pages in a row, the last: browser error: "
        "Chromium did not start: session not created; its pages went back to the frontier"
    )


# tests/fault_site.py's page that crashes its tab.
CRASH_PAGE = (
    b"<!doctype html><title>A page that crashes</title><p>This page crashes the renderer.</p>"
    b'<script>location.href = "chrome://crash"</script>'
    b"<script>let a=[]; for(;;) a.push(new Array(1e6).fill(0.5));</script>"
)


@pytest.mark.browser
def test_a_page_that_crashes_its_tab_never_fails_the_browsers() -> None:
    """However often a hostile page crashes its tab, a new session starts for its second
    try: the page is not audited, and the worker's browsers do not count as failed."""
    pool = BrowserPool(BrowserOptions(local_site=True), 1)
    pool.start()
    health = BrowserHealth()
    try:
        for _ in range(FAILED_AFTER_PAGES):
            crashed = audit_in(pool, PageJob("http://127.0.0.1:9/crash.html", 200, [], CRASH_PAGE))
            assert reason_for_browser_error(crashed.error or "") == "browser-crashed", crashed
            assert crashed.attempts == 2 and not crashed.browser_down
            assert not health.audited(crashed)
    finally:
        pool.close()
    # Each try in a session of its own, started after the last crashed: the first, the pool's.
    assert pool.sessions_started == 2 * FAILED_AFTER_PAGES


def audit_in(pool: BrowserPool, job: PageJob) -> AuditResult:
    """The pool's audit of one page."""
    results: queue.Queue[AuditResult] = queue.Queue()
    pool.submit(job, results.put)
    return results.get(timeout=300)
