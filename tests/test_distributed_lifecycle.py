"""A distributed scan's life through failures (docs/scaling.md): the seeding worker killed,
the results stream trimmed as it is written, and a seeder detached or killed, then resumed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from app.demo import DEMO_SITE, serve_site
from crawler.distributed import OPEN_SCANS, ScanKeys
from tests.conftest import ROOT, Site, query
from tests.redis_server import redis_server
from tests.test_distributed import start_worker, stop

# Start URLs that answer 404, so that the seeding worker's start() lasts long enough to be
# stopped in the middle of it (each start request is pushed to Redis on its own).
EXTRA_START_URLS = 300


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture
def demo_site() -> Iterator[Site]:
    log: list[str] = []
    with serve_site(DEMO_SITE, access_log=log) as base:
        yield Site(base, DEMO_SITE, log)


def seeder(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    """siteaudit scan --redis in the background, in a session of its own."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "app.cli", "scan", "--no-browser", *args],
            stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip


def kill(process: subprocess.Popen[bytes]) -> None:
    """kill -9 the process and every process it started."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def open_scan(client: redis.Redis, timeout: float = 60) -> ScanKeys:
    """The one open scan, once the seeder has published it."""
    deadline = time.monotonic() + timeout
    while (token := client.srandmember(OPEN_SCANS)) is None:
        assert time.monotonic() < deadline, "no scan was published"
        time.sleep(0.02)
    return ScanKeys(token.decode())


def pages_once(db: Path, scan_id: int = 1) -> list[str]:
    """The scan's stored page URLs, asserted each stored once."""
    urls = [url for (url,) in query(db, "SELECT url FROM pages WHERE scan_id = ?", scan_id)]
    assert len(urls) == len(set(urls))
    return sorted(urls)


def test_a_seeding_worker_killed_before_it_is_done_is_replaced(
    redis_url: str, demo_site: Site, tmp_path: Path
) -> None:
    """kill -9 the worker that claimed the seeding in the middle of its start(): once its
    liveness key expires another worker seeds again, and the scan ends with every page once."""
    missing = [demo_site.url(f"/missing/{n}.html") for n in range(EXTRA_START_URLS)]
    config = tmp_path / "many.toml"
    config.write_text(f"[site]\nstart_urls = {[demo_site.url(), *missing]!r}\n")
    db = tmp_path / "shared.db"
    client = redis.Redis.from_url(redis_url)
    scan = seeder(["--config", str(config), "--db", str(db), "--redis", redis_url,
                   "--redis-lease", "3"], tmp_path / "seeder.log")  # fmt: skip
    workers = [start_worker(redis_url, tmp_path / "first.log")]
    try:
        keys = open_scan(client)
        while not (client.hget(keys.key("state"), "seeded") or b"").startswith(b"claimed:"):
            assert workers[0].poll() is None, (tmp_path / "first.log").read_text()
            time.sleep(0.002)
        os.killpg(workers[0].pid, signal.SIGSTOP)  # frozen: what it has seeded stays so
        assert client.hget(keys.key("state"), "seeded") != b"done"
        taken = client.hlen(keys.key("seen"))  # start URLs it got to
        kill(workers[0])
        workers.append(start_worker(redis_url, tmp_path / "second.log"))
        assert scan.wait(timeout=240) == 0, (tmp_path / "seeder.log").read_text()
    finally:
        kill(scan)
        codes = stop(workers[1:])
        client.close()
    assert codes == [0], (tmp_path / "second.log").read_text()
    assert taken < EXTRA_START_URLS  # killed mid-seeding: the rest was seeded again
    assert "Scan 1 finished" in (tmp_path / "seeder.log").read_text()
    assert len(pages_once(db)) == 17
    fetched = query(db, "SELECT url FROM fetches WHERE status_code = 404")
    assert len(fetched) == len(set(fetched)) >= EXTRA_START_URLS
