"""What the accessibility statement's draft reads: a scan's failing findings, its pages'
titles and the documents that fail their checks, with their dates."""

from __future__ import annotations

from typing import Any


def finished_scan(db: Any, scan_id: int | None) -> dict[str, Any] | None:
    """Every column of a scan (the latest finished one when scan_id is None), or None."""
    if scan_id is None:
        sql, params = "SELECT * FROM scans WHERE status = 'finished' ORDER BY id DESC LIMIT 1", []
    else:
        sql, params = "SELECT * FROM scans WHERE id = ?", [scan_id]
    return next(db.query(sql, params), None)


def accessibility_violations(db: Any, scan_id: int) -> list[dict[str, Any]]:
    """Each accessibility violation of a scan that no one has called a false positive:
    url, rule_id, wcag, scope, help, in the order stored."""
    return list(
        db.query(
            "SELECT url, rule_id, wcag, scope, help FROM findings WHERE scan_id = ? "
            "AND kind = 'accessibility' AND outcome = 'violation' "
            "AND (decision IS NULL OR decision != 'false-positive') ORDER BY rowid",
            [scan_id],
        )
    )


def page_titles(db: Any, scan_id: int) -> dict[str, str]:
    """url -> title of every page of a scan that has one."""
    rows = db.execute(
        "SELECT url, title FROM pages WHERE scan_id = ? AND title IS NOT NULL", [scan_id]
    )
    return dict(rows.fetchall())


def failing_documents(db: Any, scan_id: int) -> list[dict[str, Any]]:
    """Each document of a scan with a failed check (exempt or not; not a false positive),
    with its stored dates:
    url, kind, title, created, modified, exempt_2018, linked_from, team."""
    return list(
        db.query(
            "SELECT url, kind, title, created, modified, exempt_2018, linked_from, team "
            "FROM documents d WHERE scan_id = ? AND EXISTS (SELECT 1 FROM findings f "
            "WHERE f.scan_id = d.scan_id AND f.url = d.url AND f.kind = 'document' "
            "AND f.outcome IN ('violation', 'exempt') "
            "AND (f.decision IS NULL OR f.decision != 'false-positive')) ORDER BY url",
            [scan_id],
        )
    )


def document_findings(db: Any, scan_id: int) -> list[dict[str, Any]]:
    """url, rule_id, wcag, summary of each failed document check of a scan that no one has
    called a false positive."""
    return list(
        db.query(
            "SELECT url, rule_id, wcag, summary FROM findings WHERE scan_id = ? "
            "AND kind = 'document' AND outcome IN ('violation', 'exempt') "
            "AND (decision IS NULL OR decision != 'false-positive') ORDER BY rowid",
            [scan_id],
        )
    )
