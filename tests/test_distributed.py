"""A scan shared by workers through a real Redis: every page fetched and stored once, with
the same pages and findings as a one-machine scan of the same site (docs/scaling.md)."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import IO

import redis

from app.demo import DEMO_SITE, serve_site
from crawler.distributed import OPEN_SCANS, ScanKeys
from tests.conftest import ROOT, SITES, Site, query, run_in_process, run_siteaudit

# What a page is, apart from when and how deep it was found: the order pages are found in
# differs between workers, and a page's depth is that of the first link to it found.
PAGE_COLUMNS = (
    "url, status_code, title, lang, content_type, content_hash, bytes, word_count, "
    "reading_age, sitemap_lastmod, last_updated, last_updated_source, review_due, team, reason"
)


def start_worker(
    redis_url: str, log: Path, *options: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """A worker that crawls the first open scan and exits; in a session of its own, so that
    it and the processes it starts can be stopped together. env: more of its environment."""
    command = ["worker", "--redis", redis_url, "--until-idle", *options]
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "app.cli", *command],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            start_new_session=True,
        )


def start_browser_seeder(
    base: str, config: Path, db: Path, redis_url: str, out: IO[bytes]
) -> subprocess.Popen[bytes]:
    """A seeder of a browser scan of the site with one browser a worker, its output to `out`;
    in a session of its own, as the workers are."""
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "scan", base + "/", "--config", str(config),
         "--browsers", "1", "--db", str(db), "--redis", redis_url],
        stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True,
    )  # fmt: skip


def stop(workers: list[subprocess.Popen[bytes]]) -> list[int | None]:
    """Each worker's exit code once it has ended (they end with the scan); one still running
    after the wait is killed with its processes, and reported as None."""
    codes: list[int | None] = []
    for worker in workers:
        try:
            codes.append(worker.wait(timeout=60))
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
            codes.append(None)
    return codes


def kill_if_running(process: subprocess.Popen[bytes]) -> None:
    """Stop a process the test started in a session of its own, with its children, if a
    failed assertion left it running."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def rows(db: Path, sql: str, base: str, scan_id: int) -> list[tuple]:
    """One scan's rows with the site's address taken out, to compare scans of two servers."""
    return sorted(
        tuple(v.replace(base, "SITE") if isinstance(v, str) else v for v in row)
        for row in query(db, f"{sql} WHERE scan_id = ?", scan_id)
    )


def scan_contents(db: Path, base: str, scan_id: int = 1) -> dict[str, list[tuple]]:
    columns = {
        "pages": PAGE_COLUMNS,
        "findings": "url, kind, rule_id, outcome, impact, scope, selector, summary, fingerprint, "
        "team, history",
        "links": "source_url, target_url, link_text, internal, status_code, error",
        "fetches": "url, final_url, status_code, kind, reason",
        "documents": "url, content_type, bytes, linked_from, team, check_error",
    }
    return {
        table: rows(db, f"SELECT {names} FROM {table}", base, scan_id)
        for table, names in columns.items()
    }


def test_two_workers_store_every_page_once_as_one_machine_does(
    redis_url: str, demo_site: Site, tmp_path: Path
) -> None:
    one = run_siteaudit("scan", demo_site.url(), "--no-browser", "--db", str(tmp_path / "one.db"))
    assert one.returncode == 0, one.stderr
    demo_site.access_log.clear()

    # One worker with -v: it logs its crawl; the other only warnings.
    options: list[tuple[str, ...]] = [("-v",), ()]
    workers = [start_worker(redis_url, tmp_path / f"worker{i}.log", *options[i]) for i in range(2)]
    try:
        shared = run_siteaudit(
            "scan",
            demo_site.url(),
            "--no-browser",
            "--db",
            str(tmp_path / "shared.db"),
            "--redis",
            redis_url,
            timeout=300,
        )
    finally:
        codes = stop(workers)
    logs = "\n".join((tmp_path / f"worker{i}.log").read_text() for i in range(2))
    assert shared.returncode == 0, shared.stderr + logs
    assert codes == [0, 0], logs
    assert "Scan 1 finished" in shared.stderr

    db = tmp_path / "shared.db"
    # Every page once: one row each, and fetched from the site once.
    urls = [url for (url,) in query(db, "SELECT url FROM pages")]
    assert len(urls) == len(set(urls)) == 17
    fetched = Counter(line.split(" ")[1] for line in demo_site.access_log if line.startswith("GET"))
    pages = [url.removeprefix(demo_site.base) for url in urls]
    assert [path for path in pages if fetched[path] != 1] == []
    # The same outcome as one machine's scan.
    expected = scan_contents(tmp_path / "one.db", demo_site.base)
    assert scan_contents(db, demo_site.base) == expected
    assert query(db, "SELECT status FROM scans") == [("finished",)]
    assert "Pages: 17 recorded" in shared.stderr
    verbose, quiet = ((tmp_path / f"worker{i}.log").read_text() for i in range(2))
    assert "siteaudit: INFO: Spider closed" in verbose
    assert "INFO" not in quiet


