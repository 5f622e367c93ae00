"""Politeness and limits across workers (docs/scaling.md): two workers of one scan keep each
host's delay, concurrency, Crawl-delay and Retry-After between them, as the server sees its
requests, and share the crawler-trap chains and the external link checks' caps."""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import SplitResult

import pytest
import redis

from crawler.shared_politeness import SharedPace, host_key
from tests.conftest import ROOT, query, run_siteaudit
from tests.recording import Recorded, RecordingHandler, RecordingServer, Route, serve
from tests.test_distributed import start_worker, stop
from tests.test_politeness import PAGE, most_at_once, page_routes

# How much sooner than asked a request may reach the server: the pace is kept from when a
# request is written, and a loaded machine (the server's threads too) may take a while to
# read one and not the next.
SLACK = 0.1


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def test_a_token_waits_for_the_hosts_delay_and_a_free_slot(client: redis.Redis) -> None:
    one, other = SharedPace(client, 0.3, 2), SharedPace(client, 0.3, 2)
    slot, _ = one.take("council.example", hold=30)
    assert slot is not None
    # The other worker waits for the delay, then takes the second slot; a third waits.
    refused, wait = other.take("council.example", hold=30)
    assert refused is None and 0.2 < wait <= 0.3
    time.sleep(wait)
    assert other.take("council.example", hold=30)[0] is not None
    time.sleep(0.3)
    assert one.take("council.example", hold=30)[0] is None
    one.release("council.example", slot)
    assert one.take("council.example", hold=30)[0] is not None
    # Another host is not held back by this one.
    assert other.take("other.example", hold=30)[0] is not None


def test_a_request_sent_later_than_its_token_puts_the_next_one_off(client: redis.Redis) -> None:
    # A new connection, or a busy worker: the request starts 0.2 s after its token was taken.
    one, other = SharedPace(client, 0.3, 1), SharedPace(client, 0.3, 1)
    slot, _ = one.take("late.example", hold=30)
    assert slot is not None
    time.sleep(0.2)
    one.started("late.example")
    one.release("late.example", slot)
    refused, wait = other.take("late.example", hold=30)
    assert refused is None and 0.2 < wait <= 0.3


def test_a_dead_workers_slot_comes_back_after_its_deadline(client: redis.Redis) -> None:
    dead, alive = SharedPace(client, 0.0, 1), SharedPace(client, 0.0, 1)
    assert dead.take("slow.example", hold=1.0)[0] is not None  # and never released
    assert alive.take("slow.example", hold=1.0)[0] is None
    time.sleep(0.5)
    assert alive.take("slow.example", hold=1.0)[0] is None
    time.sleep(0.6)
    assert alive.take("slow.example", hold=1.0)[0] is not None


def test_retry_after_and_crawl_delay_hold_for_every_worker(client: redis.Redis) -> None:
    one, other = SharedPace(client, 0.0, 4), SharedPace(client, 0.0, 4)
    one.hold_off("busy.example", 1.5)
    refused, wait = other.take("busy.example", hold=30)
    assert refused is None and 1.3 < wait <= 1.5
    # A Crawl-delay read by one worker: every worker's requests that far apart, one at a time.
    one.set_crawl_delay("polite.example", 0.5)
    assert other.crawl_delay("polite.example") == 0.5
    refused, wait = other.take("polite.example", hold=30)  # that far from when it was read
    assert refused is None and 0.4 < wait <= 0.5
    time.sleep(wait)
    slot, _ = other.take("polite.example", hold=30)
    assert slot is not None
    refused, wait = one.take("polite.example", hold=30)
    assert refused is None and 0.4 < wait <= 0.5
    time.sleep(wait)
    assert one.take("polite.example", hold=30)[0] is None  # the one slot is still taken
    other.release("polite.example", slot)
    assert one.take("polite.example", hold=30)[0] is not None


# The adaptive throttle's start delay, target concurrency, minimum and maximum delay.
RULE = (0.05, 2.0, 0.05, 30.0)


