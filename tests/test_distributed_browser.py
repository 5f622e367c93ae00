"""A scan shared by workers with the browser: each worker audits its pages in its own
Chromium, as a one-machine scan does; a worker whose browsers cannot start leaves the scan
to the others (docs/scaling.md)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from app.demo import DEMO_SITE, serve_site
from crawler.distributed import OPEN_SCANS
from tests.conftest import ROOT, program_for_chromium_user, query, run_siteaudit
from tests.test_distributed import scan_contents, start_browser_seeder, start_worker, stop
from tests.test_distributed_lifecycle import kill, open_scan, pages_once

pytestmark = pytest.mark.browser


def test_a_worker_audits_the_demo_site_in_its_own_browsers(redis_url: str, tmp_path: Path) -> None:
    db = tmp_path / "scan.db"
    log = tmp_path / "worker.log"
    with serve_site(DEMO_SITE) as base:
        one = run_siteaudit(
            "scan", base + "/", "--db", str(tmp_path / "one.db"), "--browsers", "1", timeout=600
        )
        assert one.returncode in (0, 2), one.stderr
        workers = [start_worker(redis_url, log)]
        try:
            shared = run_siteaudit(
                "scan", base + "/", "--db", str(db), "--browsers", "1", "--redis", redis_url,
                timeout=600,
            )  # fmt: skip
        finally:
            codes = stop(workers)
    assert shared.returncode in (0, 2), shared.stderr + log.read_text()
    assert codes == [0], log.read_text()
    assert "Scan 1 finished" in shared.stderr and "(axe-core " in shared.stderr
    # The scan is recorded as a browser scan, with the axe-core the worker ran.
    [(browser, axe_version, rules_key, audited)] = query(
        db, "SELECT browser, axe_version, rules_key, pages_audited FROM scans"
    )
    assert browser == 1 and axe_version and rules_key
    # Every page was audited in the worker's browser, and axe-core's findings stored.
    assert query(db, "SELECT count(*), count(audited_at) FROM pages") == [(17, audited)]
    assert audited == 17
    axe = "kind = 'accessibility' AND rule_id NOT LIKE 'siteaudit-%'"
    assert query(db, f"SELECT count(*) > 0 FROM findings WHERE {axe}") == [(1,)]
    # The same pages, findings, links, fetches and documents as one machine's scan.
    assert scan_contents(db, base) == scan_contents(tmp_path / "one.db", base)


def three_pages(folder: Path) -> Path:
    """A site of three pages that link to each other."""
    folder.mkdir()
    for n in range(3):
        links = "".join(f'<a href="{page_path(m)}">Page {m}</a> ' for m in range(3) if m != n)
        folder.joinpath(page_path(n).strip("/") or "index.html").write_text(
            f'<!doctype html><html lang="en"><head><title>Page {n}</title></head>'
            f"<body><main><h1>Page {n}</h1><p>{links}</p></main></body></html>"
        )
    return folder


def page_path(n: int) -> str:
    return "/" if n == 0 else f"/p{n}.html"


def test_a_worker_whose_browsers_cannot_start_leaves_the_scan_to_the_others(
    redis_url: str, tmp_path: Path
) -> None:
    """A worker without axe-core (its own $SITEAUDIT_AXE_CORE points nowhere) tries the scan
    three times, says so each time in one line, takes no page, and exits 1 leaving the scan
    to the others; a healthy worker then audits every page once."""
    db = tmp_path / "scan.db"
    client = redis.Redis.from_url(redis_url)
    missing = tmp_path / "no-axe-core"
    with (
        serve_site(three_pages(tmp_path / "site")) as base,
        (tmp_path / "seeder.log").open("wb") as out,
    ):
        seeder = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "scan", base + "/", "--browsers", "1", "--db",
             str(db), "--redis", redis_url],
            stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True,
        )  # fmt: skip
        workers = [
            start_worker(
                redis_url, tmp_path / "broken.log", env={"SITEAUDIT_AXE_CORE": str(missing)}
            )
        ]
        try:
            keys = open_scan(client)
            assert workers[0].wait(timeout=120) == 1
            # It took nothing: no URL, no page, and the scan is still open for the others.
            assert client.hlen(keys.key("seen")) == 0
            assert client.sismember(OPEN_SCANS, keys.token)
            assert query(db, "SELECT count(*) FROM pages") == [(0,)]
            workers.append(start_worker(redis_url, tmp_path / "healthy.log"))
            assert seeder.wait(timeout=600) in (0, 2), (tmp_path / "seeder.log").read_text()
        finally:
            kill(seeder)
            codes = stop(workers[1:])
            client.close()
    broken = (tmp_path / "broken.log").read_text()
    scan = f"scan 1 of {base}/"
    reason = f"axe-core not found at {missing} (SITEAUDIT_AXE_CORE)"
    assert broken.count(f"{scan}: this worker's browsers could not start ({reason}") == 2
    assert "trying the scan again in 5 s (attempt 1 of 3)" in broken
    assert "trying the scan again in 15 s (attempt 2 of 3)" in broken
    assert f"{scan}: this worker's browsers could not start 3 times ({reason}" in broken
    assert broken.splitlines()[-1] == (
        f"Error: this worker's browsers could not start for {scan}, left to the other "
        "workers; install Chromium, ChromeDriver and axe-core on this machine as "
        "scripts/setup.sh does, then start the worker again"
    )
    assert "Traceback" not in broken
    assert codes == [0], (tmp_path / "healthy.log").read_text()
    assert "Scan 1 finished" in (tmp_path / "seeder.log").read_text()
    # Every page once, each audited in the healthy worker's browser.
    assert pages_once(db) == [f"{base}/", f"{base}/p1.html", f"{base}/p2.html"]
    assert query(db, "SELECT count(audited_at), pages_audited FROM pages, scans") == [(3, 3)]


# A ChromeDriver that exits as it starts, as one missing a library or built for another
# Chromium does; each start is counted in the folder it is in.
EXITING_CHROMEDRIVER = """#!/bin/sh
echo start >> "$(dirname "$0")/chromedriver-starts"
echo "chromedriver: error while loading shared libraries: libnss3.so" >&2
exit 127
"""
# Seconds a worker whose ChromeDriver exits at once may take to leave the scan: its three
# tries, 5 s and 15 s apart, each seen within a second or two. Selenium alone would wait some
# 33 s a try for ChromeDriver to answer (about 2 minutes in all).
LEAVES_WITHIN = 80


def test_a_worker_whose_chromedriver_exits_at_once_leaves_the_scan_soon(
    redis_url: str, tmp_path: Path
) -> None:
    """audit.chromedriver is a program that exits at once: the worker sees it at each of its
    three tries as soon as it exits (the reaper script ends with it), says so in one line,
    takes nothing, and leaves the scan, exiting 1, well before the three tries' half a
    minute each that waiting for its connection took."""
    # Where Chromium's own user (when the tests run as root) can run it and count its starts.
    chromedriver = program_for_chromium_user(
        "exiting-chromedriver-", "chromedriver", EXITING_CHROMEDRIVER
    )
    config = tmp_path / "scan.toml"
    config.write_text(f'[audit]\nchromedriver = "{chromedriver}"\n')
    db, client = tmp_path / "scan.db", redis.Redis.from_url(redis_url)
    log = tmp_path / "worker.log"
    with (
        serve_site(three_pages(tmp_path / "site")) as base,
        (tmp_path / "seeder.log").open("wb") as out,
    ):
        seeder = start_browser_seeder(base, config, db, redis_url, out)
        try:
            keys = open_scan(client)
            started = time.monotonic()
            worker = start_worker(redis_url, log)
            code = worker.wait(timeout=300)
            elapsed = time.monotonic() - started
            assert client.hlen(keys.key("seen")) == 0  # it took nothing
            assert client.sismember(OPEN_SCANS, keys.token)
        finally:
            kill(seeder)
            stop([worker])
            client.close()
    output = log.read_text()
    assert code == 1, output
    # Three tries, one ChromeDriver each, and each named for what it was.
    starts = chromedriver.parent / "chromedriver-starts"
    assert starts.exists() and starts.read_text().count("start") == 3, output
    scan = f"scan 1 of {base}/"
    reason = f"ChromeDriver exited as it started ({chromedriver}); run `{chromedriver} --version`"
    # (As root, it names the user Chromium was to run as: app/browser_setup.py.)
    tries = [line for line in output.splitlines() if line.startswith("siteaudit: WARNING")]
    assert [reason in line for line in tries] == [True] * 3, output
    assert f"{scan}: this worker's browsers could not start (" in tries[0]
    assert f"{scan}: this worker's browsers could not start 3 times (" in tries[2]
    assert output.splitlines()[-1] == (
        f"Error: this worker's browsers could not start for {scan}, left to the other "
        "workers; install Chromium, ChromeDriver and axe-core on this machine as "
        "scripts/setup.sh does, then start the worker again"
    )
    assert "Traceback" not in output
    assert elapsed < LEAVES_WITHIN, output
