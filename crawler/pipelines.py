"""Item pipelines that audit: each page in the browsers, each document in a sandbox."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from typing import Any

from scrapy.exceptions import DropItem, NotConfigured

from audits.accessibility import check_axe_result
from audits.document_findings import document_findings
from audits.page import PageFacts
from browser.browser import LARGE_PAGE_BYTES
from browser.browser_pool import AuditResult, BrowserPool
from browser.devtools import PageJob
from crawler import stats
from crawler.context import ScanContext, scan_context
from crawler.document_sandbox import DocumentSandbox
from crawler.items import Document, Page
from crawler.reasons import TOO_MANY_ELEMENTS
from crawler.stylesheets import page_render_hash
from settings.model import DocumentsConfig
from vocabulary.urls import normalise_url

# How often a page waiting for a browser checks whether the scan is stopping.
STOP_CHECK = 0.5


class BrowserAuditPipeline:
    """Hand each HTML page to the browser pool and wait for its axe-core result.

    At most `queue_size` pages wait for or sit in the browsers; the rest of the crawl
    waits here, so the crawler never holds thousands of responses for busy browsers.
    """

    def __init__(self, crawler: Any, pool: BrowserPool, context: ScanContext) -> None:
        self.crawler, self.pool, self.context = crawler, pool, context
        self.slots: asyncio.Semaphore | None = None
        self.watcher: asyncio.Future[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> BrowserAuditPipeline:
        context = scan_context(crawler)
        if context.pool is None:
            # --no-browser; without a message, which Scrapy would print as a warning.
            raise NotConfigured
        return cls(crawler, context.pool, context)

    def open_spider(self) -> None:
        self.slots = asyncio.Semaphore(self.context.queue_size)
        # A tab's memory grows with its page: one large page in the browsers at a time,
        # so two of them cannot together take the scan past its memory budget.
        self.large = asyncio.Semaphore(1)
        self.stopping = asyncio.Event()
        self.watcher = asyncio.ensure_future(self._watch_for_stop())

    def _too_complex(self, facts: PageFacts) -> str | None:
        """Why a page is too large for the browser to audit within its memory, if it is."""
        audit = self.context.config.audit
        if facts.elements > audit.max_elements:
            return (
                f"{TOO_MANY_ELEMENTS}: the page has {facts.elements:,} elements, more than "
                f"audit.max_elements ({audit.max_elements:,}); not audited in the browser"
            )
        if facts.depth > audit.max_element_depth:
            return (
                f"{TOO_MANY_ELEMENTS}: the page nests elements {facts.depth:,} deep, more "
                f"than audit.max_element_depth ({audit.max_element_depth}); not audited in "
                "the browser"
            )
        return None

    def close_spider(self) -> None:
        if self.watcher is not None:
            self.watcher.cancel()

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, Page):
            return item
        if item.reason:
            return item  # not read (page-too-complex): not audited either
        if (too_complex := self._too_complex(item.facts)) is not None:
            item.audit = not_audited(item, too_complex)
            return item
        if item.render_hash is None:  # the spider hashed a 304's page already
            item.render_hash = await page_render_hash(
                self.context.stylesheets, item.facts.content_hash, item.stylesheets
            )
        previous = self.context.previous.get(item.url)
        if previous is not None and previous.render_hash == item.render_hash:
            item.reused = previous  # same HTML, same stylesheets: last audit stands
            return item
        if item.unchanged is not None:
            # Not downloaded (304), so it cannot be audited; the spider sends such a page
            # only with its last audit's stylesheets unchanged, so this is not expected.
            item.audit = not_audited(item, UNCHANGED_NOT_REUSED)
            return item
        if not await self._browser_free():
            # Stopping (Ctrl-C, SIGTERM): pages still waiting for a browser are not stored,
            # so --resume fetches and audits them, and the scan stops after the pages in the
            # browsers, not after every page the crawl had read ahead.
            raise DropItem(f"not audited: the scan stopped first: {item.url}", "INFO")
        try:
            if is_large(item):
                async with self.large:
                    item.audit = self._checked(await self._audit(item))
            else:
                item.audit = self._checked(await self._audit(item))
        finally:
            self.slots.release()
        return item

    def _checked(self, audit: AuditResult) -> AuditResult:
        """The audit, or if its result is not one axe-core gives, a failed audit saying why:
        then the page is recorded as tampered with, never as clean."""
        outcome = audit.outcome
        if outcome is None:
            return audit
        result = {"violations": outcome.violations, "incomplete": outcome.incomplete}
        problem = check_axe_result(result, self.pool.axe_rules)
        if problem is None:
            return audit
        return dataclasses.replace(audit, outcome=None, error=problem)

    async def _browser_free(self) -> bool:
        """Wait for a place in the browsers; False if the scan starts stopping first."""
        assert self.slots is not None
        acquire = asyncio.ensure_future(self.slots.acquire())
        stop = asyncio.ensure_future(self.stopping.wait())
        await asyncio.wait({acquire, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if acquire.done():
            return True  # even when stopping: a page given a browser is audited
        acquire.cancel()  # the semaphore gives back a place it granted meanwhile
        return False

    async def _watch_for_stop(self) -> None:
        """Set `stopping` once the crawl is told to stop (Scrapy sends no signal for that)."""
        while self.crawler.crawling:
            await asyncio.sleep(STOP_CHECK)
        self.stopping.set()

    async def _audit(self, item: Page) -> AuditResult:
        response = item.response
        job = PageJob(
            url=response.url,
            status=response.status,
            headers=[
                (k.decode("latin-1"), v.decode("latin-1"))
                for k, values in response.headers.items()
                for v in values
            ],
            body=response.body,
            refresh=declared_refresh(item),
        )
        loop = asyncio.get_running_loop()
        done: asyncio.Future[AuditResult] = loop.create_future()
        self.crawler.stats.inc_value(stats.IN_BROWSER)
        self.pool.submit(job, lambda result: loop.call_soon_threadsafe(done.set_result, result))
        try:
            return await done
        finally:
            self.crawler.stats.inc_value(stats.IN_BROWSER, -1)


# Pages beyond these sizes are audited one at a time (a typical council page is 30-100 KB
# with one or two thousand elements).
LARGE_PAGE_ELEMENTS = 10_000


def declared_refresh(item: Page) -> str | None:
    """The absolute URL of the page's timed meta refresh (itself if it names none)."""
    refresh = item.facts.refresh
    if refresh is None or refresh.delay < 1:
        return None
    try:
        return normalise_url(refresh.url, base=item.response.url)
    except ValueError:
        return None


