"""The figures of the one-screen summary printed when a scan ends."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from store.decisions import UNDECIDED
from store.findings import findings_in_scan
from vocabulary.decisions import is_decided
from vocabulary.findings import Finding
from vocabulary.problems import ProblemCounts, count_problems


@dataclass(frozen=True)
class ScanFigures:
    accessibility: ProblemCounts  # vocabulary/problems.py: what one problem is
    top_rules: list[RuleFigures]  # the five most widespread
    content_pages: dict[str, int]  # readability and freshness rule -> pages
    broken_links: dict[str, int]  # broken-link rule -> links (one in the layout counted once)
    documents: int
    documents_with_problems: int
    template_problems: int  # accessibility problems in the shared layout
    template_links: int  # broken links in the shared layout, each once
    pages_by_team: list[tuple[str | None, int]]  # most pages first
    # findings.decision -> findings: those set aside by people's decisions, and expired ones
    decisions: dict[str, int]


@dataclass(frozen=True)
class RuleFigures:
    rule_id: str
    problems: int
    pages: int
    elements: int


def scan_figures(db: Any, scan_id: int) -> ScanFigures:
    """What a scan found, counted."""
    documents, with_problems = db.execute(
        "SELECT count(DISTINCT d.url), count(DISTINCT f.url) FROM documents d "
        "LEFT JOIN findings f "
        "ON f.scan_id = d.scan_id AND f.url = d.url AND f.kind = 'document' "
        f"AND f.outcome = 'violation' AND {UNDECIDED} WHERE d.scan_id = ?",
        [scan_id],
    ).fetchone()
    violations = [
        f
        for f in findings_in_scan(db, scan_id, kind="accessibility", outcome="violation")
        if not is_decided(f.decision)  # decided ones count nowhere (vocabulary/decisions.py)
    ]
    links = findings_in_scan(db, scan_id, kind="broken-link")  # decided: count_problems
    return ScanFigures(
        accessibility=count_problems(violations),
        top_rules=top_rules(violations),
        content_pages=dict(rows(db, CONTENT_PAGES, scan_id)),
        broken_links=broken_links(links),
        documents=documents,
        documents_with_problems=with_problems,
        template_problems=count_problems(f for f in violations if f.scope == "template").problems,
        template_links=count_problems(
            (f for f in links if f.scope == "template"), "broken-link"
        ).elements,
        pages_by_team=rows(db, PAGES_BY_TEAM, scan_id),
        decisions=dict(rows(db, DECISIONS, scan_id)),
    )


def top_rules(violations: list[Finding], limit: int = 5) -> list[RuleFigures]:
    """The rules failing on the most pages, counted as every other output counts them."""
    by_rule: dict[str, list[Finding]] = defaultdict(list)
    for finding in violations:
        by_rule[finding.rule_id].append(finding)
    figures = [
        RuleFigures(rule, counts.problems, len({f.url for f in found}), counts.elements)
        for rule, found in by_rule.items()
        for counts in [count_problems(found)]
    ]
    return sorted(figures, key=lambda r: (-r.pages, -r.elements, r.rule_id))[:limit]


def broken_links(found: list[Finding]) -> dict[str, int]:
    """Broken links by rule: one on a page is one link; one in the shared layout is one
    link however many pages show it (count_problems' elements)."""
    rules = sorted({f.rule_id for f in found if f.outcome == "violation"})
    return {
        rule: count_problems((f for f in found if f.rule_id == rule), "broken-link").elements
        for rule in rules
    }


def rows(db: Any, sql: str, scan_id: int) -> list[Any]:
    return db.execute(sql, [scan_id]).fetchall()


# A finding with a live decision counts nowhere (vocabulary/decisions.py); an expired one does.
CONTENT_PAGES = (
    "SELECT rule_id, count(DISTINCT url) FROM findings f WHERE scan_id = ? "
    f"AND kind IN ('readability', 'stale') AND {UNDECIDED} GROUP BY rule_id"
)
PAGES_BY_TEAM = "SELECT team, count(*) FROM pages WHERE scan_id = ? GROUP BY team ORDER BY 2 DESC"
DECISIONS = (
    "SELECT decision, count(*) FROM findings WHERE scan_id = ? AND decision IS NOT NULL "
    "GROUP BY decision"
)
