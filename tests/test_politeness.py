"""Politeness and safety of the crawl: Crawl-delay, adaptive throttling, private networks.

The project's own throttling (crawler/middlewares.py) is tested on Scrapy's real download
slots in a stand-in crawler built from the scan's real settings; one crawl proves it is
wired in, and that a host without a Crawl-delay gets its configured concurrency.
"""

from __future__ import annotations

import itertools
import logging
import statistics
import time
import tomllib
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import SplitResult

import pytest
from scrapy import signals
from scrapy.core.downloader import Slot
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, TextResponse
from scrapy.settings import Settings
from scrapy.signalmanager import SignalManager

from app.demo import DEMO_SITE, serve_site
from app.scan import crawl_settings
from crawler.context import CrawlContext
from crawler.middlewares import CrawlDelayMiddleware, PoliteThrottle, crawl_delay
from settings.loader import config_from_dict
from tests.conftest import query, run_siteaudit
from tests.recording import Recorded, RecordingHandler, RecordingServer, Route, serve

PAGE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
    "</head><body><main><h1>{title}</h1><p>Bins are collected every week.</p>{body}"
    "</main></body></html>"
)
HOST = "127.0.0.1"


# A crawler as the middlewares see it: the scan's settings, the context app/scan.py sets on
# it, the downloader's slots (Scrapy's own Slot class) and a signal manager.
def stand_in_crawler(toml: str = "") -> SimpleNamespace:
    config = config_from_dict(tomllib.loads(toml))
    return SimpleNamespace(
        settings=Settings(crawl_settings(config, verbose=False)),
        siteaudit=CrawlContext(config, allowed_domains=(HOST,)),
        signals=SignalManager(),
        spider=SimpleNamespace(),
        engine=SimpleNamespace(downloader=SimpleNamespace(slots={}, _delay=None)),
    )


def new_slot(crawler: SimpleNamespace, host: str = HOST) -> Slot:
    """The download slot Scrapy makes for a host, from the crawl's settings."""
    settings = crawler.settings
    slot = Slot(
        settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"), settings.getfloat("DOWNLOAD_DELAY"), 0.5
    )
    crawler.engine.downloader.slots[host] = slot
    return slot


def robots_txt(text: str, host: str = HOST) -> tuple[Request, TextResponse]:
    url = f"http://{host}/robots.txt"
    return Request(url), TextResponse(url, body=text.encode(), encoding="utf-8")


def test_robots_crawl_delay_spaces_requests_one_at_a_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    crawler = stand_in_crawler("[site]\nconcurrency_per_host = 4\n")
    slot = new_slot(crawler)
    middleware = CrawlDelayMiddleware.from_crawler(crawler)
    with caplog.at_level(logging.WARNING):
        middleware.process_response(*robots_txt("User-agent: *\nCrawl-delay: 1\nDisallow: /x/\n"))
    assert (slot.concurrency, slot.delay, slot.jitter) == (1, 1.0, 0.0)
    assert slot.download_delay() == 1.0  # what Scrapy's downloader waits between requests
    assert "asks crawlers to wait 1s between requests (robots.txt Crawl-delay)" in caplog.text


def test_crawl_delay_reaches_slots_made_later_and_no_other_host() -> None:
    crawler = stand_in_crawler()
    middleware = CrawlDelayMiddleware.from_crawler(crawler)
    middleware.process_response(*robots_txt("User-agent: *\nCrawl-delay: 2\n"))
    # Scrapy drops an idle host's slot and makes a new one for its next request.
    later, other = new_slot(crawler), new_slot(crawler, "other.example")
    middleware.process_request(Request(f"http://{HOST}/page.html"))
    middleware.process_request(Request("http://other.example/page.html"))
    assert (later.concurrency, later.delay, later.jitter) == (1, 2.0, 0.0)
    assert (other.concurrency, other.delay) == (4, 0.001)


def test_crawl_delay_is_capped_and_never_speeds_a_slot_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    crawler = stand_in_crawler()
    slot = new_slot(crawler)
    middleware = CrawlDelayMiddleware.from_crawler(crawler)
    with caplog.at_level(logging.WARNING):
        middleware.process_response(*robots_txt("User-agent: *\nCrawl-delay: 3600\n"))
    assert slot.delay == CrawlDelayMiddleware.MAX_DELAY == 60.0
    assert "asks crawlers to wait 60s between requests" in caplog.text
    slower = new_slot(crawler, "slow.example")
    slower.delay = 90.0
    middleware.process_response(*robots_txt("User-agent: *\nCrawl-delay: 5\n", "slow.example"))
    assert slower.delay == 90.0


def test_crawl_delay_is_read_for_our_user_agent_only() -> None:
    agent = stand_in_crawler().settings["USER_AGENT"]
    assert crawl_delay(b"User-agent: *\nCrawl-delay: 3\n", agent) == 3.0
    assert crawl_delay(b"User-agent: otherbot\nCrawl-delay: 9\n", agent) is None
    assert crawl_delay(b"User-agent: *\nCrawl-delay: soon\n", agent) is None
    assert crawl_delay(b"\xff\xfe\x00garbage", agent) is None


