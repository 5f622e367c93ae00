"""What the spider yields, one typed item per kind of row: fetches, links, documents, pages."""

from __future__ import annotations

from dataclasses import dataclass, field

from scrapy.http import Response

from audits.document_report import DocumentReport
from audits.page import PageFacts
from browser.browser_pool import AuditResult
from store.previous import PreviousAudit
from store.unchanged import PreviousReading
from vocabulary.findings import Finding


@dataclass
class Fetch:
    """One URL's fetch: a page or document, an external link checked, or a URL not fetched."""

    url: str  # as requested, before any redirect
    final_url: str
    status_code: int | None
    content_type: str | None
    kind: str | None  # page, document, external; None if it failed before saying
    error: str | None = None
    reason: str | None = None  # crawler/reasons.py


@dataclass
class Link:
    source_url: str
    target_url: str
    link_text: str
    internal: bool


@dataclass
class Document:
    """A PDF or Office file linked from the site; its body only if it is to be checked."""

    url: str
    content_type: str
    bytes: int | None  # None: sent without a Content-Length and stopped at the size limit
    linked_from: str | None
    status_code: int
    body: bytes | None = field(default=None, repr=False)
    # Set by DocumentCheckPipeline.
    report: DocumentReport | None = None
    findings: list[Finding] = field(default_factory=list)


@dataclass
class Page:
    """An HTML page as read, and what the pipelines decide about it on the way to the store."""

    url: str
    response: Response = field(repr=False)
    facts: PageFacts = field(repr=False)
    depth: int
    via: str | None
    lastmod: str | None
    content_type: str
    links: list[Link]
    stylesheets: list[str]
    # The last scan's reading, standing for a page the server says is unchanged (304).
    unchanged: PreviousReading | None = None
    # Why it could not be read (page-too-complex), if it could not.
    reason: str | None = None
    error: str | None = None
    # BrowserAuditPipeline: the audit, or the earlier one that stands for it.
    render_hash: str | None = None
    reused: PreviousAudit | None = None
    audit: AuditResult | None = None
    # OwnershipPipeline and ContentChecksPipeline.
    team: str | None = None
    reading_age_target: float | None = None
    findings: list[Finding] = field(default_factory=list)


@dataclass
class StoredPage:
    """What is left of a page once stored: its URL (its body and facts are let go)."""

    url: str
