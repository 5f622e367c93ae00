"""The figures of the one-screen summary printed when a scan ends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ScanFigures:
    violations_by_impact: dict[str | None, int]
    top_rules: list[tuple[str, int, int]]  # (rule, pages, elements), the five most widespread
    content_pages: dict[str, int]  # readability and freshness rule -> pages
    broken_links: dict[str, int]  # broken-link rule -> findings
    documents: int
    documents_with_problems: int
    template_problems: int
    pages_by_team: list[tuple[str | None, int]]  # most pages first


def scan_figures(db: Any, scan_id: int) -> ScanFigures:
    """What a scan found, counted."""
    documents, with_problems = db.execute(
        "SELECT count(DISTINCT d.url), count(DISTINCT f.url) FROM documents d "
        "LEFT JOIN findings f "
        "ON f.scan_id = d.scan_id AND f.url = d.url AND f.kind = 'document' "
        "AND f.outcome = 'violation' WHERE d.scan_id = ?",
        [scan_id],
    ).fetchone()
    return ScanFigures(
        violations_by_impact=dict(rows(db, VIOLATIONS_BY_IMPACT, scan_id)),
        top_rules=rows(db, TOP_RULES, scan_id),
        content_pages=dict(rows(db, CONTENT_PAGES, scan_id)),
        broken_links=dict(rows(db, BROKEN_LINKS, scan_id)),
        documents=documents,
        documents_with_problems=with_problems,
        template_problems=rows(db, TEMPLATE_PROBLEMS, scan_id)[0][0],
        pages_by_team=rows(db, PAGES_BY_TEAM, scan_id),
    )


def rows(db: Any, sql: str, scan_id: int) -> list[Any]:
    return db.execute(sql, [scan_id]).fetchall()


VIOLATIONS_BY_IMPACT = (
    "SELECT impact, count(*) FROM findings WHERE scan_id = ? AND kind = 'accessibility' "
    "AND outcome = 'violation' GROUP BY impact"
)
TOP_RULES = (
    "SELECT rule_id, count(DISTINCT url), count(*) FROM findings WHERE scan_id = ? "
    "AND outcome = 'violation' AND kind = 'accessibility' GROUP BY rule_id "
    "ORDER BY 2 DESC, 3 DESC LIMIT 5"
)
CONTENT_PAGES = (
    "SELECT rule_id, count(DISTINCT url) FROM findings WHERE scan_id = ? "
    "AND kind IN ('readability', 'stale') GROUP BY rule_id"
)
BROKEN_LINKS = (
    "SELECT rule_id, count(*) FROM findings WHERE scan_id = ? AND kind = 'broken-link' "
    "GROUP BY rule_id"
)
TEMPLATE_PROBLEMS = (
    "SELECT count(DISTINCT fingerprint) FROM findings WHERE scan_id = ? AND scope = 'template'"
)
PAGES_BY_TEAM = "SELECT team, count(*) FROM pages WHERE scan_id = ? GROUP BY team ORDER BY 2 DESC"