def test_redis_that_does_not_answer_is_one_error_line(tmp_path: Path) -> None:
    db = tmp_path / "scan.db"
    run = run_in_process(
        "scan", "http://127.0.0.1:9/", "--no-browser", "--db", str(db), "--redis",
        "redis://127.0.0.1:9/0",
    )  # fmt: skip
    assert run.returncode == 1
    assert run.errors == [run.errors[0]] and "no Redis server answers there" in run.errors[0]
    assert not db.exists() or query(db, "SELECT count(*) FROM scans") == [(0,)]


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def entries_added(client: redis.Redis, keys: ScanKeys) -> int:
    """Entries the workers have added to the stream so far (the seeder trims it as it goes)."""
    stream = keys.key("rows")
    return int(client.xinfo_stream(stream)["entries-added"]) if client.exists(stream) else 0


def pages_sent(client: redis.Redis, keys: ScanKeys, db: Path) -> int:
    """Pages the workers have sent to the seeder so far: in the stream, or in the database
    (the seeder trims from the stream what it has committed)."""
    entries = client.xrange(keys.key("rows"))
    parts = [part for _, f in entries for part in pickle.loads(f[b"parts"])]
    streamed = {rows[0]["url"] for table, rows in parts if table == "pages"}
    stored = {url for (url,) in query(db, "SELECT url FROM pages")} if db.exists() else set()
    return len(streamed | stored)


def test_a_worker_killed_mid_scan_loses_nothing(
    redis_url: str, demo_site: Site, tmp_path: Path
) -> None:
    """kill -9 a worker with pages leased: they go back to the frontier when their leases
    run out, and another worker does them; every page is stored once, as by one machine."""
    one = run_siteaudit("scan", demo_site.url(), "--no-browser", "--db", str(tmp_path / "one.db"))
    assert one.returncode == 0, one.stderr
    # Slow enough that the first worker is killed with most of the site still to do.
    slow = tmp_path / "slow.toml"
    slow.write_text("[site]\ndownload_delay = 0.4\n")
    db = tmp_path / "shared.db"
    client = redis.Redis.from_url(redis_url)
    with (tmp_path / "seeder.log").open("wb") as out:
        seeder = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "scan", demo_site.url(), "--no-browser", "--db",
             str(db), "--config", str(slow), "--redis", redis_url, "--redis-lease", "3"],
            stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True,
        )  # fmt: skip
    first = start_worker(redis_url, tmp_path / "first.log")
    workers = [first]
    try:
        wait_for(lambda: client.scard(OPEN_SCANS) == 1)
        keys = ScanKeys(client.srandmember(OPEN_SCANS).decode())
        wait_for(lambda: entries_added(client, keys) >= 3 and client.zcard(keys.key("leases")))
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        leased = client.zcard(keys.key("leases"))
        stored = pages_sent(client, keys, db)
        workers.append(start_worker(redis_url, tmp_path / "second.log"))
        assert seeder.wait(timeout=180) == 0, (tmp_path / "seeder.log").read_text()
    finally:
        kill_if_running(seeder)
        codes = stop(workers[1:])
        client.close()
    assert codes == [0]
    # The killed worker held pages, and had not done the scan alone.
    assert leased >= 1
    assert stored < 17
    urls = [url for (url,) in query(db, "SELECT url FROM pages")]
    assert len(urls) == len(set(urls)) == 17
    expected = scan_contents(tmp_path / "one.db", demo_site.base)
    assert scan_contents(db, demo_site.base) == expected


