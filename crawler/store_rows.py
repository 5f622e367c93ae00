"""The last item pipeline: each item as rows, queued for the one database writer."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, replace
from typing import Any

from scrapy.statscollectors import StatsCollector

from audits.accessibility import findings_from_axe
from audits.dates import choose_last_updated, review_due
from audits.document_report import DocumentReport
from audits.page import PageFacts
from audits.site_checks import structure_json
from browser.browser_pool import AuditResult
from browser.element_pictures import PageViews
from crawler import stats
from crawler.context import ScanContext, scan_context
from crawler.items import Document, Fetch, Link, Page, StoredPage
from crawler.reasons import reason_for_browser_error
from store.database import now
from store.previous import PreviousAudit, copied_audit
from store.unchanged import PreviousReading
from store.writer import Writer
from vocabulary.findings import Finding
from vocabulary.urls import media_type

MAX_ETAG_BYTES = 256  # strong or weak validators are short: a hash or a version


class StoreRowsPipeline:
    """Turn each item into rows, as the pipelines before it left it, and queue them for the
    writer: a page with its dates, findings and links in one transaction."""

    def __init__(self, context: ScanContext, stats: StatsCollector) -> None:
        self.context, self.stats = context, stats
        self.scan_id = context.scan_id
        self.writer: Writer = context.writer
        self.reader: sqlite3.Connection | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> StoreRowsPipeline:
        return cls(scan_context(crawler), crawler.stats)

    def open_spider(self) -> None:
        # Reused audits are read from earlier scans, beside the writer (WAL allows it).
        if self.context.previous:
            self.reader = sqlite3.connect(self.writer.db_path)
        self.stats.set_value(stats.PAGES, self.context.pages_stored)  # resuming: kept pages

    def close_spider(self) -> None:
        if self.reader is not None:
            self.reader.close()

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Page):
            self.store_page(item)
            return StoredPage(item.url)  # the body and facts go as soon as they are stored
        if isinstance(item, Fetch):
            self.writer.put("fetches", [{"scan_id": self.scan_id, **asdict(item)}])
        elif isinstance(item, Link):
            self.writer.put("links", [self.link_row(item)])
        elif isinstance(item, Document):
            self.writer.put("documents", [self.document_row(item)])
            # The linking page's team is set after the crawl.
            self.writer.put("findings", self.finding_rows(item.findings, item.url, None))
        return item

    def store_page(self, page: Page) -> None:
        self.writer.put_together(self.page_parts(page))
        self.count(page)

    def page_parts(self, page: Page) -> list[tuple[str, list[dict[str, Any]]]]:
        """The page's rows, table by table, for the writer to store in one transaction."""
        row, findings = self.page_rows(page)
        return [
            # Before the findings that point to them; a picture already stored stays.
            ("pictures", picture_rows(page.audit, findings)),
            ("pages", [row]),
            ("page_dates", self.date_rows(page.url, page.facts)),
            ("findings", findings),
            ("links", [self.link_row(link) for link in page.links]),
        ]

    def count(self, page: Page) -> None:
        self.stats.inc_value(stats.PAGES)
        if page.reused is not None:
            self.stats.inc_value(stats.REUSED)
        if page.reason or (page.audit is not None and page.audit.error):
            self.stats.inc_value(stats.AUDIT_FAILED)
        elif page.audit is not None:
            self.stats.inc_value(stats.AUDITED)

    def page_rows(self, page: Page) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The page's row and every finding on it: its content's, and its audit's."""
        row = {
            "scan_id": self.scan_id,
            "url": page.url,
            "team": page.team,
            "reason": "audited",
            "reading_age_target": page.reading_age_target,
            **page_facts_columns(page),
            **date_columns(page.facts),
        }
        if page.reason:  # could not be read: no facts to judge it by
            row.update(reason=page.reason, error=page.error)
            return row, []
        findings = list(page.findings)
        row["render_hash"] = page.render_hash
        if page.reused is not None:
            copied_row, copied_findings = self.copied_audit(page.reused, page.url)
            row.update(copied_row)
            findings += copied_findings
        elif page.audit is not None:
            row.update(audit_columns(page.audit))
            if (outcome := page.audit.outcome) is not None:
                found = findings_from_axe(outcome.results())
                findings += with_views(found, outcome.views)
        return row, self.finding_rows(findings, page.url, page.team)

    def copied_audit(self, reused: PreviousAudit, url: str) -> tuple[dict[str, Any], list[Finding]]:
        """The reused audit's page columns and findings, read beside the writer."""
        return copied_audit(self.reader, reused, url)

    def finding_rows(
        self, findings: list[Finding], url: str, team: str | None
    ) -> list[dict[str, Any]]:
        return [f.placed(url, team).row(self.scan_id) for f in findings]

    def date_rows(self, url: str, facts: PageFacts) -> list[dict[str, Any]]:
        return [
            {
                "scan_id": self.scan_id,
                "url": url,
                "kind": d.kind,
                "source": d.source,
                "value": d.value,
                "evidence": d.evidence,
            }
            for d in facts.dates
        ]

    def link_row(self, link: Link) -> dict[str, Any]:
        # Spelled out, not dataclasses.asdict: that deep-copies every field, and a page has
        # about a hundred links (3 ms a page on the crawler's thread).
        return {
            "scan_id": self.scan_id,
            "source_url": link.source_url,
            "target_url": link.target_url,
            "link_text": link.link_text,
            "internal": int(link.internal),
        }

    def document_row(self, document: Document) -> dict[str, Any]:
        row = {
            "scan_id": self.scan_id,
            "url": document.url,
            "content_type": document.content_type,
            "bytes": document.bytes,
            "linked_from": document.linked_from,
            "status_code": document.status_code,
        }
        if document.report is not None:
            row.update(document_columns(document.report))
        return row


