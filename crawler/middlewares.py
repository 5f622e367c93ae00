"""Downloader middlewares and throttling for a polite crawl that stays off private networks."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from typing import Any
from urllib.parse import urlsplit

from protego import Protego
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Request, Response

from crawler.urls import host_allowed, is_private_address

log = logging.getLogger(__name__)

# Statuses a server uses to say "not now": wait as long as it asks, then try again.
RETRY_LATER = (429, 503)
# Signs of a web application firewall's challenge page rather than the site itself.
CHALLENGE_MARKERS = (
    b"attention required",
    b"cf-challenge",
    b"captcha",
    b"access denied",
    b"request blocked",
    b"are you a robot",
    b"incapsula",
    b"akamai",
)


def retry_after_seconds(value: bytes | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date (RFC 9110)."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (now or time.time()))


class RetryAfterMiddleware(RetryMiddleware):
    """Scrapy's retries, but a 429 or 503 waits for its Retry-After (up to a cap) first.

    Scrapy retries at once, which a busy council server answers with the same 503.
    """

    MAX_WAIT = 120.0

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        if response.status in RETRY_LATER and wait is not None:
            if wait > self.MAX_WAIT:
                return response  # asked to come back much later: record it, do not wait
            await asyncio.sleep(wait)
        return self._retry(request, f"{response.status} from the server") or response


class FirewallMiddleware:
    """Stop the scan when a firewall starts blocking it, rather than record bogus results.

    A run of consecutive 403 (or challenge) responses, with nothing good in between, means
    the site has stopped serving the crawler; one 403 page is just a protected page.
    """

    def __init__(self, crawler: Any, threshold: int) -> None:
        self.crawler = crawler
        self.threshold = threshold
        self.run = 0
        self.closing: asyncio.Future[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> FirewallMiddleware:
        return cls(crawler, crawler.settings.getint("SITEAUDIT_BLOCKED_AFTER", 20))

    def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get("kind") != "page":
            return response
        if looks_blocked(response):
            self.run += 1
            if self.run >= self.threshold:
                self.stop(response.status)
                raise IgnoreRequest("blocked by a firewall")
        elif response.status < 400:
            self.run = 0
        return response

    def stop(self, status: int) -> None:
        spider = self.crawler.spider
        if spider.context.blocked is None:
            spider.context.blocked = (
                f"the site answered {self.run} pages in a row with {status} (a firewall or "
                "bot challenge); ask its web team to allow the crawler's user agent or "
                "address, then scan again"
            )
            # CloseSpider only works from spider callbacks; from here, ask the engine.
            self.closing = asyncio.ensure_future(
                self.crawler.engine.close_spider_async(reason="blocked")
            )


def looks_blocked(response: Response) -> bool:
    if response.status in (401, 403, 429) or response.headers.get("cf-mitigated"):
        return True
    head = response.body[:4096].lower() if response.status >= 400 else b""
    return any(marker in head for marker in CHALLENGE_MARKERS)


class CrawlDelayMiddleware:
    """Honour robots.txt's Crawl-delay: one request at a time to that host, that far apart.

    Scrapy reads robots.txt for Disallow lines only (an open Scrapy issue); this reads the
    same response as it passes through, and applies the delay to the host's download slot.
    """

    # A Crawl-delay longer than this is a typo or a "go away": it is capped, and said so.
    MAX_DELAY = 60.0

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.user_agent = crawler.settings.get("USER_AGENT", "")

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrawlDelayMiddleware:
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        # Download slots are created and dropped by Scrapy as hosts come and go.
        self.apply(request)

    def process_response(self, request: Request, response: Response) -> Response:
        if urlsplit(request.url).path == "/robots.txt" and response.status == 200:
            delay = crawl_delay(response.body, self.user_agent)
            host = urlsplit(request.url).hostname or ""
            if delay and host not in self.delays:
                self.delays[host] = min(delay, self.MAX_DELAY)
                log.warning(
                    "%s asks crawlers to wait %gs between requests (robots.txt Crawl-delay): "
                    "siteaudit fetches its pages one at a time, that far apart",
                    host,
                    self.delays[host],
                )
                self.apply(request)
        return response

    @property
    def delays(self) -> dict[str, float]:
        return self.crawler.spider.context.crawl_delays

    def apply(self, request: Request) -> None:
        host = urlsplit(request.url).hostname or ""
        delay = self.delays.get(host)
        slot = self.crawler.engine.downloader.slots.get(request.meta.get("download_slot", host))
        if delay and slot is not None and slot.delay < delay:
            slot.delay, slot.jitter, slot.concurrency = delay, 0.0, 1


def crawl_delay(robots_txt: bytes, user_agent: str) -> float | None:
    """The Crawl-delay robots.txt sets for this user agent (or for every agent), if any."""
    try:
        parser = Protego.parse(robots_txt.decode("utf-8", "replace"))
        delay = parser.crawl_delay(user_agent)
    except Exception:  # noqa: BLE001 - a broken robots.txt sets no delay
        return None
    return float(delay) if delay else None


class PoliteThrottle(AutoThrottle):
    """Scrapy's AutoThrottle (slower when the server slows), never below a Crawl-delay."""

    def _adjust_delay(self, slot: Any, latency: float, response: Response) -> None:
        super()._adjust_delay(slot, latency, response)
        host = urlsplit(response.url).hostname or ""
        floor = self.crawler.spider.context.crawl_delays.get(host, 0.0)
        slot.delay = max(slot.delay, floor)


class PrivateNetworkMiddleware:
    """Never fetch an address on a private network unless the configuration allows it.

    A public page can link to http://169.254.169.254/ or a router's admin page; checking
    that link would make the crawler a way into the network it runs on. The site's own
    hosts (the allowed domains, which the user named) and site.private_hosts are allowed.
    """

    def __init__(self, crawler: Any, allowed: tuple[str, ...]) -> None:
        self.crawler = crawler
        self.allowed = allowed
        self.verdicts: dict[str, bool] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> PrivateNetworkMiddleware:
        return cls(crawler, tuple(crawler.settings.getlist("SITEAUDIT_PRIVATE_HOSTS")))

    async def process_request(self, request: Request) -> None:
        host = (urlsplit(request.url).hostname or "").lower()
        context = self.crawler.spider.context
        if host_allowed(request.url, context.allowed_domains + self.allowed):
            return
        if host not in self.verdicts:
            self.verdicts[host] = await resolves_to_private(host)
        if self.verdicts[host]:
            raise IgnoreRequest(
                f"{host} is on a private network; add it to site.private_hosts to check it"
            )


async def resolves_to_private(host: str) -> bool:
    """True if the host is, or resolves to, a loopback, private, link-local or reserved
    address. A name that does not resolve is left to the download to report."""
    try:
        return is_private_address(host.strip("[]"))
    except ValueError:
        pass  # a name, not an address
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return False
    return any(is_private_address(info[4][0]) for info in infos)
