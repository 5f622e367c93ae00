"""What the accessibility statement checks read: the links that may name the statement, the
statement pages' readings (pages.structure), the pages without a link to it, and the WCAG
criteria the scan found failing."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any


def statement_links(db: Any, scan_id: int) -> list[tuple[str, str, int]]:
    """(target, link text, pages linking so) of each link whose text speaks of accessibility
    (in English or Welsh)."""
    rows = db.execute(
        "SELECT target_url, link_text, count(DISTINCT source_url) FROM links "
        "WHERE scan_id = ? AND (link_text LIKE '%accessib%' OR link_text LIKE '%hygyrch%') "
        "GROUP BY target_url, link_text",
        [scan_id],
    )
    return [(target, text or "", count) for target, text, count in rows]


def page_urls(db: Any, scan_id: int) -> set[str]:
    """Every page of the scan."""
    return {url for (url,) in db.execute("SELECT url FROM pages WHERE scan_id = ?", [scan_id])}


def statement_readings(
    db: Any, scan_id: int, urls: Iterable[str]
) -> dict[str, tuple[str | None, Any]]:
    """url -> (team, what its structure says of the statement, None when nothing) for
    these pages of the scan."""
    found: dict[str, tuple[str | None, Any]] = {}
    for url in urls:
        row = db.execute(
            "SELECT team, structure FROM pages WHERE scan_id = ? AND url = ?", [scan_id, url]
        ).fetchone()
        if row is None:
            continue
        try:
            structure = json.loads(row[1]) if row[1] else {}
        except ValueError:
            structure = {}
        found[url] = (row[0], structure.get("statement") if isinstance(structure, dict) else None)
    return found


def pages_without_link(db: Any, scan_id: int, targets: list[str]) -> list[tuple[str, str | None]]:
    """(url, team) of each page read as HTML (its links known) that links to none of the
    targets, the targets themselves apart."""
    marks = ", ".join("?" * len(targets))
    # The subquery is not correlated: SQLite reads the linking pages once, into an index.
    rows = db.execute(
        f"SELECT url, team FROM pages WHERE scan_id = ? AND structure IS NOT NULL "
        f"AND url NOT IN ({marks}) AND url NOT IN (SELECT source_url FROM links "
        f"WHERE scan_id = ? AND target_url IN ({marks})) ORDER BY url",
        [scan_id, *targets, scan_id, *targets],
    )
    return [(url, team) for url, team in rows]


def failing_criteria(db: Any, scan_id: int) -> dict[str, int]:
    """Each WCAG success criterion the scan's accessibility violations fail, and the number
    of pages it fails on."""
    pages: dict[str, set[str]] = defaultdict(set)
    rows = db.execute(
        "SELECT DISTINCT url, wcag FROM findings WHERE scan_id = ? AND kind = 'accessibility' "
        "AND outcome = 'violation' AND wcag IS NOT NULL AND wcag != ''",
        [scan_id],
    )
    for url, wcag in rows:
        for criterion in str(wcag).split(","):
            if criterion.strip():
                pages[criterion.strip()].add(url)
    return {criterion: len(urls) for criterion, urls in pages.items()}