def with_views(findings: list[Finding], views: PageViews) -> list[Finding]:
    """axe's findings with where each element is and its pictures: one view per finding,
    in the same order (browser/element_pictures.py). Without views (a picture pass that
    did not run), the findings as they are."""
    if len(views.views) != len(findings):
        return findings
    return [replace(f, **v.columns()) for f, v in zip(findings, views.views, strict=True)]


def picture_rows(audit: AuditResult | None, findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pictures table's rows for the pictures this page's findings point to."""
    if audit is None or audit.outcome is None:
        return []
    pictures = audit.outcome.views.pictures
    used = {f[c] for f in findings for c in ("picture", "page_picture") if f.get(c)}
    return [pictures[i].row() for i in sorted(used) if i in pictures]


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


def date_columns(facts: PageFacts) -> dict[str, Any]:
    chosen, due = choose_last_updated(facts.dates), review_due(facts.dates)
    return {
        "last_updated": chosen.value if chosen else None,
        "last_updated_source": chosen.source if chosen else None,
        "review_due": due.value if due else None,
    }


def etag_of(header: bytes | None) -> str | None:
    """The ETag as sent, for the next scan's conditional request; one longer than any real
    validator is not kept (a server may send anything)."""
    if not header or len(header) > MAX_ETAG_BYTES:
        return None
    return header.decode("latin-1")


def page_facts_columns(page: Page) -> dict[str, Any]:
    """The columns that come from the HTML itself, the same with or without a browser."""
    if page.unchanged is not None:
        return unchanged_columns(page, page.unchanged)
    response, facts = page.response, page.facts
    r = facts.readability
    last_modified = response.headers.get("Last-Modified")
    return {
        "status_code": response.status,
        "content_type": media_type(page.content_type),
        "title": facts.title,
        "lang": facts.lang,
        "depth": page.depth,
        "found_via": page.via,
        "sitemap_lastmod": page.lastmod,
        "last_modified_header": last_modified.decode("latin-1") if last_modified else None,
        "etag": etag_of(response.headers.get("ETag")),
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
        "structure": facts.stored_structure
        or structure_json(page.url, facts.structure, facts.spelling),
        "stylesheets": json.dumps(page.stylesheets) if page.render_hash else None,
        "fetched_at": now(),
    }


def unchanged_columns(page: Page, reading: PreviousReading) -> dict[str, Any]:
    """A page not downloaded (304): its columns as the last scan read them, and this
    scan's own (how it was found, when; validators a 304 may update)."""
    headers = page.response.headers
    last_modified = headers.get("Last-Modified")
    sent = last_modified.decode("latin-1") if last_modified else None
    return {
        **{k: v for k, v in reading.row.items() if k not in ("team", "render_hash")},
        "depth": page.depth,
        "found_via": page.via,
        "sitemap_lastmod": page.lastmod,
        "etag": etag_of(headers.get("ETag")) or reading.row["etag"],
        "last_modified_header": sent or reading.row["last_modified_header"],
        "not_modified": 1,
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
    results = outcome.results()
    return {
        "violations": sum(len(r["nodes"]) for r in results["violations"]),
        "needs_review": sum(len(r["nodes"]) for r in results["incomplete"]),
        "focus_order": json.dumps(outcome.own.focus_order)
        if outcome.own.focus_order is not None
        else None,
        "check_errors": json.dumps(outcome.own.errors) if outcome.own.errors else None,
        "frames_present": outcome.frames_present,
        "frames_audited": outcome.frames_audited,
        "blocked_requests": json.dumps(outcome.blocked) if outcome.blocked else None,
        "audit_ms": audit.elapsed_ms,
        "audited_at": now(),
        "error": None,
    }