def is_large(item: Page) -> bool:
    return len(item.response.body) > LARGE_PAGE_BYTES or item.facts.elements > LARGE_PAGE_ELEMENTS


# A page sent unchanged (304) whose last audit does not stand: a browser-error.
UNCHANGED_NOT_REUSED = (
    "not audited: the server said the page is unchanged (304 Not Modified), but its last "
    "audit could not be reused; scan with --full"
)


def not_audited(item: Page, error: str) -> AuditResult:
    """A failed audit for a page too large for the browser; its content is still judged."""
    job = PageJob(url=item.url, status=item.response.status, headers=[], body=b"")
    return AuditResult(job, None, error, attempts=0, elapsed_ms=0)


class DocumentCheckPipeline:
    """Check each downloaded PDF or Office file in a worker process with memory and time
    limits (crawler/document_sandbox.py), from a thread: a hostile file costs its own row,
    with the reason in check_error, never the scan."""

    def __init__(self, documents: DocumentsConfig, workers: int) -> None:
        self.documents, self.workers = documents, workers
        self.sandbox: DocumentSandbox | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> DocumentCheckPipeline:
        config = scan_context(crawler).config
        if not config.documents.check:
            raise NotConfigured  # documents are recorded, not checked
        # With the browser, one worker: its memory (up to documents.max_memory_mb) is the
        # browsers' too.
        workers = 1 if config.audit.browser else DOCUMENT_WORKERS
        return cls(config.documents, min(workers, os.cpu_count() or 1))

    def open_spider(self) -> None:
        # Workers start with the first document, so a site without any starts none.
        self.sandbox = DocumentSandbox(
            workers=self.workers,
            memory_mb=self.documents.max_memory_mb,
            timeout=self.documents.timeout,
        )

    def close_spider(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, Document) and item.body and self.sandbox is not None:
            body, item.body = item.body, None  # the body is let go once checked
            item.report = await asyncio.to_thread(
                self.sandbox.check, body, item.content_type, item.url
            )
            item.findings = document_findings(item.report)
        return item


# Documents checked at once: each worker may use up to documents.max_memory_mb.
DOCUMENT_WORKERS = 2
