"""The discovery spider: start URLs, sitemaps and links, every response classified once."""

from __future__ import annotations

import gzip
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy import signals
from scrapy.exceptions import IgnoreRequest, StopDownload
from scrapy.http import Response
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots
from twisted.python.failure import Failure

from audits.page import parse_page
from crawler.config import Config
from crawler.progress import Counters
from crawler.urls import (
    UNFETCHABLE_SCHEMES,
    host_allowed,
    is_html,
    media_type,
    normalise_url,
    scheme_of,
)

log = logging.getLogger(__name__)


@dataclass
class ScanContext:
    """What the spider and pipelines share for one scan."""

    scan_id: int
    config: Config
    allowed_domains: tuple[str, ...]
    counters: Counters
    seen: set[str] = field(default_factory=set)


class SiteSpider(scrapy.Spider):
    name = "site"

    def __init__(
        self,
        context: ScanContext,
        pool: Any = None,
        writer: Any = None,
        queue_size: int = 4,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.context = context
        # The pipelines reach these through the crawler's spider.
        self.pool, self.writer, self.queue_size = pool, writer, queue_size
        self.site = context.config.site
        # Scrapy's OffsiteMiddleware reads this, for links and for redirects alike.
        self.allowed_domains = list(context.allowed_domains)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SiteSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_headers, signal=signals.headers_received)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.site.start_urls:
            if request := self.page_request(url, depth=0, source=None, via="start"):
                yield request
        for url in self.site.sitemap_urls:
            yield self.sitemap_request(url)
        if self.site.sitemaps:
            for root in {normalise_url("/", base=url) for url in self.site.start_urls}:
                yield scrapy.Request(
                    root + "robots.txt",
                    callback=self.parse_robots,
                    errback=self.ignore,
                    meta={"kind": "robots"},
                )
                yield self.sitemap_request(root + "sitemap.xml")

    def page_request(
        self, url: str, depth: int, source: str | None, via: str, lastmod: str | None = None
    ) -> scrapy.Request | None:
        """A request for a URL not seen before, within the page limit and allowed hosts."""
        if url in self.context.seen or not host_allowed(url, self.context.allowed_domains):
            return None
        if len(self.context.seen) >= self.site.max_pages:
            self.context.counters.skipped_over_limit += 1
            return None
        self.context.seen.add(url)
        self.context.counters.found += 1
        meta = {
            "kind": "page",
            "depth": depth,
            "source": source,
            "via": via,
            "lastmod": lastmod,
            "handle_httpstatus_all": True,
        }
        return scrapy.Request(url, callback=self.parse_page, errback=self.on_error, meta=meta)

    def sitemap_request(self, url: str) -> scrapy.Request:
        return scrapy.Request(
            url, callback=self.parse_sitemap, errback=self.ignore, meta={"kind": "sitemap"}
        )

    def on_headers(
        self, headers: Any, body_length: int, request: scrapy.Request, spider: scrapy.Spider
    ) -> None:
        """Stop downloading a document's body: it is recorded from its headers."""
        if request.meta.get("kind") == "page":
            content_type = headers.get(b"Content-Type", b"").decode("latin-1")
            if content_type and not is_html(content_type):
                raise StopDownload(fail=False)

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        for url in sitemap_urls_from_robots(response.body, base_url=response.url):
            yield self.sitemap_request(url)

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        body = response.body
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        try:
            sitemap = Sitemap(body)
        except Exception:  # noqa: BLE001 - a broken sitemap is skipped, not fatal
            log.info("not a sitemap: %s", response.url)
            return
        for entry in sitemap:
            loc = normalise_url(entry.get("loc", ""), strip_params=self.site.strip_query_params)
            if sitemap.type == "sitemapindex":
                yield self.sitemap_request(loc)
            elif request := self.page_request(
                loc, depth=0, source=None, via="sitemap", lastmod=entry.get("lastmod")
            ):
                yield request

    def parse_page(self, response: Response) -> Iterator[Any]:
        self.context.counters.fetched += 1
        content_type = response.headers.get("Content-Type", b"").decode("latin-1")
        yield self.fetch_row(response, content_type)
        url = normalise_url(response.url, strip_params=self.site.strip_query_params)
        if response.status >= 400:
            self.context.counters.http_errors += 1
            return
        if url != self.first_url(response):
            if url in self.context.seen:
                return  # a redirect to a page that is recorded under its own request
            self.context.seen.add(url)
        if not is_html(content_type):
            yield self.document_row(response, url, content_type)
            return
        yield from self.page_items(response, url, content_type)

    def page_items(self, response: Response, url: str, content_type: str) -> Iterator[Any]:
        meta = response.meta
        last_modified = response.headers.get("Last-Modified")
        facts = parse_page(
            response.text,
            last_modified_header=last_modified.decode("latin-1") if last_modified else None,
            sitemap_lastmod=meta.get("lastmod"),
            fetched_at=datetime.now(UTC),
        )
        depth = meta.get("depth", 0)
        links = []
        for link in facts.links:
            target = self.link_target(link.href, response.url)
            if target is None:
                continue
            internal = host_allowed(target, self.context.allowed_domains)
            links.append(
                {
                    "source_url": url,
                    "target_url": target,
                    "link_text": link.text,
                    "internal": int(internal),
                }
            )
            if (
                internal
                and depth < self.site.max_depth
                and (request := self.page_request(target, depth + 1, url, "link"))
            ):
                yield request
        yield {
            "table": "page",
            "url": url,
            "response": response,
            "facts": facts,
            "depth": depth,
            "via": meta.get("via"),
            "lastmod": meta.get("lastmod"),
            "content_type": content_type,
            "links": links,
        }

    def link_target(self, href: str, base: str) -> str | None:
        """The normalised URL a link points at; other schemes are kept as written."""
        href = href.strip()
        if not href or href.startswith("#"):
            return None
        if scheme_of(href) in UNFETCHABLE_SCHEMES:
            return href[:500]
        try:
            return normalise_url(href, base=base, strip_params=self.site.strip_query_params)
        except ValueError:
            return href[:500]

    def first_url(self, response: Response) -> str:
        return (response.meta.get("redirect_urls") or [response.request.url])[0]

    def fetch_row(self, response: Response, content_type: str) -> dict[str, Any]:
        return {
            "table": "fetches",
            "row": {
                "url": self.first_url(response),
                "final_url": response.url,
                "status_code": response.status,
                "content_type": media_type(content_type),
                "kind": "page" if is_html(content_type) else "document",
                "error": None,
            },
        }

    def document_row(self, response: Response, url: str, content_type: str) -> dict[str, Any]:
        length = response.headers.get("Content-Length")
        size = int(length) if length and length.isdigit() else len(response.body)
        return {
            "table": "documents",
            "row": {
                "url": url,
                "content_type": media_type(content_type),
                "bytes": size,
                "linked_from": response.meta.get("source"),
                "status_code": response.status,
            },
        }

    def on_error(self, failure: Failure) -> Iterator[dict[str, Any]]:
        """A page that could not be fetched: record why, and carry on."""
        request = failure.request  # type: ignore[attr-defined]
        reason = describe_failure(failure)
        if reason == "disallowed by robots.txt":
            self.context.counters.disallowed += 1
        else:
            self.context.counters.fetch_failed += 1
        log.info("%s: %s", request.url, reason)
        yield {
            "table": "fetches",
            "row": {
                "url": (request.meta.get("redirect_urls") or [request.url])[0],
                "final_url": request.url,
                "status_code": None,
                "content_type": None,
                "kind": None,
                "error": reason,
            },
        }

    def ignore(self, failure: Failure) -> None:
        log.info("skipped %s: %s", failure.request.url, failure.value)  # type: ignore[attr-defined]


def describe_failure(failure: Failure) -> str:
    """One short phrase for why a fetch failed."""
    value = failure.value
    if isinstance(value, IgnoreRequest):
        text = str(value) or "ignored"
        return "disallowed by robots.txt" if "robots" in text.lower() else f"not fetched: {text}"
    name = type(value).__name__
    text = str(value).splitlines()[0] if str(value) else ""
    return f"{name}: {text}"[:300] if text else name
