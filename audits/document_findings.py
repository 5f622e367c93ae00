"""Findings on a checked PDF or Office file, from its report (audits/documents.py)."""

from __future__ import annotations

from audits.document_report import DocumentReport
from vocabulary.findings import Finding

DOCUMENT_GUIDE = "https://www.gov.uk/guidance/publishing-accessible-documents"


def document_findings(report: DocumentReport) -> list[Finding]:
    """Findings on the document itself; the linking page's team is set after the crawl.

    A document the 2018 exemption covers keeps its findings, marked exempt: they do not
    count against the score, and the report says why.
    """
    outcome = "exempt" if report.exempt_2018 else "violation"
    return [
        Finding(
            kind="document",
            rule_id=issue.rule_id,
            impact=issue.impact,
            wcag=issue.wcag,
            outcome=outcome,
            snippet=report.title or "",
            summary=issue.summary,
            help=issue.help,
            help_url=DOCUMENT_GUIDE,
            fingerprint=f"document:{issue.rule_id}",
        )
        for issue in report.issues
    ]