def test_every_workers_latency_moves_the_hosts_one_adaptive_delay(client: redis.Redis) -> None:
    one, other = SharedPace(client, 0.05, 2, True), SharedPace(client, 0.05, 2, True)
    host = "adaptive.example"
    # AutoThrottle's rule: at once up to latency / target concurrency, then halfway there.
    assert one.adapt(host, 0.6, True, RULE) == pytest.approx(0.3)
    assert other.adapt(host, 0.2, True, RULE) == pytest.approx(0.2)
    assert one.adaptive_delay(host) == other.adaptive_delay(host) == pytest.approx(0.2)
    # A quick error page never lowers it; a quick 200 does, down to the minimum.
    assert one.adapt(host, 0.001, False, RULE) == pytest.approx(0.2)
    for _ in range(10):
        other.adapt(host, 0.001, True, RULE)
    assert one.adaptive_delay(host) == pytest.approx(0.05)
    assert one.adapt(host, 100.0, True, RULE) == 30.0  # the maximum
    assert 590 < client.ttl(SharedPace.keys(host)[3]) <= 600  # forgotten once left alone
    # Never below the host's Crawl-delay.
    one.set_crawl_delay("floor.example", 1.0)
    assert other.adapt("floor.example", 0.01, True, RULE) == 1.0


def test_every_workers_token_waits_for_the_hosts_adaptive_delay(client: redis.Redis) -> None:
    one, other = SharedPace(client, 0.05, 2, True), SharedPace(client, 0.05, 2, True)
    one.adapt("slowing.example", 0.8, True, RULE)  # 0.4 s, learnt by one worker
    assert one.take("slowing.example", hold=30)[0] is not None
    refused, wait = other.take("slowing.example", hold=30)
    assert refused is None and 0.3 < wait <= 0.4
    # A scan without the adaptive throttle keeps to its own delay.
    fixed = SharedPace(client, 0.05, 2)
    one.adapt("fixed.example", 0.8, True, RULE)
    assert fixed.take("fixed.example", hold=30)[0] is not None
    assert fixed.take("fixed.example", hold=30)[1] <= 0.05


def test_a_hosts_port_makes_it_another_host() -> None:
    assert host_key("http://127.0.0.1:8001/a") == "127.0.0.1:8001"
    assert host_key("https://WWW.Council.example/a") == "www.council.example"


class SlotWatch(threading.Thread):
    """Which workers hold a slot of the host, looked at every few milliseconds in Redis
    (a slot is named after the worker's crawl that took it)."""

    def __init__(self, redis_url: str, host: str) -> None:
        super().__init__(daemon=True)
        self.client = redis.Redis.from_url(redis_url)
        self.key = SharedPace.keys(host)[2]
        self.workers: set[bytes] = set()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.005):
            self.workers.update(m.split(b":")[0] for m in self.client.zrange(self.key, 0, -1))


def shared_scan(site: RecordingServer, redis_url: str, tmp_path: Path, toml: str) -> int:
    """Scan the site with two workers; how many of them were seen holding its slots."""
    config = tmp_path / "site.toml"
    config.write_text(toml)
    db = tmp_path / "shared.db"
    logs = [tmp_path / f"worker{i}.log" for i in range(2)]
    workers = [start_worker(redis_url, log) for log in logs]
    watch = SlotWatch(redis_url, host_key(site.base))
    watch.start()
    try:
        scan = run_siteaudit(
            "scan", site.url("/"), "--no-browser", "--db", str(db), "--config", str(config),
            "--redis", redis_url, timeout=180,
        )  # fmt: skip
    finally:
        codes = stop(workers)
        watch.done.set()
        watch.join()
        watch.client.close()
    text = "\n".join(log.read_text() for log in logs)
    assert scan.returncode == 0, scan.stderr + text
    assert codes == [0, 0], text
    assert query(db, "SELECT status FROM scans") == [("finished",)]
    return len(watch.workers)


