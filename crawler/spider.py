"""The discovery spider: start URLs, sitemaps and links, every response classified once."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import struct
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import IgnoreRequest, StopDownload
from scrapy.http import Response
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots
from twisted.python.failure import Failure

from audits.documents import document_kind
from crawler.middlewares import OffsiteRedirect
from crawler.page_reader import PageReader
from crawler.progress import Counters
from crawler.reasons import reason_for_failure, reason_for_status
from settings.model import Config
from vocabulary.urls import (
    UNFETCHABLE_SCHEMES,
    host_allowed,
    is_html,
    media_type,
    normalise_url,
    scheme_of,
)

log = logging.getLogger(__name__)

# Crawler traps: no council page sits this deep, or repeats a folder this often.
ERROR_STATUSES = list(range(400, 600))
MAX_PATH_SEGMENTS = 15
LOGOUT = re.compile(r"(log|sign)[-_]?(out|off)", re.IGNORECASE)
MAX_SEGMENT_REPEATS = 3
DIGITS = re.compile(r"\d+")


@dataclass
class ScanContext:
    """What the spider and pipelines share for one scan."""

    scan_id: int
    config: Config
    allowed_domains: tuple[str, ...]
    counters: Counters
    seen: set[str] = field(default_factory=set)
    # With a browser, each stylesheet is fetched once and hashed: a rescan reuses a page's
    # audit only if its HTML and stylesheets are unchanged (store/previous.py).
    track_stylesheets: bool = False
    stylesheets: dict[str, asyncio.Future[str]] = field(default_factory=dict)
    previous: dict[str, Any] = field(default_factory=dict)
    external_seen: set[str] = field(default_factory=set)
    # host -> external links checked on it (links.max_external_per_host).
    external_per_host: dict[str, int] = field(default_factory=dict)
    shape_runs: dict[str, int] = field(default_factory=dict)
    # When resuming: (url, depth, linking page) still to crawl.
    frontier: list[tuple[str, int, str]] = field(default_factory=list)
    blocked: str | None = None
    credentials: Any = None
    # host -> seconds between requests that its robots.txt Crawl-delay asks for.
    crawl_delays: dict[str, float] = field(default_factory=dict)
    # content hash -> readability measured in the previous scan, for unchanged pages.
    known_readability: dict[str, Any] = field(default_factory=dict)
    # Reads each page's HTML in a worker process (crawler/page_reader.py).
    page_reader: PageReader = field(default_factory=lambda: PageReader(budget=0))


class SiteSpider(scrapy.Spider):
    name = "site"
    # Scrapy starts this many asyncio tasks for the output of every response, however little
    # it yields (a page yields one item and a few requests): 100, the default, cost about a
    # millisecond a page without the browser.
    custom_settings: ClassVar[dict[str, Any]] = {"CONCURRENT_ITEMS": 8}

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
        for url, depth, source in self.context.frontier:
            if request := self.page_request(url, depth=depth, source=source, via="link"):
                yield request
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
        if LOGOUT.search(urlsplit(url).path):
            return None  # following a logout link would end a staging session
        if self.is_trap(url, source):
            self.record_skipped(url, "trap", "not fetched: looks like a crawler trap")
            return None
        self.context.counters.found += 1
        meta = {
            "kind": "page",
            "depth": depth,
            "source": source,
            "via": via,
            "lastmod": lastmod,
            # Errors reach parse_page to be recorded; redirects are still followed.
            "handle_httpstatus_list": ERROR_STATUSES,
        }
        # dont_filter: the spider de-duplicates itself, and Scrapy's filter would silently
        # drop a redirect back to a visited URL, losing the page's reason (a redirect loop).
        return scrapy.Request(
            url, callback=self.parse_page, errback=self.on_error, meta=meta, dont_filter=True
        )

    def is_trap(self, url: str, source: str | None) -> bool:
        """Endless calendars and repeating paths.

        A trap is a chain of pages of one shape (digits and query values aside), each linking
        the next, like /calendar/2026/11 -> /calendar/2026/12 -> ...; thousands of planning
        applications of one shape linked from an index are not. Absurdly deep or repeating
        paths are traps too.
        """
        segments = [s for s in urlsplit(url).path.split("/") if s]
        if len(segments) > MAX_PATH_SEGMENTS or any(
            segments.count(s) > MAX_SEGMENT_REPEATS for s in segments
        ):
            return True
        same_shape = source is not None and url_shape(source) == url_shape(url)
        run = self.context.shape_runs.get(source, 1) + 1 if same_shape else 1
        self.context.shape_runs[url] = run
        return run > self.site.max_shape_chain

    def record_skipped(self, url: str, reason: str, error: str) -> None:
        self.context.counters.skipped_traps += 1
        self.writer.put(
            "fetches",
            [
                {
                    "scan_id": self.context.scan_id,
                    "url": url,
                    "final_url": url,
                    "status_code": None,
                    "content_type": None,
                    "kind": "page",
                    "error": error,
                    "reason": reason,
                }
            ],
        )

    def sitemap_request(self, url: str) -> scrapy.Request:
        return scrapy.Request(
            url, callback=self.parse_sitemap, errback=self.ignore, meta={"kind": "sitemap"}
        )

    def on_headers(
        self, headers: Any, body_length: int, request: scrapy.Request, spider: scrapy.Spider
    ) -> None:
        """Stop downloading a document's body: it is recorded from its headers."""
        kind = request.meta.get("kind")
        if kind == "external":
            raise StopDownload(fail=False)  # the status is all a link check needs
        if kind == "page":
            content_type = headers.get(b"Content-Type", b"").decode("latin-1")
            length = headers.get(b"Content-Length")
            if (
                is_html(content_type)
                and length
                and length.isdigit()
                and (int(length) > self.site.max_page_bytes)
            ):
                raise StopDownload(fail=True)  # recorded as too-large
            if (
                content_type
                and not is_html(content_type)
                and not self.checks_document(
                    content_type, request.url, headers.get(b"Content-Length")
                )
            ):
                raise StopDownload(fail=False)

    def checks_document(self, content_type: str, url: str, length: bytes | None) -> bool:
        """Download a document's body only to check it: a known kind, within the size limit."""
        documents = self.context.config.documents
        if not documents.check or document_kind(b"", media_type(content_type), url) == "other":
            return False
        return length is None or not length.isdigit() or int(length) <= documents.max_bytes

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        for url in sitemap_urls_from_robots(response.body, base_url=response.url):
            yield self.sitemap_request(url)

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        settings = self.crawler.settings
        body = sitemap_body(
            response.body,
            response.meta.get("download_maxsize", settings.getint("DOWNLOAD_MAXSIZE")),
        )
        if body is None:
            log.warning(
                "sitemap skipped: %s is too large (over the download limit once inflated, "
                "or more than %d tags)",
                response.url,
                MAX_SITEMAP_TAGS,
            )
            return
        if len(response.body) < settings.getint("DOWNLOAD_WARNSIZE") <= len(body):
            log.warning("sitemap %s inflates to %d bytes", response.url, len(body))
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

    async def parse_page(self, response: Response) -> AsyncIterator[Any]:
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
        async for item in self.page_items(response, url, content_type):
            yield item

    async def page_items(
        self, response: Response, url: str, content_type: str
    ) -> AsyncIterator[Any]:
        meta = response.meta
        last_modified = response.headers.get("Last-Modified")
        # Read in a worker process within a time budget, never on the reactor thread.
        reading = await self.context.page_reader.read(
            response.text,
            last_modified_header=last_modified.decode("latin-1") if last_modified else None,
            sitemap_lastmod=meta.get("lastmod"),
            fetched_at=datetime.now(UTC),
            known_readability=self.context.known_readability,
        )
        if reading is None:
            return  # the scan stopped while the page was read: --resume reads it again
        facts = reading.facts
        depth = meta.get("depth", 0)
        links = []
        for link in facts.links:
            target = self.link_target(link.href, response.url)
            if target is None:
                continue
            internal = allowed_cached(target, self.context.allowed_domains)
            if not internal:
                for request in self.external_request(target):
                    yield request
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
        stylesheet_urls = []
        if self.context.track_stylesheets:
            for href in facts.stylesheets:
                target = self.link_target(href, response.url)
                if target and scheme_of(target) in ("http", "https"):
                    stylesheet_urls.append(target)
                    for request in self.stylesheet_request(target):
                        yield request
        yield {
            "table": "page",
            "stylesheets": stylesheet_urls,
            "url": url,
            "response": response,
            "facts": facts,
            "depth": depth,
            "via": meta.get("via"),
            "lastmod": meta.get("lastmod"),
            "content_type": content_type,
            "links": links,
            "reason": reading.reason,
            "error": reading.error,
        }

    def external_request(self, url: str, method: str = "HEAD") -> Iterator[scrapy.Request]:
        """Check an off-site link once per scan: its status only, never its content."""
        links = self.context.config.links
        host = urlsplit(url).hostname or ""
        if method == "HEAD" and (
            url in self.context.external_seen
            or not links.check_external
            or scheme_of(url) not in ("http", "https")
            or not links.should_check(host)
        ):
            return
        self.context.external_seen.add(url)
        if method == "HEAD" and not self.within_external_caps(host):
            return
        # A single request to see a link works is not crawling: robots.txt does not apply.
        meta = {
            "kind": "external",
            "allow_offsite": True,
            "dont_obey_robotstxt": True,
            "handle_httpstatus_all": True,
            "download_timeout": links.timeout,
            "max_retry_times": 1,  # another site's link: one retry is polite enough
            "link": url,
        }
        yield scrapy.Request(
            url,
            method=method,
            callback=self.parse_external,
            errback=self.external_failed,
            meta=meta,
            dont_filter=True,
            priority=-10,
        )

    def within_external_caps(self, host: str) -> bool:
        """Count one more link to check, if the caps allow: one page must not direct
        thousands of requests at another site (links.max_external, max_external_per_host)."""
        links, counters = self.context.config.links, self.context.counters
        per_host = self.context.external_per_host
        if counters.external_checked >= links.max_external:
            counters.external_over_scan_cap += 1
            return False
        if per_host.get(host, 0) >= links.max_external_per_host:
            counters.external_over_host_cap += 1
            if per_host[host] == links.max_external_per_host:
                counters.external_capped_hosts += 1
                per_host[host] += 1  # counted once as a capped host
            return False
        per_host[host] = per_host.get(host, 0) + 1
        counters.external_checked += 1
        return True

    def parse_external(self, response: Response) -> Iterator[Any]:
        link = response.meta["link"]
        if response.request.method == "HEAD" and response.status in (403, 405, 501):
            yield from self.external_request(link, method="GET")  # some servers refuse HEAD
            return
        yield {
            "table": "fetches",
            "row": {
                "url": link,
                "final_url": response.url,
                "status_code": response.status,
                "content_type": media_type(
                    response.headers.get("Content-Type", b"").decode("latin-1")
                ),
                "kind": "external",
                "error": None,
            },
        }

    def external_failed(self, failure: Failure) -> Iterator[dict[str, Any]]:
        request = failure.request  # type: ignore[attr-defined]
        if reason_for_failure(failure) == "private-network":
            # Not checked, as for hosts that links.allow leaves out: not a broken link.
            log.info("not checked: %s", failure.value)
            return
        yield {
            "table": "fetches",
            "row": {
                "url": request.meta["link"],
                "final_url": request.url,
                "status_code": None,
                "content_type": None,
                "kind": "external",
                "error": describe_failure(failure),
            },
        }

    def stylesheet_request(self, url: str) -> Iterator[scrapy.Request]:
        """Fetch a stylesheet once per scan; pages wait on its hash, never on the request."""
        if url in self.context.stylesheets:
            return
        future = asyncio.get_event_loop().create_future()
        self.context.stylesheets[url] = future
        if not host_allowed(url, self.context.allowed_domains):
            future.set_result(f"external:{url}")  # off-site (CDN) files are versioned by URL
            return
        yield scrapy.Request(
            url,
            callback=self.parse_stylesheet,
            errback=self.stylesheet_failed,
            dont_filter=True,
            meta={"kind": "stylesheet"},
            priority=10,
        )

    def parse_stylesheet(self, response: Response) -> None:
        digest = hashlib.sha256(response.body).hexdigest()
        self._resolve(response.request.url, f"{response.status}:{digest}")

    def stylesheet_failed(self, failure: Failure) -> None:
        self._resolve(failure.request.url, f"error:{type(failure.value).__name__}")  # type: ignore[attr-defined]

    def _resolve(self, url: str, value: str) -> None:
        future = self.context.stylesheets.get(url)
        if future is not None and not future.done():
            future.set_result(value)

    def link_target(self, href: str, base: str) -> str | None:
        """The normalised URL a link points at; other schemes are kept as written."""
        href = href.strip()
        if not href or href.startswith("#"):
            return None
        if ROOTED.match(href):
            base = origin_of(base)  # the base's path and query cannot change where it points
        return resolved_link(href, base, self.site.strip_query_params)

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
                "reason": reason_for_status(response.status),
            },
        }

    def document_row(self, response: Response, url: str, content_type: str) -> dict[str, Any]:
        length = response.headers.get("Content-Length")
        size = int(length) if length and length.isdigit() else len(response.body)
        # The body is there only if the document was downloaded to be checked, in full.
        complete = size > 0 and len(response.body) == size
        return {
            "table": "documents",
            "row": {
                "url": url,
                "content_type": media_type(content_type),
                "bytes": size,
                "linked_from": response.meta.get("source"),
                "status_code": response.status,
            },
            "body": response.body if complete else None,
        }

    def on_error(self, failure: Failure) -> Iterator[Any]:
        """A page that could not be fetched: record why, and carry on."""
        request = failure.request  # type: ignore[attr-defined]
        if isinstance(failure.value, OffsiteRedirect):
            yield from self.offsite_redirect(request, failure.value)
            return
        error, reason = describe_failure(failure), reason_for_failure(failure)
        if reason == "disallowed-by-robots":
            self.context.counters.disallowed += 1
        else:
            self.context.counters.fetch_failed += 1
        log.info("%s: %s", request.url, error)
        yield {
            "table": "fetches",
            "row": {
                "url": (request.meta.get("redirect_urls") or [request.url])[0],
                "final_url": request.url,
                "status_code": None,
                "content_type": None,
                "kind": None,
                "error": error,
                "reason": reason,
            },
        }

    def offsite_redirect(self, request: scrapy.Request, redirect: OffsiteRedirect) -> Iterator[Any]:
        """A page that redirects to another site: recorded, and its target checked as a link.

        Not an error (a council's payment page may well live elsewhere), so links to it are
        not broken; the target is kept as a link of the page that linked here, so that a
        broken target is reported on that page.
        """
        url = self.first_url_of(request)
        target = resolved_link(redirect.target, request.url, self.site.strip_query_params)
        log.info("%s redirects off the allowed domains, to %s: not followed", url, target)
        yield {
            "table": "fetches",
            "row": {
                "url": url,
                "final_url": target,
                "status_code": redirect.status,
                "content_type": None,
                "kind": "page",
                "error": None,
                "reason": "offsite-redirect",
            },
        }
        yield {
            "table": "links",
            "row": {
                "source_url": request.meta.get("source") or url,
                "target_url": target,
                "link_text": f"redirect from {url}",
                "internal": 0,
            },
        }
        yield from self.external_request(target)

    def first_url_of(self, request: scrapy.Request) -> str:
        return (request.meta.get("redirect_urls") or [request.url])[0]

    def ignore(self, failure: Failure) -> None:
        log.info("skipped %s: %s", failure.request.url, failure.value)  # type: ignore[attr-defined]


