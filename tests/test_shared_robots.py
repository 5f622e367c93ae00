"""robots.txt across workers (docs/scaling.md): the first worker to need a host's robots.txt
fetches it, every other worker judges its requests by that fetch, kept in Redis; a claim
left by a worker killed mid-fetch is taken over after its deadline."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from crawler.distributed import OPEN_SCANS, ScanKeys
from crawler.shared_robots import NO_ROBOTS, SharedRobotsTxt, decode, encode
from tests.conftest import ROOT, query, run_siteaudit
from tests.recording import RecordingServer, serve
from tests.test_distributed import kill_if_running, scan_contents, start_worker, stop, wait_for
from tests.test_politeness import page_routes
from tests.test_shared_politeness import shared_scan

ROBOTS_TXT = "User-agent: *\nDisallow: /page3.html\n"
# Sitemap discovery off: the spider's own request for robots.txt (for its Sitemap lines, once
# per scan, on one machine too) would be a second one, beside the middleware's.
# How long the dead worker's claim to fetch robots.txt holds.
CLAIM = 5.0
CONFIG = "[site]\nsitemaps = false\nconcurrency_per_host = 2\nadaptive_throttle = false\n"


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def test_an_outcome_is_kept_as_found() -> None:
    assert decode(encode(404, b"<h1>Not found</h1>")) == (404, b"<h1>Not found</h1>")
    assert decode(encode(200, b"User-agent: *\nDisallow: /a b\n")) == (
        200,
        b"User-agent: *\nDisallow: /a b\n",
    )
    assert decode(encode(200, b"")) == (200, b"")
    assert decode(NO_ROBOTS) is None


def test_one_worker_claims_a_hosts_fetch_until_its_deadline(client: redis.Redis) -> None:
    keys = ScanKeys("claims")
    dead, alive = SharedRobotsTxt(client, keys, 1.0), SharedRobotsTxt(client, keys, 1.0)
    assert dead.claim("council.example")
    assert not alive.claim("council.example")
    assert not alive.renew("council.example")  # only the holder renews its claim
    assert alive.claim("other.example")  # another host is claimed on its own
    time.sleep(0.6)
    assert dead.renew("council.example")
    time.sleep(0.6)
    assert not alive.claim("council.example")  # renewed: still held
    time.sleep(0.5)
    assert alive.claim("council.example")  # no longer renewed: taken over
    alive.share("council.example", encode(200, b"User-agent: *\n"))
    assert dead.outcome("council.example") == encode(200, b"User-agent: *\n")
    assert not client.exists(alive.claim_key("council.example"))
    assert alive.outcome("unknown.example") is None


def robots_requests(site: RecordingServer, since: int = 0) -> int:
    return sum(1 for r in site.requests[since:] if r.path == "/robots.txt")


def disallowed_requests(site: RecordingServer) -> list[str]:
    return [r.path for r in site.requests if r.path == "/page3.html"]


def test_two_workers_fetch_robots_txt_once_and_obey_it(redis_url: str, tmp_path: Path) -> None:
    """Two workers, both crawling the host: robots.txt is requested once for the whole scan,
    its disallowed page by neither, and the rows stored are a one-machine scan's."""
    # More pages than one worker takes from the frontier at once, slow enough that both
    # workers take some.
    with serve(page_routes(ROBOTS_TXT, 20, 0.2)) as site:
        config = tmp_path / "one.toml"
        config.write_text(CONFIG)
        one = run_siteaudit(
            "scan", site.url("/"), "--no-browser", "--db", str(tmp_path / "one.db"),
            "--config", str(config),
        )  # fmt: skip
        assert one.returncode == 0, one.stderr
        assert robots_requests(site) == 1
        before = len(site.requests)
        assert shared_scan(site, redis_url, tmp_path, CONFIG) == 2
        shared_robots = robots_requests(site, before)
    assert shared_robots == 1
    assert disallowed_requests(site) == []
    db = tmp_path / "shared.db"
    disallowed = query(db, "SELECT reason FROM fetches WHERE url = ?", site.url("/page3.html"))
    assert disallowed == [("disallowed-by-robots",)]
    assert scan_contents(db, site.base) == scan_contents(tmp_path / "one.db", site.base)


