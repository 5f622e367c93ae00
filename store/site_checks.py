"""What the checks across the site read and write: each page's title and structure, and
their findings, replaced as a whole when the stage after the crawl runs again."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from store.findings import insert_findings
from vocabulary.findings import Finding


def pages_for_site_checks(
    db: Any, scan_id: int
) -> Iterator[tuple[str, str | None, str | None, str | None, dict[str, Any]]]:
    """(url, team, title, content hash, structure) of every page of a scan that was read."""
    rows = db.execute(
        "SELECT url, team, title, content_hash, structure FROM pages "
        "WHERE scan_id = ? AND structure IS NOT NULL ORDER BY url",
        [scan_id],
    )
    for url, team, title, content_hash, structure in rows:
        try:
            parsed = json.loads(structure)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            yield url, team, title, content_hash, parsed


def replace_rule_findings(
    db: Any, scan_id: int, rule_ids: Iterable[str], findings: Iterable[Finding]
) -> None:
    """Store a scan's findings of these rules in place of those it had (a re-run replaces
    them)."""
    rule_ids = list(rule_ids)
    db.execute(
        f"DELETE FROM findings WHERE scan_id = ? AND rule_id IN ({', '.join('?' * len(rule_ids))})",
        [scan_id, *rule_ids],
    )
    insert_findings(db, scan_id, findings)
