"""Item pipelines: audit each page in a browser, then store everything through the writer."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sqlite3
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from scrapy.exceptions import DropItem

from audits.accessibility import check_axe_result, findings_from_axe
from audits.content import freshness_findings, readability_finding
from audits.dates import choose_last_updated, review_due
from audits.document_findings import document_findings
from audits.document_report import DocumentReport
from audits.ownership import compile_rules, owner_for
from audits.page import PageFacts
from browser.browser import LARGE_PAGE_BYTES
from browser.browser_pool import AuditResult, BrowserPool
from browser.devtools import PageJob
from crawler.document_sandbox import DocumentSandbox
from crawler.reasons import TOO_MANY_ELEMENTS, reason_for_browser_error
from store.database import now
from store.previous import copied_audit, render_hash
from store.writer import Writer
from vocabulary.findings import Finding
from vocabulary.urls import media_type

# A stylesheet slower than this to arrive makes its pages unsuitable for reuse, not stuck.
STYLESHEET_WAIT = 60.0
# How often a page waiting for a browser checks whether the scan is stopping.
STOP_CHECK = 0.5


class BrowserAuditPipeline:
    """Hand each HTML page to the browser pool and wait for its axe-core result.

    At most `queue_size` pages wait for or sit in the browsers; the rest of the crawl
    waits here, so the crawler never holds thousands of responses for busy browsers.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.pool: BrowserPool | None = None
        self.slots: asyncio.Semaphore | None = None
        self.watcher: asyncio.Future[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> BrowserAuditPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        spider = self.crawler.spider
        self.pool = spider.pool
        self.context = spider.context
        self.counters = spider.context.counters
        if self.pool:
            self.slots = asyncio.Semaphore(spider.queue_size)
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

    async def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        if item.get("table") != "page" or self.pool is None or self.slots is None:
            return item
        if item.get("reason"):
            return item  # not read (page-too-complex): not audited either
        if (too_complex := self._too_complex(item["facts"])) is not None:
            item["audit"] = not_audited(item, too_complex)
            return item
        item["render_hash"] = await self._render_hash(item)
        previous = self.context.previous.get(item["url"])
        if previous is not None and previous.render_hash == item["render_hash"]:
            item["reused"] = previous  # same HTML, same stylesheets: last audit stands
            return item
        if not await self._browser_free():
            # Stopping (Ctrl-C, SIGTERM): pages still waiting for a browser are not stored,
            # so --resume fetches and audits them, and the scan stops after the pages in the
            # browsers, not after every page the crawl had read ahead.
            raise DropItem(f"not audited: the scan stopped first: {item['url']}", "INFO")
        try:
            if is_large(item):
                async with self.large:
                    item["audit"] = self._checked(await self._audit(item))
            else:
                item["audit"] = self._checked(await self._audit(item))
        finally:
            self.slots.release()
        return item

    def _checked(self, audit: AuditResult) -> AuditResult:
        """The audit, or if its result is not one axe-core gives, a failed audit saying why:
        then the page is recorded as tampered with, never as clean."""
        assert self.pool is not None
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

    async def _render_hash(self, item: dict[str, Any]) -> str | None:
        """The page's HTML and stylesheets, hashed; None if a stylesheet never arrived."""
        futures = [self.context.stylesheets[url] for url in item["stylesheets"]]
        try:
            hashes = await asyncio.wait_for(asyncio.gather(*futures), STYLESHEET_WAIT)
        except TimeoutError:
            return None
        return render_hash(item["facts"].content_hash, list(hashes))

    async def _audit(self, item: dict[str, Any]) -> AuditResult:
        response = item["response"]
        job = PageJob(
            url=response.url,
            status=response.status,
            headers=[
                (k.decode("latin-1"), v.decode("latin-1"))
                for k, values in response.headers.items()
                for v in values
            ],
            body=response.body,
        )
        loop = asyncio.get_running_loop()
        done: asyncio.Future[AuditResult] = loop.create_future()
        self.counters.in_browser += 1
        assert self.pool is not None
        self.pool.submit(job, lambda result: loop.call_soon_threadsafe(done.set_result, result))
        try:
            return await done
        finally:
            self.counters.in_browser -= 1


# Pages beyond these sizes are audited one at a time (a typical council page is 30-100 KB
# with one or two thousand elements).
LARGE_PAGE_ELEMENTS = 10_000


def is_large(item: dict[str, Any]) -> bool:
    facts: PageFacts = item["facts"]
    return len(item["response"].body) > LARGE_PAGE_BYTES or facts.elements > LARGE_PAGE_ELEMENTS


def not_audited(item: dict[str, Any], error: str) -> AuditResult:
    """A failed audit for a page too large for the browser; its content is still judged."""
    job = PageJob(url=item["url"], status=item["response"].status, headers=[], body=b"")
    return AuditResult(job, None, error, attempts=0, elapsed_ms=0)


class DocumentCheckPipeline:
    """Check each downloaded PDF or Office file in a worker process with memory and time
    limits (crawler/document_sandbox.py), from a thread: a hostile file costs its own row,
    with the reason in check_error, never the scan."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.sandbox: DocumentSandbox | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> DocumentCheckPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        context = self.crawler.spider.context
        documents = context.config.documents
        # Workers start with the first document, so a site without any starts none. With
        # the browser, one: its memory (up to documents.max_memory_mb) is the browsers' too.
        workers = 1 if context.config.audit.browser else DOCUMENT_WORKERS
        self.sandbox = DocumentSandbox(
            workers=min(workers, os.cpu_count() or 1),
            memory_mb=documents.max_memory_mb,
            timeout=documents.timeout,
        )

    def close_spider(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()

    async def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        body = item.pop("body", None) if item.get("table") == "documents" else None
        if body and self.sandbox is not None:
            row = item["row"]
            report = await asyncio.to_thread(
                self.sandbox.check, body, row["content_type"], row["url"]
            )
            row.update(document_columns(report))
            item["findings"] = document_findings(report)
        return item


# Documents checked at once: each worker may use up to documents.max_memory_mb.
DOCUMENT_WORKERS = 2


def document_columns(report: DocumentReport) -> dict[str, Any]:
    return {
        "kind": report.kind,
        "title": report.title,
        "language": report.language,
        "page_count": report.pages,
        "created": report.created,
        "modified": report.modified,
        "tagged": report.tagged,
        "has_text": report.has_text,
        "encrypted": report.encrypted,
        "exempt_2018": report.exempt_2018,
        "check_error": report.error,
    }


class StorePipeline:
    """Turn items into rows and queue them for the single database writer."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        spider = self.crawler.spider
        self.writer: Writer = spider.writer
        self.context = spider.context
        config = self.config = spider.context.config
        # Reused audits are read from earlier scans, beside the writer (WAL allows it).
        self.reader = sqlite3.connect(spider.writer.db_path) if spider.context.previous else None
        self.rules = compile_rules(config.teams, config.ownership.default_team)
        self.meta_tag = (config.ownership.meta_tag or "").lower() or None

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        scan_id = self.context.scan_id
        if item["table"] != "page":
            self.writer.put(item["table"], [{"scan_id": scan_id, **item["row"]}])
            # A document's findings; the linking page's team is set after the crawl.
            url, found = item["row"]["url"], item.get("findings", [])
            self.writer.put("findings", [f.placed(url, None).row(scan_id) for f in found])
            return item
        page, findings = self.page_rows(item)
        self.writer.put_together(
            [
                ("pages", [page]),
                ("page_dates", self.date_rows(page["url"], item["facts"])),
                ("findings", findings),
                ("links", [{"scan_id": scan_id, **link} for link in item["links"]]),
            ]
        )
        self.count(item)
        item.pop("response", None)  # let the body go as soon as it is stored
        return {"url": page["url"]}

    def close_spider(self) -> None:
        if self.reader is not None:
            self.reader.close()

    def count(self, item: dict[str, Any]) -> None:
        counters = self.context.counters
        counters.pages += 1
        if item.get("reused") is not None:
            counters.reused += 1
        audit: AuditResult | None = item.get("audit")
        if item.get("reason"):
            counters.audit_failed += 1
        elif audit is not None:
            if audit.error:
                counters.audit_failed += 1
            else:
                counters.audited += 1

    def page_rows(self, item: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The page's row and every finding on it: accessibility, readability, freshness."""
        facts: PageFacts = item["facts"]
        url, path = item["url"], _path(item["url"])
        meta_value = facts.meta.get(self.meta_tag) if self.meta_tag else None
        team = owner_for(path, meta_value, self.rules)
        target = self.config.reading_age_target(path, team)
        page = {
            "scan_id": self.context.scan_id,
            "url": url,
            "team": team,
            "reason": "audited",
            "reading_age_target": target,
            **page_facts_columns(item, facts),
            **date_columns(facts),
        }
        if item.get("reason"):  # could not be read: no facts to judge it by
            page.update(reason=item["reason"], error=item.get("error"))
            return page, []
        findings = self.content_findings(facts, path, team, target)
        page["render_hash"] = item.get("render_hash")
        audit: AuditResult | None = item.get("audit")
        if item.get("reused") is not None:
            copied_page, copied_findings = copied_audit(self.reader, item["reused"], url)
            page.update(copied_page)
            findings += copied_findings
        elif audit is not None:
            page.update(audit_columns(audit))
            if audit.outcome is not None:
                findings += findings_from_axe(
                    {"violations": audit.outcome.violations, "incomplete": audit.outcome.incomplete}
                )
        return page, [f.placed(url, team).row(self.context.scan_id) for f in findings]

    def content_findings(
        self, facts: PageFacts, path: str, team: str, target: float
    ) -> list[Finding]:
        found = []
        if readable := readability_finding(
            facts.readability, target, self.config.readability.min_words
        ):
            found.append(readable)
        chosen, due = choose_last_updated(facts.dates), review_due(facts.dates)
        stale_after, archive_after = self.config.freshness_limits(path, team)
        found += freshness_findings(
            (chosen.value, chosen.source, chosen.evidence) if chosen else None,
            due.value if due else None,
            date.today(),
            stale_after,
            archive_after,
        )
        return found

    def date_rows(self, url: str, facts: PageFacts) -> list[dict[str, Any]]:
        return [
            {
                "scan_id": self.context.scan_id,
                "url": url,
                "kind": d.kind,
                "source": d.source,
                "value": d.value,
                "evidence": d.evidence,
            }
            for d in facts.dates
        ]


def date_columns(facts: PageFacts) -> dict[str, Any]:
    chosen, due = choose_last_updated(facts.dates), review_due(facts.dates)
    return {
        "last_updated": chosen.value if chosen else None,
        "last_updated_source": chosen.source if chosen else None,
        "review_due": due.value if due else None,
    }


def page_facts_columns(item: dict[str, Any], facts: PageFacts) -> dict[str, Any]:
    """The columns that come from the HTML itself, the same with or without a browser."""
    response = item["response"]
    r = facts.readability
    last_modified = response.headers.get("Last-Modified")
    return {
        "status_code": response.status,
        "content_type": media_type(item["content_type"]),
        "title": facts.title,
        "lang": facts.lang,
        "depth": item["depth"],
        "found_via": item["via"],
        "sitemap_lastmod": item["lastmod"],
        "last_modified_header": last_modified.decode("latin-1") if last_modified else None,
        "content_hash": facts.content_hash,
        "bytes": len(response.body),
        "word_count": r.word_count,
        "sentence_count": r.sentence_count,
        "reading_ease": r.reading_ease,
        "grade_level": r.grade_level,
        "reading_age": r.reading_age,
        "readability_measured": int(r.measured),
        "readability_note": r.reason,
        "long_sentences": json.dumps(r.long_sentences),
        "words_to_avoid": json.dumps(r.words_to_avoid),
        "fetched_at": now(),
    }


def audit_columns(audit: AuditResult) -> dict[str, Any]:
    outcome = audit.outcome
    if outcome is None:
        return {
            "error": audit.error,
            "audit_ms": audit.elapsed_ms,
            "audited_at": None,
            "reason": reason_for_browser_error(audit.error or ""),
        }
    return {
        "violations": sum(len(r["nodes"]) for r in outcome.violations),
        "needs_review": sum(len(r["nodes"]) for r in outcome.incomplete),
        "frames_present": outcome.frames_present,
        "frames_audited": outcome.frames_audited,
        "blocked_requests": json.dumps(outcome.blocked) if outcome.blocked else None,
        "audit_ms": audit.elapsed_ms,
        "audited_at": now(),
        "error": None,
    }


def _path(url: str) -> str:
    return urlsplit(url).path or "/"