def test_sites_file_seeds_a_scan_of_each_site_shared_by_the_workers(
    redis_url: str, demo_site: Site, tmp_path: Path
) -> None:
    one = run_siteaudit("scan", demo_site.url(), "--no-browser", "--db", str(tmp_path / "one.db"))
    assert one.returncode == 0, one.stderr
    expected = scan_contents(tmp_path / "one.db", demo_site.base)
    sites = tmp_path / "sites.txt"
    db = tmp_path / "shared.db"
    with serve_site(DEMO_SITE) as second:
        # The second site with its own configuration, beside the file.
        (tmp_path / "second.toml").write_text("[site]\nmax_pages = 5\n")
        sites.write_text(f"# two councils\n{demo_site.url()}\n\n{second}/  second.toml\n")
        workers = [start_worker(redis_url, tmp_path / f"worker{i}.log") for i in range(2)]
        try:
            shared = run_siteaudit(
                "scan", "--sites", str(sites), "--no-browser", "--db", str(db), "--redis",
                redis_url, timeout=300,
            )  # fmt: skip
        finally:
            codes = stop(workers)
        assert shared.returncode == 0, shared.stderr
        assert codes == [0, 0]
        assert query(db, "SELECT id, start_url, status FROM scans ORDER BY id") == [
            (1, demo_site.url(), "finished"),
            (2, f"{second}/", "finished"),
        ]
        assert scan_contents(db, demo_site.base, 1) == expected
        assert query(db, "SELECT count(*), count(DISTINCT url) FROM pages WHERE scan_id = 2") == [
            (5, 5)
        ]
    assert "Scan 1 finished" in shared.stderr and "Scan 2 finished" in shared.stderr


def test_a_bad_sites_file_is_one_error_line(tmp_path: Path) -> None:
    sites = tmp_path / "sites.txt"
    sites.write_text("http://127.0.0.1:9/ a.toml b.toml\n")
    run = run_in_process("scan", "--sites", str(sites), "--no-browser", "--redis", "redis://x")
    assert run.returncode == 1
    assert run.errors == [
        f"Error: {sites}, line 1: give a start URL and at most one configuration file"
    ]


def test_three_workers_two_sites_one_killed_store_every_page_once(
    redis_url: str, demo_site: Site, tmp_path: Path
) -> None:
    """Issue 18's acceptance: Redis, three workers, two fixture sites in one --sites scan, one
    worker killed with -9 mid-scan: every page of both sites stored exactly once, with what a
    one-machine scan of each site stores."""
    slow = tmp_path / "slow.toml"
    slow.write_text("[site]\ndownload_delay = 0.3\n")
    db = tmp_path / "shared.db"
    with serve_site(SITES / "dated") as second_base:
        second = Site(second_base, SITES / "dated")
        expected = {}
        for scan_id, site in enumerate((demo_site, second), 1):
            alone = tmp_path / f"alone{scan_id}.db"
            one = run_siteaudit("scan", site.url(), "--no-browser", "--db", str(alone))
            assert one.returncode == 0, one.stderr
            expected[scan_id] = scan_contents(alone, site.base)
        sites = tmp_path / "sites.txt"
        sites.write_text(f"{demo_site.url()}\n{second.url()}\n")
        client = redis.Redis.from_url(redis_url)
        with (tmp_path / "seeder.log").open("wb") as out:
            seeder = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "scan", "--sites", str(sites), "--no-browser",
                 "--db", str(db), "--config", str(slow), "--redis", redis_url,
                 "--redis-lease", "3"],
                stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True,
            )  # fmt: skip
        workers = [start_worker(redis_url, tmp_path / f"worker{i}.log") for i in range(3)]
        try:
            wait_for(lambda: client.scard(OPEN_SCANS) == 2)
            scans = [ScanKeys(token.decode()) for token in client.smembers(OPEN_SCANS)]
            wait_for(lambda: sum(entries_added(client, keys) for keys in scans) >= 4)
            os.killpg(workers[0].pid, signal.SIGKILL)
            workers[0].wait()
            assert seeder.wait(timeout=240) == 0, (tmp_path / "seeder.log").read_text()
        finally:
            kill_if_running(seeder)
            codes = stop(workers[1:])
            client.close()
    assert codes == [0, 0]
    assert query(db, "SELECT id, status FROM scans ORDER BY id") == [
        (1, "finished"),
        (2, "finished"),
    ]
    for scan_id, site in enumerate((demo_site, second), 1):
        urls = [url for (url,) in query(db, "SELECT url FROM pages WHERE scan_id = ?", scan_id)]
        assert len(urls) == len(set(urls)) > 0
        got, alone = scan_contents(db, site.base, scan_id), expected[scan_id]
        # Each table's rows that differ, the shared scan's first.
        differ = {t: (set(got[t]) - set(alone[t]), set(alone[t]) - set(got[t])) for t in got}
        assert {t: rows for t, rows in differ.items() if rows != (set(), set())} == {}, scan_id