# "/path", "//host/path" and "scheme://host/path" resolve against the base's scheme and
# host alone, so they resolve the same from every page of a site: worth caching.
ROOTED = re.compile(r"/|[a-zA-Z][a-zA-Z0-9+.-]*://")


@lru_cache(maxsize=1024)
def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


@lru_cache(maxsize=1 << 15)
def resolved_link(href: str, base: str, strip_params: tuple[str, ...]) -> str:
    """A link's target; cached, because a site's menus repeat the same links on every page."""
    if scheme_of(href) in UNFETCHABLE_SCHEMES:
        return href[:500]
    try:
        return normalise_url(href, base=base, strip_params=strip_params)
    except ValueError:
        return href[:500]


@lru_cache(maxsize=1 << 15)
def allowed_cached(url: str, allowed_domains: tuple[str, ...]) -> bool:
    return host_allowed(url, allowed_domains)


def url_shape(url: str) -> str:
    """A URL with its digits and query values taken out: /calendar/#/#?month."""
    parts = urlsplit(url)
    keys = sorted(k for k, _ in parse_qsl(parts.query, keep_blank_values=True))
    return DIGITS.sub("#", parts.path) + "?" + "&".join(keys)


def describe_failure(failure: Failure) -> str:
    """One short phrase for why a fetch failed."""
    value = failure.value
    if isinstance(value, IgnoreRequest):
        text = str(value) or "ignored"
        return "disallowed by robots.txt" if "robots" in text.lower() else f"not fetched: {text}"
    name = type(value).__name__
    text = str(value).splitlines()[0] if str(value) else ""
    if "certificate verify failed" in text:
        return (
            "the HTTPS certificate is not trusted (certificate verify failed); if the site "
            "uses its own certificate authority, set site.ca_file to its PEM file"
        )
    return f"{name}: {text}"[:300] if text else name


# 50,000 URLs (the sitemap protocol's limit), each with a few children or alternates, each
# tag counted twice (open, close). More is junk that Scrapy's reader keeps in memory: 8
# million empty tags (31 MB, from a 30 KB gzip) took 55 s and 1 GB.
MAX_SITEMAP_TAGS = 1_200_000


def sitemap_body(body: bytes, max_size: int) -> bytes | None:
    """A sitemap's XML: gzipped ones inflated as Scrapy's SitemapSpider does, up to max_size
    bytes (a 255 KB file can inflate to gigabytes); None if it inflates past that, or has
    more tags than a sitemap may."""
    if body[:2] == b"\x1f\x8b":
        try:
            body = gunzip(body, max_size=max_size)
        except ValueError:  # scrapy.utils.gz raises its size error as a ValueError
            return None
        except (OSError, EOFError, struct.error):
            return b""  # not gzip after all: read as an empty, broken sitemap
    return None if body.count(b"<") > MAX_SITEMAP_TAGS else body
