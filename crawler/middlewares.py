"""Downloader middlewares and throttling for a polite crawl that stays off private networks."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from protego import Protego
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import CannotResolveHostError, IgnoreRequest, NotConfigured
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Request, Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from crawler.context import CrawlContext, crawl_context
from crawler.resolver import PrivateNetworkResolver
from vocabulary.urls import host_allowed, is_private_address

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

    def __init__(self, crawler: Any, context: CrawlContext, threshold: int) -> None:
        self.crawler, self.context = crawler, context
        self.threshold = threshold
        self.run = 0
        self.closing: asyncio.Future[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> FirewallMiddleware:
        threshold = crawler.settings.getint("SITEAUDIT_BLOCKED_AFTER", 20)
        return cls(crawler, crawl_context(crawler), threshold)

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
        if self.context.blocked is None:
            self.context.blocked = (
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

    def __init__(self, crawler: Any, delays: dict[str, float]) -> None:
        self.crawler = crawler
        self.user_agent = crawler.settings.get("USER_AGENT", "")
        # host -> its Crawl-delay, shared with PoliteThrottle.
        self.delays = delays

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrawlDelayMiddleware:
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured
        return cls(crawler, crawl_context(crawler).crawl_delays)

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

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        # host -> its Crawl-delay, as CrawlDelayMiddleware reads it from robots.txt.
        self.floors = crawl_context(crawler).crawl_delays

    def _adjust_delay(self, slot: Any, latency: float, response: Response) -> None:
        # Scrapy lets only a 200 lower the delay (an error page is small and quick). A 304
        # Not Modified is the whole answer to a rescan's question, as quick as the server
        # is: counted as a 200, or a rescan of unchanged pages only ever slows down (one
        # slow answer and the delay stayed up: 500 pages took 1.7x the first scan's time).
        if response.status == HTTPStatus.NOT_MODIFIED:
            response = response.replace(status=200)
        super()._adjust_delay(slot, latency, response)
        host = urlsplit(response.url).hostname or ""
        slot.delay = max(slot.delay, self.floors.get(host, 0.0))


class PrivateNetworkMiddleware:
    """Never fetch an address on a private network unless the configuration allows it.

    A public page can link to http://169.254.169.254/ or a router's admin page; checking
    that link would make the crawler a way into the network it runs on. The check itself is
    made where the connection is made (crawler/resolver.py); this refuses at once what is
    already known to be private (an address written in the URL, a host the resolver has
    refused) and gives the refusal its reason. Only the hosts the user named (the allowed
    domains as written, and site.private_hosts) may be private; their subdomains may not.
    """

    def __init__(self, private_ok: frozenset[str]) -> None:
        self.private_ok = private_ok

    @classmethod
    def from_crawler(cls, crawler: Any) -> PrivateNetworkMiddleware:
        return cls(frozenset(crawler.settings.getlist("SITEAUDIT_PRIVATE_OK")))

    def process_request(self, request: Request) -> None:
        host = (urlsplit(request.url).hostname or "").lower()
        if host in self.private_ok:
            return
        try:
            private = is_private_address(host)
        except ValueError:  # a name: known private once the resolver has refused it
            private = refused_by_resolver(host)
        if private:
            raise private_network(host)

    def process_exception(self, request: Request, exception: Exception) -> None:
        host = (urlsplit(request.url).hostname or "").lower()
        if isinstance(exception, CannotResolveHostError) and refused_by_resolver(host):
            raise private_network(host)


def private_network(host: str) -> IgnoreRequest:
    return IgnoreRequest(
        f"{host} is on a private network; add it to site.private_hosts to check it"
    )


def refused_by_resolver(host: str) -> bool:
    """True if the crawler's resolver gave this host no address for being private."""
    from twisted.internet import reactor

    resolver = getattr(reactor, "nameResolver", None)
    return isinstance(resolver, PrivateNetworkResolver) and resolver.was_refused(host)


class OffsiteRedirect(IgnoreRequest):
    """A page redirected off the allowed domains: recorded with its target, never fetched."""

    def __init__(self, target: str, status: int) -> None:
        super().__init__(f"redirected off the allowed domains, to {target}")
        self.target, self.status = target, status


class StayOnSite:
    """Follow a page's redirect only within the allowed domains.

    Page requests skip Scrapy's offsite filter (dont_filter, so that the spider can record
    redirect loops), and Scrapy's redirects keep custom headers: without this, a redirect to
    another host would be crawled and stored as the site's page, and sent its credentials.
    A form login's redirects stay on the allowed domains too (crawler/login.py).
    A subclass of Scrapy's redirect middleware is how its documentation suggests allowing
    some redirect targets and not others (scrapy/scrapy#4009).
    """

    allowed_domains: tuple[str, ...]

    @classmethod
    def from_crawler(cls, crawler: Any) -> Any:
        middleware = super().from_crawler(crawler)  # type: ignore[misc]
        middleware.allowed_domains = crawl_context(crawler).allowed_domains
        return middleware

    def process_response(self, request: Request, response: Response) -> Request | Response:
        result = super().process_response(request, response)  # type: ignore[misc]
        if (
            isinstance(result, Request)
            and request.meta.get("kind") in ("page", "login")
            and not host_allowed(result.url, self.allowed_domains)
        ):
            raise OffsiteRedirect(result.url, response.status)
        return result


class OnSiteRedirectMiddleware(StayOnSite, RedirectMiddleware):
    """Scrapy's HTTP redirects (3xx with Location), within the allowed domains for pages."""


class OnSiteMetaRefreshMiddleware(StayOnSite, MetaRefreshMiddleware):
    """Scrapy's <meta http-equiv="refresh"> redirects, within the allowed domains for pages."""


class EveryWaiterRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, with every request that waits for a host's robots.txt
    judged by it. In Scrapy 2.19 (scrapy/scrapy#6802) the requests waiting while robots.txt
    downloads all await one Deferred, whose first waiter takes the parser and leaves None to
    the rest, which Scrapy reads as "no robots.txt": they were fetched even if disallowed
    (a disallowed start URL, or pages a worker takes from a shared frontier at once)."""

    async def robot_parser(self, request: Request) -> RobotParser | None:
        parser = self._parsers.get(urlparse_cached(request).netloc)
        if not isinstance(parser, Deferred):
            return await super().robot_parser(request)
        waiter: Deferred[RobotParser | None] = Deferred()

        def hand_on(result: RobotParser | None) -> RobotParser | None:
            waiter.callback(result)
            return result  # for the next waiter, as Scrapy before 2.13 did

        parser.addCallback(hand_on)
        return await maybe_deferred_to_future(waiter)