def one_worker_scan(
    redis_url: str,
    client: redis.Redis,
    tmp_path: Path,
    site: RecordingServer,
    prepare: Callable[[SharedRobotsTxt, str], None],
) -> tuple[ScanKeys, float]:
    """Scan the site with one worker, having called prepare with the scan's robots.txt in
    Redis and the site's host once the scan is published; its keys, and when prepare ran."""
    config = tmp_path / "site.toml"
    config.write_text(CONFIG)
    # The worker first, ready before the scan is published: its crawl of the scan starts
    # well after prepare has run (a crawl takes a second or more to start).
    workers = [start_worker(redis_url, tmp_path / "worker.log")]
    time.sleep(3)
    with (tmp_path / "seeder.log").open("wb") as out:
        seeder = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "scan", site.url("/"), "--no-browser", "--db",
             str(tmp_path / "shared.db"), "--config", str(config), "--redis", redis_url],
            stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True,
        )  # fmt: skip
    try:
        wait_for(lambda: client.scard(OPEN_SCANS) == 1)
        keys = ScanKeys(client.srandmember(OPEN_SCANS).decode())
        prepare(SharedRobotsTxt(client, keys, CLAIM), site.base.removeprefix("http://"))
        prepared = time.monotonic()
        assert seeder.wait(timeout=180) == 0, (tmp_path / "seeder.log").read_text()
    finally:
        kill_if_running(seeder)
        codes = stop(workers)
    assert codes == [0], (tmp_path / "worker.log").read_text()
    assert query(tmp_path / "shared.db", "SELECT status FROM scans") == [("finished",)]
    # The scan's keys are gone with it: the outcomes, and any claim (deleted, or expired).
    assert client.keys(keys.key("robots*")) == []
    return keys, prepared


def claim_and_die(robots: SharedRobotsTxt, netloc: str) -> None:
    assert robots.claim(netloc)  # and never renewed


def test_a_claim_left_by_a_dead_worker_is_taken_over(
    redis_url: str, client: redis.Redis, tmp_path: Path
) -> None:
    """A worker killed with -9 while fetching robots.txt leaves its claim: the next worker
    waits for its deadline, then fetches robots.txt itself, once, and obeys it."""
    with serve(page_routes(ROBOTS_TXT, 6)) as site:
        _, claimed = one_worker_scan(redis_url, client, tmp_path, site, claim_and_die)
    fetched = [r for r in site.requests if r.path == "/robots.txt"]
    assert len(fetched) == 1
    # Not before the dead worker's claim ran out: until then, nothing of the host is fetched.
    assert fetched[0].arrived >= claimed + CLAIM - 0.1
    assert min(r.arrived for r in site.requests) == fetched[0].arrived
    assert disallowed_requests(site) == []
    stored = query(tmp_path / "shared.db", "SELECT count(*) FROM pages")
    assert stored == [(6,)]  # home and five pages


@pytest.mark.parametrize(
    ("kept", "never_fetched"),
    [
        (encode(200, b"User-agent: *\nDisallow: /page2.html\n"), ["/page2.html"]),
        # A 404 page, parsed as robots.txt (Scrapy does so too): it disallows nothing.
        (encode(404, b"<h1>Not found</h1><p>Disallow: /page2.html</p>"), []),
        (NO_ROBOTS, []),  # the fetch failed: Scrapy allows all
    ],
)
def test_a_worker_judges_by_the_kept_robots_txt_not_its_own(
    redis_url: str, client: redis.Redis, tmp_path: Path, kept: bytes, never_fetched: list[str]
) -> None:
    """Another worker's fetch, already kept (put there by hand), is what the worker obeys: it
    never asks for robots.txt itself, whose own rules it therefore never sees."""

    def keep(robots: SharedRobotsTxt, netloc: str) -> None:
        robots.share(netloc, kept)

    with serve(page_routes(ROBOTS_TXT, 4)) as site:
        one_worker_scan(redis_url, client, tmp_path, site, keep)
    paths = {r.path for r in site.requests}
    assert "/robots.txt" not in paths
    pages = {"/", "/page0.html", "/page1.html", "/page2.html", "/page3.html"}
    assert paths == pages - set(never_fetched)