def arrivals(site: RecordingServer) -> list[Recorded]:
    return sorted(site.requests, key=lambda r: r.arrived)


def test_two_workers_keep_the_hosts_delay_and_its_retry_after(
    redis_url: str, tmp_path: Path
) -> None:
    """One request at a time, 0.3 s apart, as the server sees them: not once per worker. A
    503 with Retry-After: 2 holds both workers off the host for 2 s."""
    with serve(page_routes("User-agent: *\n", 14, 0.05, busy_page="/page3.html")) as site:
        toml = "[site]\ndownload_delay = 0.3\nconcurrency_per_host = 1\n"
        assert shared_scan(site, redis_url, tmp_path, toml) == 2
    requests = arrivals(site)
    gaps = [(b.arrived - a.arrived, a) for a, b in itertools.pairwise(requests)]
    busy = [gap for gap, first in gaps if first.status == 503]
    assert len(busy) == 1 and busy[0] >= 2.0 - SLACK, busy
    assert min(gap for gap, _ in gaps) >= 0.3 - SLACK, gaps
    assert most_at_once(requests) == 1
    db = tmp_path / "shared.db"
    stored = query(db, "SELECT status_code FROM pages WHERE url LIKE '%/page3.html'")
    assert stored == [(200,)]


def test_two_workers_keep_the_hosts_concurrency(redis_url: str, tmp_path: Path) -> None:
    """Two requests in flight at most with concurrency_per_host = 2, though each of the two
    workers may send two."""
    with serve(page_routes("User-agent: *\n", 16, 0.3)) as site:
        toml = "[site]\nconcurrency_per_host = 2\nadaptive_throttle = false\n"
        assert shared_scan(site, redis_url, tmp_path, toml) == 2
    requests = arrivals(site)
    assert most_at_once([r for r in requests if r.path.startswith("/page")]) == 2


def test_two_workers_keep_a_crawl_delay_read_by_either(redis_url: str, tmp_path: Path) -> None:
    """robots.txt's Crawl-delay: one request at a time, that far apart, for both workers,
    though the scan allows four at once with no delay."""
    robots = "User-agent: *\nCrawl-delay: 0.3\n"
    # More pages than one worker takes from the frontier at once (CONCURRENT_REQUESTS).
    with serve(page_routes(robots, 14, 0.05)) as site:
        toml = "[site]\nconcurrency_per_host = 4\nadaptive_throttle = false\n"
        assert shared_scan(site, redis_url, tmp_path, toml) == 2
    # Every request but robots.txt (which a worker may ask for before the first answer to
    # reach either worker tells it the delay).
    requests = [r for r in arrivals(site) if r.path != "/robots.txt"]
    gaps = [b.arrived - a.arrived for a, b in itertools.pairwise(requests)]
    assert len(requests) == 16 and min(gaps) >= 0.3 - SLACK, gaps
    assert most_at_once(requests) == 1


def test_two_workers_share_one_adaptive_delay_for_a_slow_host(
    redis_url: str, tmp_path: Path
) -> None:
    """Each page takes 0.6 s: with two in flight as the target, the adaptive throttle asks for
    0.3 s between requests, and both workers keep it, as the server sees them (each worker
    adapting a delay of its own let the other send in between)."""
    client = redis.Redis.from_url(redis_url)
    with serve(page_routes("User-agent: *\n", 12, 0.6)) as site:
        toml = "[site]\ndownload_delay = 0.05\nconcurrency_per_host = 2\n"
        assert shared_scan(site, redis_url, tmp_path, toml) == 2
    learnt = SharedPace(client, 0.05, 2, True).adaptive_delay(host_key(site.base))
    client.close()
    assert learnt is not None and 0.3 <= learnt < 1.0, learnt
    # Every answer took 0.6 s or more, so from the first page's answer on the shared delay
    # was 0.3 s or more: once it has held once (tokens taken before are behind), every
    # start is that far from the one before, whichever worker sent it.
    requests = arrivals(site)
    pages = [r for r in requests if r.path.startswith("/page")]
    assert len(pages) == len({r.path for r in pages}) == 12
    first_page = min(r.left for r in pages)
    later = [r for r in requests if r.arrived > first_page + 0.3]
    gaps = [b.arrived - a.arrived for a, b in itertools.pairwise(later)]
    assert len(later) >= 6 and min(gaps) >= 0.3 - SLACK, gaps


