"""What app/scan.py hands a crawl, on the crawler: settings, services and shared state."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from audits.readability import Readability
from browser.browser_pool import BrowserPool
from crawler.credentials import Credentials
from crawler.page_reader import PageReader
from settings.model import Config
from store.previous import PreviousAudit
from store.unchanged import Validators
from store.writer import Writer


@dataclass
class CrawlContext:
    """What every siteaudit crawl shares, the login's and the scan's.

    It holds live objects and secrets, which Scrapy settings cannot: Scrapy copies its
    settings for each crawler and logs them. So app/scan.py sets it as `crawler.siteaudit`,
    and each component reads it in its from_crawler.
    """

    config: Config
    allowed_domains: tuple[str, ...]
    credentials: Credentials = field(default_factory=Credentials)
    # host -> seconds between requests that its robots.txt Crawl-delay asks for.
    crawl_delays: dict[str, float] = field(default_factory=dict)
    # Why the firewall middleware stopped the crawl, if it did.
    blocked: str | None = None


@dataclass(kw_only=True)
class ScanContext(CrawlContext):
    """What the crawl of one scan adds: where its rows go, its browsers, what came before."""

    scan_id: int
    writer: Writer
    pool: BrowserPool | None = None
    # Pages in or waiting for the browsers at once (audit.queue_size).
    queue_size: int = 4
    # Reads each page's HTML in a worker process (crawler/page_reader.py).
    page_reader: PageReader = field(default_factory=lambda: PageReader(budget=0))
    # When resuming: URLs already done, (url, depth, linking page) still to crawl, off-site
    # links whose check left no outcome, and how many pages were stored before.
    seen: set[str] = field(default_factory=set)
    frontier: list[tuple[str, int, str]] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)
    pages_stored: int = 0
    # url -> the page's audit in an earlier scan, reused if its render hash is unchanged.
    previous: dict[str, PreviousAudit] = field(default_factory=dict)
    # url -> what to send to ask the server whether the page changed (store/unchanged.py).
    validators: dict[str, Validators] = field(default_factory=dict)
    # content hash -> readability measured in the previous scan, for unchanged pages.
    known_readability: dict[str, Readability] = field(default_factory=dict)
    # With a browser, each stylesheet is fetched once and hashed: a rescan reuses a page's
    # audit only if its HTML and stylesheets are unchanged (store/previous.py).
    stylesheets: dict[str, asyncio.Future[str]] = field(default_factory=dict)

    @property
    def track_stylesheets(self) -> bool:
        return self.pool is not None


def crawl_context(crawler: Any) -> CrawlContext:
    """The context app/scan.py set on the crawler before starting it."""
    context = getattr(crawler, "siteaudit", None)
    if not isinstance(context, CrawlContext):
        raise RuntimeError("no siteaudit context on the crawler: start crawls from app/scan.py")
    return context


def scan_context(crawler: Any) -> ScanContext:
    """The scan's context: for the components of a scan's crawl, not the login's."""
    context = crawl_context(crawler)
    if not isinstance(context, ScanContext):
        raise RuntimeError("this crawler has no scan: it is not a scan's crawl")
    return context
