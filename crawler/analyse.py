"""The whole-scan stage after the crawl: template issues and page scores, re-runnable."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Any

from audits.score import ScoredFinding, page_score
from settings.model import TemplateConfig


def analyse_scan(
    db: Any, scan_id: int, templates: TemplateConfig, default_team: str = "Unassigned"
) -> None:
    """Mark template issues and score every page of a scan; safe to run again."""
    with db.atomic():
        assign_documents(db, scan_id, default_team)
        record_broken_links(db, scan_id)
        mark_template_findings(db, scan_id, templates)
        score_pages(db, scan_id)


def assign_documents(db: Any, scan_id: int, default_team: str = "Unassigned") -> None:
    """A document belongs to the team of the shallowest page linking to it."""
    db.execute(
        """UPDATE documents SET linked_from = coalesce((
               SELECT l.source_url FROM links l JOIN pages p
                 ON p.scan_id = l.scan_id AND p.url = l.source_url
               WHERE l.scan_id = documents.scan_id AND l.target_url = documents.url
               ORDER BY p.depth, l.source_url LIMIT 1), linked_from)
           WHERE scan_id = ?""",
        [scan_id],
    )
    db.execute(
        """UPDATE documents SET team = (SELECT p.team FROM pages p
               WHERE p.scan_id = documents.scan_id AND p.url = documents.linked_from)
           WHERE scan_id = ?""",
        [scan_id],
    )
    db.execute(
        """UPDATE findings SET team = coalesce((SELECT d.team FROM documents d
               WHERE d.scan_id = findings.scan_id AND d.url = findings.url), ?)
           WHERE scan_id = ? AND kind = 'document'""",
        [default_team, scan_id],
    )


# Why a link was not followed, rather than broken: not a fault of the page.
NOT_BROKEN_ERRORS = ("disallowed by robots.txt",)


def record_broken_links(db: Any, scan_id: int) -> None:
    """A broken-link finding on each linking page, owned by that page's team: one per
    distinct target, with its status or error and the link's text."""
    db.execute("DELETE FROM findings WHERE scan_id = ? AND kind = 'broken-link'", [scan_id])
    rows = db.execute(
        """SELECT l.source_url, l.target_url, min(l.link_text), l.internal, l.status_code,
                  l.error, p.team
           FROM links l JOIN pages p ON p.scan_id = l.scan_id AND p.url = l.source_url
           WHERE l.scan_id = ? AND (l.status_code >= 400 OR l.error IS NOT NULL)
           GROUP BY l.source_url, l.target_url""",
        [scan_id],
    ).fetchall()
    db["findings"].insert_all(
        broken_link_finding(scan_id, *row) for row in rows if row[5] not in NOT_BROKEN_ERRORS
    )


def broken_link_finding(
    scan_id: int,
    source: str,
    target: str,
    text: str | None,
    internal: int,
    status: int | None,
    error: str | None,
    team: str,
) -> dict[str, Any]:
    where = "on this site" if internal else "on another site"
    outcome = f"answered {status}" if status else f"could not be reached ({error})"
    label = f"“{text}”" if text else "A link with no text"
    return {
        "scan_id": scan_id,
        "url": source,
        "team": team,
        "kind": "broken-link",
        "rule_id": "broken-link-internal" if internal else "broken-link-external",
        "impact": "serious" if internal else "moderate",
        "wcag": None,
        "level": None,
        "outcome": "violation",
        "selector": None,
        "snippet": target,
        "summary": f"{label} goes to a page {where} that {outcome}.\nUpdate the link to the "
        "page's new address, or remove it.",
        "help": "Broken link",
        "help_url": "https://www.gov.uk/guidance/content-design/links",
        "fingerprint": "broken-link:" + hashlib.sha256(target.encode()).hexdigest()[:16],
        "scope": "content",
    }


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
    # A document's problems count against the page that links it (its shallowest).
    for url, kind, rule_id, impact, level, outcome in db.execute(
        "SELECT coalesce(d.linked_from, f.url), f.kind, f.rule_id, f.impact, f.level, "
        "f.outcome FROM findings f LEFT JOIN documents d ON f.kind = 'document' "
        "AND d.scan_id = f.scan_id AND d.url = f.url WHERE f.scan_id = ?",
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
