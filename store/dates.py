"""Pages' date evidence (page_dates) and chosen dates: read and rewritten once the crawl ends,
when a Last-Modified header many pages share is judged the server's time, and counted for
the report's note on it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

# (kind, source, value, evidence): one page_dates row.
DateRow = tuple[str, str, str, str | None]


def header_pages(db: Any, scan_id: int, sources: Iterable[str]) -> dict[str, str]:
    """url -> its Last-Modified header, for each page whose date evidence holds the header
    under one of these sources."""
    sources = list(sources)
    rows = db.execute(
        "SELECT p.url, p.last_modified_header FROM pages p WHERE p.scan_id = ? "
        "AND p.last_modified_header IS NOT NULL AND EXISTS (SELECT 1 FROM page_dates d "
        "WHERE d.scan_id = p.scan_id AND d.url = p.url "
        f"AND d.source IN ({', '.join('?' * len(sources))}))",
        [scan_id, *sources],
    )
    return dict(rows.fetchall())


def pages_with_source(
    db: Any, scan_id: int, source: str
) -> dict[str, tuple[str | None, list[DateRow]]]:
    """url -> (its team, all its date evidence), for each page with evidence from source."""
    found: dict[str, tuple[str | None, list[DateRow]]] = {}
    evidence: dict[str, list[DateRow]] = defaultdict(list)
    rows = db.execute(
        "SELECT p.url, p.team, d.kind, d.source, d.value, d.evidence FROM pages p "
        "JOIN page_dates d ON d.scan_id = p.scan_id AND d.url = p.url WHERE p.scan_id = ? "
        "AND p.url IN (SELECT url FROM page_dates WHERE scan_id = ? AND source = ?) "
        "ORDER BY d.rowid",
        [scan_id, scan_id, source],
    )
    for url, team, *row in rows:
        evidence[url].append(tuple(row))  # type: ignore[arg-type]
        found[url] = (team, evidence[url])
    return found


def save_page_dates(
    db: Any,
    scan_id: int,
    url: str,
    rows: list[DateRow],
    last_updated: tuple[str, str] | None,
    review_due: str | None,
) -> None:
    """A page's date evidence in place of what it had, and its chosen (date, source)."""
    db.execute("DELETE FROM page_dates WHERE scan_id = ? AND url = ?", [scan_id, url])
    db.conn.executemany(
        "INSERT INTO page_dates (scan_id, url, kind, source, value, evidence) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(scan_id, url, *row) for row in rows],
    )
    value, source = last_updated or (None, None)
    db.execute(
        "UPDATE pages SET last_updated = ?, last_updated_source = ?, review_due = ? "
        "WHERE scan_id = ? AND url = ?",
        [value, source, review_due, scan_id, url],
    )
