"""The discovery spider: start URLs, sitemaps and links, every response classified once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, ClassVar

import scrapy
from scrapy import signals
from scrapy.exceptions import StopDownload
from scrapy.http import Response
from scrapy.utils.sitemap import sitemap_urls_from_robots
from twisted.python.failure import Failure

from audits.documents import document_kind
from audits.page import Link as PageLink
from audits.page import PageFacts
from crawler import stats
from crawler.context import ScanContext, scan_context
from crawler.items import Document, Fetch, Link, Page
from crawler.link_checks import ExternalLinkChecks
from crawler.link_targets import allowed_cached, link_target, resolved_link
from crawler.middlewares import OffsiteRedirect
from crawler.reasons import describe_failure, reason_for_failure, reason_for_status
from crawler.sitemaps import SitemapsPending, read_sitemap
from crawler.stylesheets import StylesheetHashes, page_render_hash
from crawler.traps import TrapDetector, is_logout
from crawler.unchanged import PreviousReadings, conditional_headers, facts_of
from vocabulary.urls import host_allowed, is_html, media_type, normalise_url, scheme_of

log = logging.getLogger(__name__)

# A page's error status reaches its callback, to be recorded.
ERROR_STATUSES = list(range(400, 600))
# How long pages wait for the site's sitemaps before they are read without their dates.
SITEMAP_WAIT = 30.0


class SiteSpider(scrapy.Spider):
    name = "site"
    # Scrapy starts this many asyncio tasks for the output of every response, however little
    # it yields (a page yields one item and a few requests): 100, the default, cost about a
    # millisecond a page without the browser.
    custom_settings: ClassVar[dict[str, Any]] = {"CONCURRENT_ITEMS": 8}

    def __init__(self, context: ScanContext, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.context = context
        self.site = context.config.site
        # Scrapy's OffsiteMiddleware reads this, for links and for redirects alike.
        self.allowed_domains = list(context.allowed_domains)
        self.traps = TrapDetector(self.site.max_shape_chain)
        self.stylesheets = StylesheetHashes(context.stylesheets, context.allowed_domains)
        self.sitemaps = SitemapsPending(SITEMAP_WAIT)
        self.readings = PreviousReadings(context.writer.db_path)
        self.links: ExternalLinkChecks  # set in from_crawler: it counts in the crawler's stats

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SiteSpider:
        spider = cls(scan_context(crawler), *args, **kwargs)
        spider._set_crawler(crawler)
        spider.links = ExternalLinkChecks(spider.context.config.links, crawler)
        crawler.signals.connect(spider.on_headers, signal=signals.headers_received)
        crawler.signals.connect(spider.readings.close, signal=signals.spider_closed)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        # Sitemaps first: pages wait for them (SitemapsPending), to take their dates.
        for url in self.site.sitemap_urls:
            if request := self.sitemap_request(url):
                yield request
        if self.site.sitemaps:
            for root in sorted({normalise_url("/", base=url) for url in self.site.start_urls}):
                if self.sitemaps.ask(root + "robots.txt"):
                    yield scrapy.Request(
                        root + "robots.txt",
                        callback=self.parse_robots,
                        errback=self.sitemap_failed,
                        meta={"kind": "robots"},
                        dont_filter=True,
                    )
                if request := self.sitemap_request(root + "sitemap.xml"):
                    yield request
        self.sitemaps.start()
        for url, depth, source in self.context.frontier:
            if found := self.page_request(url, depth=depth, source=source, via="link"):
                yield found
        for url in self.context.unchecked:
            for check in self.links.requests(url):
                yield check
        for url in self.site.start_urls:
            if found := self.page_request(url, depth=0, source=None, via="start"):
                yield found
        # The configured accessibility statement is judged even if no page links to it.
        statement = self.context.config.statement.url
        if statement and (
            found := self.page_request(normalise_url(statement), depth=0, source=None, via="start")
        ):
            yield found

    def page_request(
        self, url: str, depth: int, source: str | None, via: str
    ) -> scrapy.Request | Fetch | None:
        """A request for a URL not seen before, within the page limit and allowed hosts;
        or, for a crawler trap, the fetch row that records it as skipped."""
        seen = self.context.seen
        if url in seen or not host_allowed(url, self.context.allowed_domains):
            return None
        if len(seen) >= self.site.max_pages:
            self.crawler.stats.inc_value(stats.SKIPPED_OVER_LIMIT)
            return None
        seen.add(url)
        return self.new_page_request(url, depth, source, via)

    def new_page_request(
        self, url: str, depth: int, source: str | None, via: str
    ) -> scrapy.Request | Fetch | None:
        """The request for a URL just marked seen (page_request), or the trap's fetch row."""
        if is_logout(url):
            return None
        if self.traps.is_trap(url, source):
            return self.skipped(url, "trap", "not fetched: looks like a crawler trap")
        self.crawler.stats.inc_value(stats.FOUND)
        meta = {"kind": "page", "depth": depth, "source": source, "via": via}
        return self.fetch_page(url, meta, ask_if_changed=True)

    def fetch_page(self, url: str, meta: dict[str, Any], ask_if_changed: bool) -> scrapy.Request:
        """The request for a page; a conditional one if the last scan read it with
        validators (store/unchanged.py), unless it is being fetched again in full."""
        meta = {k: meta.get(k) for k in ("kind", "depth", "source", "via")}
        # Errors reach parse_page_response to be recorded, and so does a 304 (asked for or
        # not: one nobody asked for is recorded as such, not lost); redirects are followed.
        meta["handle_httpstatus_list"] = [HTTPStatus.NOT_MODIFIED.value, *ERROR_STATUSES]
        headers = {}
        validators = self.context.validators.get(url) if ask_if_changed else None
        if validators is not None:
            headers = conditional_headers(validators)
            meta["unchanged_from"] = validators.scan_id
        # dont_filter: the spider de-duplicates itself, and Scrapy's filter would silently
        # drop a redirect back to a visited URL, losing the page's reason (a redirect loop).
        return scrapy.Request(
            url,
            callback=self.parse_page_response,
            errback=self.on_error,
            headers=headers,
            meta=meta,
            dont_filter=True,
        )

    def unfollowed_check(self, url: str) -> scrapy.Request | None:
        """With links.check_unfollowed, a link to this site the crawl does not follow (its
        page is at max_depth), checked once by its status alone, within the page limit."""
        seen = self.context.seen
        if not self.context.config.links.check_unfollowed or url in seen or is_logout(url):
            return None
        if len(seen) >= self.site.max_pages:
            return None
        seen.add(url)
        return next(self.links.requests(url, kind="link"), None)

    def skipped(self, url: str, reason: str, error: str) -> Fetch:
        """A URL the crawl chose not to fetch, to be recorded with why."""
        self.crawler.stats.inc_value(stats.SKIPPED_TRAPS)
        return Fetch(url, url, None, None, "page", error=error, reason=reason)

    def sitemap_request(self, url: str) -> scrapy.Request | None:
        """A request for a sitemap not asked for before (the spider de-duplicates them, so
        that each one asked for is answered, by its callback or its errback)."""
        if not self.sitemaps.ask(url):
            return None
        return scrapy.Request(
            url,
            callback=self.parse_sitemap,
            errback=self.sitemap_failed,
            meta={"kind": "sitemap"},
            dont_filter=True,
        )

    def on_headers(
        self, headers: Any, body_length: int, request: scrapy.Request, spider: scrapy.Spider
    ) -> None:
        """Stop downloading a document's body: it is recorded from its headers."""
        kind = request.meta.get("kind")
        if kind in ("external", "link"):
            raise StopDownload(fail=False)  # the status is all a link check needs
        if kind != "page":
            return
        content_type = headers.get(b"Content-Type", b"").decode("latin-1")
        length = declared_length(headers)
        if is_html(content_type) and length is not None and length > self.site.max_page_bytes:
            raise StopDownload(fail=True)  # recorded as too-large
        if (
            content_type
            and not is_html(content_type)
            and not self.checks_document(content_type, request.url, length)
        ):
            raise StopDownload(fail=False)

    def checks_document(self, content_type: str, url: str, length: int | None) -> bool:
        """Download a document's body only to check it: a known kind, within the size limit."""
        documents = self.context.config.documents
        if not documents.check or document_kind(b"", media_type(content_type), url) == "other":
            return False
        return length is None or length <= documents.max_bytes

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        try:
            for url in sitemap_urls_from_robots(response.body, base_url=response.url):
                if request := self.sitemap_request(url):
                    yield request
        finally:
            self.sitemaps.answered()

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        try:
            yield from self.sitemap_entries(response)
        finally:
            self.sitemaps.answered()

    def sitemap_failed(self, failure: Failure) -> None:
        self.sitemaps.answered()
        self.ignore(failure)

    def sitemap_entries(self, response: Response) -> Iterator[Any]:
        """The requests for a sitemap's pages (or, for an index, its sitemaps)."""
        settings = self.crawler.settings
        max_size = response.meta.get("download_maxsize", settings.getint("DOWNLOAD_MAXSIZE"))
        sitemap = read_sitemap(response, max_size, settings.getint("DOWNLOAD_WARNSIZE"))
        if sitemap is None:
            return
        for entry in sitemap:
            loc = normalise_url(entry.get("loc", ""), strip_params=self.site.strip_query_params)
            if sitemap.type == "sitemapindex":
                if request := self.sitemap_request(loc):
                    yield request
                continue
            if lastmod := entry.get("lastmod"):
                self.sitemaps.lastmod[loc] = lastmod
            if found := self.page_request(loc, depth=0, source=None, via="sitemap"):
                yield found

    async def parse_page_response(self, response: Response) -> AsyncIterator[Any]:
        """A page request's response: its fetch row, then the page or document it holds."""
        if response.status == HTTPStatus.NOT_MODIFIED:
            if response.meta.get("unchanged_from") is None:
                yield self.unasked_not_modified(response)
                return
            async for item in self.unchanged_items(response):
                yield item
            return
        self.crawler.stats.inc_value(stats.FETCHED)
        content_type = response.headers.get("Content-Type", b"").decode("latin-1")
        yield self.fetch(response, content_type)
        url = normalise_url(response.url, strip_params=self.site.strip_query_params)
        if response.status >= 400:
            self.crawler.stats.inc_value(stats.HTTP_ERRORS)
            return
        if url != first_url(response.request) and not self.mark_redirected(url):
            return  # a redirect to a page that is recorded under its own request
        if not is_html(content_type):
            yield self.document(response, url, content_type)
            return
        async for item in self.page_items(response, url, content_type):
            yield item

    def mark_redirected(self, url: str) -> bool:
        """Mark seen the URL a redirect led to; False if it was seen already."""
        if url in self.context.seen:
            return False
        self.context.seen.add(url)
        return True

    async def page_items(
        self, response: Response, url: str, content_type: str
    ) -> AsyncIterator[Any]:
        """Read the page, then yield the requests for its links and stylesheets, and it."""
        meta = response.meta
        last_modified = response.headers.get("Last-Modified")
        await self.sitemaps.wait()
        lastmod = self.sitemaps.lastmod.get(
            first_url(response.request)
        ) or self.sitemaps.lastmod.get(url)
        # Read in a worker process within a time budget, never on the reactor thread.
        reading = await self.context.page_reader.read(
            response.text,
            last_modified_header=last_modified.decode("latin-1") if last_modified else None,
            sitemap_lastmod=lastmod,
            fetched_at=datetime.now(UTC),
            known_readability=self.context.known_readability,
            url=url,
            checks=self.context.config.audit.checks,
        )
        if reading is None:
            self.unstored(response, url)  # the scan stopped while the page was read
            return
        facts = reading.facts
        depth = meta.get("depth", 0)
        links = []
        for link in [*facts.links, *refresh_link(facts)]:
            target = link_target(link.href, response.url, self.site.strip_query_params)
            if target is None:
                continue
            internal = allowed_cached(target, self.context.allowed_domains)
            links.append(Link(url, target, link.text, internal))
        for request in self.follow(links, depth):
            yield request
        stylesheet_urls = []
        if self.context.track_stylesheets:
            for href in facts.stylesheets:
                target = link_target(href, response.url, self.site.strip_query_params)
                if target and scheme_of(target) in ("http", "https"):
                    stylesheet_urls.append(target)
                    for request in self.stylesheets.requests(target):
                        yield request
        yield Page(
            url=url,
            response=response,
            facts=facts,
            depth=depth,
            via=meta.get("via"),
            lastmod=lastmod,
            content_type=content_type,
            links=links,
            stylesheets=stylesheet_urls,
            reason=reading.reason,
            error=reading.error,
        )

    def unstored(self, response: Response, url: str) -> None:
        """A page read but not stored, the crawl stopping: --resume reads it again."""

    def follow(self, links: list[Link], depth: int) -> Iterator[Any]:
        """Requests for a page's links: checks for external ones, pages for internal ones."""
        for link in links:
            if not link.internal:
                yield from self.links.requests(link.target_url)
            elif depth < self.site.max_depth:
                if found := self.page_request(link.target_url, depth + 1, link.source_url, "link"):
                    yield found
            elif check := self.unfollowed_check(link.target_url):
                yield check

    async def unchanged_items(self, response: Response) -> AsyncIterator[Any]:
        """A page the server says is unchanged since the last scan: that scan's reading
        stands for it and its links are followed again, without downloading it. With a
        browser, only if its stylesheets are unchanged too (its audit stands only then):
        otherwise, as when the 304 came after a redirect, it is fetched again in full."""
        request, meta = response.request, response.meta
        url = normalise_url(response.url, strip_params=self.site.strip_query_params)
        reading = None
        if meta.get("unchanged_from") is not None and not meta.get("redirect_urls"):
            reading = self.readings.reading(meta["unchanged_from"], url)
        if reading is None:
            yield self.fetch_page(first_url(request), meta, ask_if_changed=False)
            return
        hashed = None
        if self.context.track_stylesheets:
            for target in reading.stylesheets:
                for stylesheet in self.stylesheets.requests(target):
                    yield stylesheet
            hashed = await page_render_hash(
                self.context.stylesheets, reading.row["content_hash"], reading.stylesheets
            )
            if hashed is None or hashed != reading.row["render_hash"]:
                yield self.fetch_page(url, meta, ask_if_changed=False)
                return
        self.crawler.stats.inc_value(stats.FETCHED)
        self.crawler.stats.inc_value(stats.NOT_MODIFIED)
        content_type = reading.row["content_type"] or "text/html"
        yield Fetch(request.url, response.url, response.status, content_type, "page")
        depth = meta.get("depth", 0)
        links = [Link(url, target, text, internal) for target, text, internal in reading.links]
        for found in self.follow(links, depth):
            yield found
        await self.sitemaps.wait()
        yield Page(
            url=url,
            response=response,
            facts=facts_of(reading),
            depth=depth,
            via=meta.get("via"),
            lastmod=self.sitemaps.lastmod.get(url),
            content_type=content_type,
            links=links,
            stylesheets=reading.stylesheets,
            unchanged=reading,
            render_hash=hashed,
        )

    def unasked_not_modified(self, response: Response) -> Fetch:
        """A 304 Not Modified to a request that asked nothing: there is no page to read, and
        it is recorded as a download failure with what happened."""
        self.crawler.stats.inc_value(stats.FETCH_FAILED)
        error = "the server answered 304 Not Modified to a request that sent no validators"
        url = first_url(response.request)
        return Fetch(url, response.url, response.status, None, "page", error, "fetch-error")

    def fetch(self, response: Response, content_type: str) -> Fetch:
        return Fetch(
            url=first_url(response.request),
            final_url=response.url,
            status_code=response.status,
            content_type=media_type(content_type),
            kind="page" if is_html(content_type) else "document",
            reason=reason_for_status(response.status),
        )

    def document(self, response: Response, url: str, content_type: str) -> Document:
        length = declared_length(response.headers)
        size = len(response.body) if length is None else length
        # The body is there only if the document was downloaded to be checked, in full.
        complete = size > 0 and len(response.body) == size
        return Document(
            url=url,
            content_type=media_type(content_type),
            bytes=size,
            linked_from=response.meta.get("source"),
            status_code=response.status,
            body=response.body if complete else None,
        )

    def on_error(self, failure: Failure) -> Iterator[Any]:
        """A page that could not be fetched: record why, and carry on."""
        request = failure.request  # type: ignore[attr-defined]
        if isinstance(failure.value, OffsiteRedirect):
            yield from self.offsite_redirect(request, failure.value)
            return
        error, reason = describe_failure(failure), reason_for_failure(failure)
        if reason == "disallowed-by-robots":
            self.crawler.stats.inc_value(stats.DISALLOWED)
        else:
            self.crawler.stats.inc_value(stats.FETCH_FAILED)
        log.info("%s: %s", request.url, error)
        document = self.too_large_document(request, failure) if reason == "too-large" else None
        if document is None:
            yield Fetch(first_url(request), request.url, None, None, None, error, reason)
            return
        # A document sent without a Content-Length and stopped at documents.max_bytes: kept
        # in documents like one whose Content-Length was over the limit, unchecked.
        yield Fetch(
            document.url,
            request.url,
            document.status_code,
            document.content_type,
            "document",
            error,
            reason,
        )
        yield document

    def too_large_document(self, request: scrapy.Request, failure: Failure) -> Document | None:
        """The document a download stopped at its size limit was, from its headers."""
        response = getattr(failure.value, "response", None)
        if response is None:
            return None
        content_type = response.headers.get("Content-Type", b"").decode("latin-1")
        if not content_type or is_html(content_type):
            return None
        return Document(
            url=first_url(request),
            content_type=media_type(content_type),
            bytes=declared_length(response.headers),
            linked_from=request.meta.get("source"),
            status_code=response.status,
        )

    def offsite_redirect(self, request: scrapy.Request, redirect: OffsiteRedirect) -> Iterator[Any]:
        """A page that redirects to another site: recorded, and its target checked as a link.

        Not an error (a council's payment page may well live elsewhere), so links to it are
        not broken; the target is kept as a link of the page that linked here, so that a
        broken target is reported on that page.
        """
        url = first_url(request)
        target = resolved_link(redirect.target, request.url, self.site.strip_query_params)
        log.info("%s redirects off the allowed domains, to %s: not followed", url, target)
        yield Fetch(url, target, redirect.status, None, "page", reason="offsite-redirect")
        yield Link(request.meta.get("source") or url, target, f"redirect from {url}", False)
        yield from self.links.requests(target)

    def ignore(self, failure: Failure) -> None:
        log.info("skipped %s: %s", failure.request.url, failure.value)  # type: ignore[attr-defined]


def refresh_link(facts: PageFacts) -> list[PageLink]:
    """A timed refresh's target, as a link of the page: found and checked like one (an
    immediate refresh was followed as a redirect before the page got here)."""
    refresh = facts.refresh
    if refresh is None or not refresh.url:
        return []  # a refresh of the page itself leads nowhere new
    return [PageLink(href=refresh.url, text=f"refresh after {refresh.delay} s")]


def declared_length(headers: Any) -> int | None:
    """The Content-Length a response declares, if it declares a usable one."""
    length = headers.get(b"Content-Length")
    return int(length) if length and length.isdigit() else None


def first_url(request: scrapy.Request) -> str:
    """The URL a request was made for, before any redirect."""
    return (request.meta.get("redirect_urls") or [request.url])[0]
