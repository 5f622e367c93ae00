"""Downloader middlewares for a polite crawl: Retry-After honoured, firewalls noticed."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from typing import Any

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response

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
