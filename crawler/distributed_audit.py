"""A worker's browser audits: a page its browsers could not audit goes back to the frontier."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro

from browser.browser_pool import AuditResult, BrowserPool
from crawler.context import ScanContext
from crawler.distributed_spider import DistributedContext, DistributedSpider
from crawler.items import Page
from crawler.pipelines import BrowserAuditPipeline

log = logging.getLogger(__name__)

# Pages in a row whose audit found that no new browser session would start (each after two
# tries, browser/browser_pool.py): then this worker's browsers count as failed, and it leaves
# the scan. Any page whose session started ends the run, whatever the page did: one that
# crashes its tab has a new session start for its second try, so no page can make a worker
# leave, however hostile.
FAILED_AFTER_PAGES = 3


@dataclass
class BrowserHealth:
    """Whether this worker's browsers still start: the run of pages they could not."""

    pages_down: int = 0
    last_error: str = ""
    # Pages whose session started (audited, or failed by the page's own doing).
    pages_opened: int = 0

    def audited(self, audit: AuditResult) -> bool:
        """Count a page's audit; True once the browsers count as failed."""
        if not audit.browser_down:
            self.pages_down = 0
            self.pages_opened += 1
            return False
        self.pages_down += 1
        self.last_error = audit.error or "no reason given"
        return self.pages_down >= FAILED_AFTER_PAGES

    def reason(self) -> str:
        return (
            f"no new browser session would start for {self.pages_down} pages in a row, the "
            f"last: {self.last_error}; its pages went back to the frontier"
        )


class WorkerAuditPipeline(BrowserAuditPipeline):
    """BrowserAuditPipeline in a worker of a shared scan. A page the worker's browsers could
    not audit because no session would start is not stored as not audited, as on one
    machine: it goes back to the shared frontier for a healthy worker. After
    FAILED_AFTER_PAGES such pages in a row the worker stops its crawl, giving back every page
    it has not stored, and leaves the scan (app/distributed.py tries it again later, as when
    its browsers cannot start at all)."""

    context: DistributedContext

    def __init__(self, crawler: Any, pool: BrowserPool, context: ScanContext) -> None:
        super().__init__(crawler, pool, context)
        self.health = BrowserHealth()

    async def process_item(self, item: Any) -> Any:
        try:
            item = await super().process_item(item)
        except DropItem:
            if isinstance(item, Page):  # the crawl stopped first
                self.spider.give_back(item.response, item.url)
            raise
        audit = item.audit if isinstance(item, Page) else None
        if audit is None or not audit.attempts:
            return item  # not opened in a browser (reused, too complex): stored
        if self.health.audited(audit) and self.context.browsers_failed is None:
            self.leave()
        if not audit.browser_down:
            return item
        log.info("%s: %s; it goes back to the frontier", item.url, audit.error)
        self.spider.give_back(item.response, item.url)
        raise DropItem(f"not audited, given back: {item.url}", "INFO")

    @property
    def spider(self) -> DistributedSpider:
        spider = self.crawler.spider
        assert isinstance(spider, DistributedSpider)
        return spider

    def leave(self) -> None:
        """Stop this worker's crawl of the scan: pages waiting for the browsers, or still
        being read, go back to the frontier; crawl_scan then says why and exits."""
        self.context.browsers_failed = self.health.reason()
        self.context.pages_before_failing = self.health.pages_opened
        self.stopping.set()
        deferred_from_coro(self.crawler.stop_async())