def test_crawl_delay_is_ignored_when_robots_txt_is_not_obeyed() -> None:
    crawler = stand_in_crawler("[site]\nobey_robots = false\nadaptive_throttle = false\n")
    with pytest.raises(NotConfigured):
        CrawlDelayMiddleware.from_crawler(crawler)


def downloaded(crawler: SimpleNamespace, latency: float, status: int = 200) -> None:
    """Tell the throttle, as Scrapy does, that a page of this host came after `latency` s."""
    url = f"http://{HOST}/page.html"
    request = Request(url, meta={"download_slot": HOST, "download_latency": latency})
    response = TextResponse(url, status=status, body=b"", encoding="utf-8")
    crawler.signals.send_catch_log(
        signals.response_downloaded, response=response, request=request, spider=crawler.spider
    )


def opened_throttle(crawler: SimpleNamespace) -> PoliteThrottle:
    throttle = PoliteThrottle.from_crawler(crawler)
    # Held by the crawler, as Scrapy's holds its extensions: signals keep weak references.
    crawler.extensions = [throttle]
    crawler.signals.send_catch_log(signals.spider_opened, spider=crawler.spider)
    return throttle


def test_adaptive_throttle_spaces_requests_to_a_slow_server() -> None:
    # Each page takes 0.4 s: with 4 in flight as the target, requests go 0.1 s apart, each
    # gap varied by Scrapy's ±50% jitter (DOWNLOAD_DELAY_JITTER), so never under 0.05 s.
    crawler = stand_in_crawler("[site]\nconcurrency_per_host = 4\n")
    slot = new_slot(crawler)
    opened_throttle(crawler)
    for _ in range(5):
        downloaded(crawler, latency=0.4)
    assert slot.delay == pytest.approx(0.1)
    gaps = [slot.download_delay() for _ in range(200)]
    assert min(gaps) >= 0.045 and statistics.median(gaps) >= 0.08, gaps


@pytest.mark.parametrize(("status", "lowered"), [(200, True), (304, True), (404, False)])
def test_a_quick_answer_lowers_the_delay_unless_it_is_an_error(status: int, lowered: bool) -> None:
    # One slow answer raises the delay; quick ones bring it down again, a rescan's 304s too.
    crawler = stand_in_crawler("[site]\nconcurrency_per_host = 4\n")
    slot = new_slot(crawler)
    opened_throttle(crawler)
    downloaded(crawler, latency=0.4)
    assert slot.delay == pytest.approx(0.1)
    for _ in range(10):
        downloaded(crawler, latency=0.001, status=status)
    assert (slot.delay < 0.01) is lowered, slot.delay


def test_adaptive_throttle_never_goes_below_a_crawl_delay() -> None:
    crawler = stand_in_crawler()
    slot = new_slot(crawler)
    opened_throttle(crawler)
    middleware = CrawlDelayMiddleware.from_crawler(crawler)
    middleware.process_response(*robots_txt("User-agent: *\nCrawl-delay: 1\n"))
    for _ in range(5):
        downloaded(crawler, latency=0.01)
    assert slot.delay == 1.0


def test_without_adaptive_throttle_requests_go_together() -> None:
    crawler = stand_in_crawler("[site]\nconcurrency_per_host = 4\nadaptive_throttle = false\n")
    with pytest.raises(NotConfigured):
        PoliteThrottle.from_crawler(crawler)
    slot = new_slot(crawler)
    # Four at once: the slot's concurrency, and no delay beyond the one that keeps to it.
    assert (slot.concurrency, slot.delay) == (4, 0.001)


def page_routes(
    robots: str, pages: int, delay: float = 0.0, busy_page: str = ""
) -> dict[str, Route]:
    """A home page linking to /page0.html... ; each page takes `delay` seconds; `busy_page`
    is answered 503 with Retry-After: 2 the first time."""
    links = "".join(f'<a href="/page{n}.html">Page {n}</a>' for n in range(pages))

    def robots_file(h: RecordingHandler, url: SplitResult) -> None:
        h.send_body(200, robots.encode(), "text/plain")

    def home(h: RecordingHandler, url: SplitResult) -> None:
        h.send_body(200, PAGE.format(title="Home", body=links).encode())

    def one_page(h: RecordingHandler, url: SplitResult) -> None:
        if url.path == busy_page and h.server.hit(url.path) == 1:
            h.send_body(503, b"busy", "text/plain", headers=(("Retry-After", "2"),))
            return
        time.sleep(delay)
        h.send_body(200, PAGE.format(title=url.path, body="").encode())

    return {"/robots.txt": robots_file, "/": home, "/page*": one_page}


def pages(server: RecordingServer) -> list[Recorded]:
    return sorted(
        (r for r in server.requests if r.path.startswith("/page")), key=lambda r: r.arrived
    )