def linked_site(other: str, pages: int) -> dict[str, Route]:
    """Pages that each link to the same three pages of another site and one of their own
    there, and a calendar whose every month links to the next (a crawler trap)."""
    links = "".join(f'<a href="/page{n}.html">Page {n}</a>' for n in range(pages))
    shared = "".join(f'<a href="{other}/shared{n}">Shared {n}</a>' for n in range(3))

    def home(h: RecordingHandler, url: SplitResult) -> None:
        body = links + '<a href="/calendar/1">Calendar</a>'
        h.send_body(200, PAGE.format(title="Home", body=body).encode())

    def one_page(h: RecordingHandler, url: SplitResult) -> None:
        time.sleep(0.2)  # slow enough that both workers take pages
        own = f'<a href="{other}/own{url.path}">Theirs</a>'
        h.send_body(200, PAGE.format(title=url.path, body=shared + own).encode())

    def month(h: RecordingHandler, url: SplitResult) -> None:
        later = int(url.path.rsplit("/", 1)[1]) + 1
        body = f'<a href="/calendar/{later}">Next month</a>'
        h.send_body(200, PAGE.format(title=url.path, body=body).encode())

    return {"/": home, "/page*": one_page, "/calendar/*": month}


def test_two_workers_share_the_trap_detector_and_the_external_link_caps(
    redis_url: str, tmp_path: Path
) -> None:
    """Each external link is checked once, links.max_external counts both workers' checks,
    and a chain of calendar pages is a trap at max_shape_chain whichever worker follows it."""

    def answer(h: RecordingHandler, url: SplitResult) -> None:
        h.send_body(200, b"")

    with serve({"/*": answer}) as other_site:
        other = other_site.base.replace("127.0.0.1", "localhost")  # another host
        with serve(linked_site(other, pages=20)) as site:
            toml = (
                '[site]\nmax_shape_chain = 3\nprivate_hosts = ["localhost"]\n'
                "[links]\ncheck_external = true\nmax_external = 5\n"
            )
            assert shared_scan(site, redis_url, tmp_path, toml) == 2
    checked = [r.path for r in other_site.requests]
    assert len(checked) == len(set(checked)) == 5, checked
    db = tmp_path / "shared.db"
    assert query(db, "SELECT count(*) FROM fetches WHERE kind = 'external'") == [(5,)]
    months = query(db, "SELECT url FROM pages WHERE url LIKE '%/calendar/%' ORDER BY url")
    assert months == [(site.url(f"/calendar/{n}"),) for n in (1, 2, 3)]
    trap = query(db, "SELECT url FROM fetches WHERE reason = 'trap'")
    assert trap == [(site.url("/calendar/4"),)]


def test_a_one_machine_scan_never_imports_redis(tmp_path: Path) -> None:
    """The shared politeness and limits are the worker's alone: a scan without --redis runs
    as before, and never imports redis or scrapy_redis (the optional [redis] extra)."""
    check = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('imported:', sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('redis', 'scrapy_redis')) or 'none'))\n"
        "from app.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    with serve(page_routes("User-agent: *\n", 2)) as site:
        db = tmp_path / "scan.db"
        run = subprocess.run(
            [sys.executable, "-c", check, "scan", site.url("/"), "--no-browser", "--db", str(db)],
            capture_output=True, text=True, cwd=ROOT, timeout=300,
        )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "imported: none" in run.stdout
    assert query(db, "SELECT count(*) FROM pages") == [(3,)]
