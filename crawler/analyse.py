"""The whole-scan stage after the crawl: template issues and page scores, re-runnable."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from audits.score import ScoredFinding, page_score
from crawler.config import TemplateConfig


def analyse_scan(db: Any, scan_id: int, templates: TemplateConfig) -> None:
    """Mark template issues and score every page of a scan; safe to run again."""
    with db.conn:
        mark_template_findings(db, scan_id, templates)
        score_pages(db, scan_id)


def template_threshold(db: Any, scan_id: int, templates: TemplateConfig) -> int:
    """How many pages must share a problem for it to live in the template."""
    (audited,) = db.execute(
        "SELECT count(*) FROM pages WHERE scan_id = ? AND audited_at IS NOT NULL", [scan_id]
    ).fetchone()
    return max(templates.min_pages, int(templates.min_share * audited + 0.999999))


def mark_template_findings(db: Any, scan_id: int, templates: TemplateConfig) -> None:
    """The same problem on the same element of many pages is the shared layout's: the web
    team owns it, once, and page editors do not see it in their lists."""
    threshold = template_threshold(db, scan_id, templates)
    db.execute(
        "UPDATE findings SET scope = 'content', team = (SELECT p.team FROM pages p "
        "WHERE p.scan_id = findings.scan_id AND p.url = findings.url) "
        "WHERE scan_id = ? AND scope = 'template'",
        [scan_id],
    )
    db.execute(
        """UPDATE findings SET scope = 'template', team = ?
           WHERE scan_id = ? AND kind = 'accessibility' AND fingerprint IN (
               SELECT fingerprint FROM findings WHERE scan_id = ? AND kind = 'accessibility'
               GROUP BY fingerprint HAVING count(DISTINCT url) >= ?)""",
        [templates.owner, scan_id, scan_id, threshold],
    )


def score_pages(db: Any, scan_id: int) -> None:
    """pages.score from each page's findings (template ones too: users meet them there)."""
    findings: dict[str, list[ScoredFinding]] = defaultdict(list)
    for url, kind, rule_id, impact, level, outcome in db.execute(
        "SELECT url, kind, rule_id, impact, level, outcome FROM findings WHERE scan_id = ?",
        [scan_id],
    ):
        findings[url].append(ScoredFinding(kind, rule_id, impact, level, outcome))
    (browser,) = db.execute("SELECT browser FROM scans WHERE id = ?", [scan_id]).fetchone()
    pages = db.execute("SELECT url, audited_at FROM pages WHERE scan_id = ?", [scan_id])
    db.conn.executemany(
        "UPDATE pages SET score = ? WHERE scan_id = ? AND url = ?",
        [
            (score_for(findings.get(url, []), bool(browser), audited_at), scan_id, url)
            for url, audited_at in pages.fetchall()
        ],
    )


def score_for(findings: list[ScoredFinding], browser: bool, audited_at: str | None) -> float | None:
    """A page the browser could not audit has no score: its accessibility is unknown."""
    if browser and audited_at is None:
        return None
    return page_score(findings)