def most_at_once(visits: list[Recorded]) -> int:
    """The most page requests the server was answering at the same moment."""
    return max(sum(1 for o in visits if o.arrived <= p.arrived < o.left) for p in visits)


def scan(start_urls: list[str], tmp_path: Path, config: str = "") -> tuple[Path, str]:
    tmp_path.mkdir(exist_ok=True)
    db = tmp_path / "scan.db"
    toml = tmp_path / "site.toml"
    toml.write_text(config)
    result = run_siteaudit(
        "scan", *start_urls, "--db", str(db), "--no-browser", "--config", str(toml), "-v"
    )
    assert result.returncode == 0, result.stderr
    return db, result.stderr


def test_one_crawl_keeps_each_hosts_pace(tmp_path: Path) -> None:
    """The middleware is wired in: a host with a Crawl-delay gets one request at a time, that
    far apart, while another host in the same crawl gets its four at once."""
    polite = page_routes("User-agent: *\nCrawl-delay: 0.5\n", pages=3)
    with (
        serve(polite) as slow_host,
        serve(page_routes("User-agent: *\n", pages=8, delay=0.4)) as busy_host,
    ):
        busy = busy_host.base.replace("127.0.0.1", "localhost")  # another host name
        config = "[site]\nconcurrency_per_host = 4\nadaptive_throttle = false\n"
        db, output = scan([f"{slow_host.base}/", f"{busy}/"], tmp_path, config)
    assert query(db, "SELECT count(*) FROM pages") == [(13,)]
    spaced = pages(slow_host)
    gaps = [b.arrived - a.arrived for a, b in itertools.pairwise(spaced)]
    assert len(spaced) == 3 and min(gaps) >= 0.45, gaps
    assert most_at_once(spaced) == 1
    assert "asks crawlers to wait 0.5s between requests (robots.txt Crawl-delay)" in output
    assert most_at_once(pages(busy_host)) == 4


def test_private_network_addresses_are_never_fetched_unless_configured(tmp_path: Path) -> None:
    with serve(page_routes("User-agent: *\n", pages=0)) as intranet:
        other = intranet.base.replace("127.0.0.1", "localhost")
        links = (
            f'<a href="{other}/staff">Staff intranet</a>'
            '<a href="http://169.254.169.254/latest/meta-data/">Metadata</a>'
            '<a href="http://10.1.2.3/admin">Router</a>'
            '<a href="file:///etc/passwd">Passwords</a>'
            '<a href="/to-file">Moved</a>'
        )

        def home(h: RecordingHandler, url: SplitResult) -> None:
            h.send_body(200, PAGE.format(title="Home", body=links).encode())

        def to_file(h: RecordingHandler, url: SplitResult) -> None:
            h.redirect("file:///etc/passwd")

        with serve({"/": home, "/to-file": to_file}) as council:
            db, _ = scan(
                [f"{council.base}/"], tmp_path / "refused", "[links]\ncheck_external = true\n"
            )
            refused = list(intranet.requests)
            allowed_db, _ = scan(
                [f"{council.base}/"],
                tmp_path / "allowed",
                '[site]\nprivate_hosts = ["localhost"]\n',
            )
    assert refused == []
    # The links are recorded, but not checked, so not reported as broken; only the redirect
    # to a local file is broken (no browser follows it either), and the file is never read.
    assert query(db, "SELECT count(*) FROM links WHERE target_url LIKE '%169.254%'") == [(1,)]
    assert query(db, "SELECT url FROM fetches WHERE kind = 'external'") == []
    broken = query(db, "SELECT summary FROM findings WHERE kind = 'broken-link'")
    assert len(broken) == 1 and broken[0][0].startswith("“Moved” goes to a page on this site")
    assert query(db, "SELECT count(*) FROM fetches WHERE final_url LIKE 'file:%'") == [(0,)]
    # Named in site.private_hosts, the intranet link is checked (and found missing).
    assert {r.path for r in intranet.requests} == {"/staff"}
    assert query(allowed_db, "SELECT url, status_code FROM fetches WHERE kind = 'external'") == [
        (f"{other}/staff", 404)
    ]


def test_every_request_waiting_for_robots_txt_is_judged_by_it(tmp_path: Path) -> None:
    """Start URLs all wait for robots.txt at once: the disallowed one is never fetched
    (Scrapy 2.19 let every waiter but the first through: scrapy/scrapy#6802)."""
    log: list[str] = []
    with serve_site(DEMO_SITE, access_log=log) as base:
        db = tmp_path / "scan.db"
        urls = [f"{base}/", f"{base}/admin/", f"{base}/news/"]
        result = run_siteaudit("scan", *urls, "--no-browser", "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert "GET /admin/" not in log
    admin = query(db, "SELECT status_code, reason FROM fetches WHERE url = ?", f"{base}/admin/")
    assert admin == [(None, "disallowed-by-robots")]
