"""Resume an interrupted scan: keep every page it stored, crawl on from its frontier."""

from __future__ import annotations

from typing import Any


class NothingToResume(Exception):
    """No interrupted scan of this site in the database."""


def resumable_scan(db: Any, start_url: str) -> int:
    """The latest scan of this start URL that was interrupted or killed while running."""
    row = db.execute(
        "SELECT max(id) FROM scans WHERE start_url = ? AND status IN ('running', 'interrupted')",
        [start_url],
    ).fetchone()
    if row[0] is None:
        raise NothingToResume(
            f"no interrupted scan of {start_url} to resume in this database; scan without --resume"
        )
    return int(row[0])


def done_urls(db: Any, scan_id: int) -> set[str]:
    """URLs with a final outcome: stored pages and documents, and failed fetches.

    A page that was fetched but not yet stored when the scan was killed is not done: its
    audit was lost with the process, so it is fetched again.
    """
    queries = (
        "SELECT url FROM pages WHERE scan_id = ?",
        "SELECT url FROM documents WHERE scan_id = ?",
        "SELECT url FROM fetches WHERE scan_id = ? AND (reason IS NOT NULL OR error IS NOT NULL "
        "OR status_code >= 400 OR final_url != url)",
    )
    return {url for sql in queries for (url,) in db.execute(sql, [scan_id])}


def frontier(db: Any, scan_id: int, done: set[str], max_depth: int) -> list[tuple[str, int, str]]:
    """(url, depth, linking page) for internal links of stored pages not yet done."""
    rows = db.execute(
        """SELECT l.target_url, min(p.depth) + 1, min(l.source_url)
           FROM links l JOIN pages p ON p.scan_id = l.scan_id AND p.url = l.source_url
           WHERE l.scan_id = ? AND l.internal = 1 AND p.depth < ?
           GROUP BY l.target_url ORDER BY 2, 1""",
        [scan_id, max_depth],
    )
    return [(url, depth, source) for url, depth, source in rows if url not in done]


def unchecked_links(db: Any, scan_id: int) -> list[str]:
    """Off-site links of stored pages whose check left no outcome (it was under way when the
    scan stopped, or the rows saying it were lost): to be checked by the resumed scan."""
    rows = db.execute(
        """SELECT DISTINCT l.target_url
           FROM links l JOIN pages p ON p.scan_id = l.scan_id AND p.url = l.source_url
           WHERE l.scan_id = ? AND l.internal = 0 AND NOT EXISTS (
             SELECT 1 FROM fetches f WHERE f.scan_id = l.scan_id AND f.url = l.target_url)
           ORDER BY 1""",
        [scan_id],
    )
    return [url for (url,) in rows]


def rows_stored(db: Any, parts: list[tuple[str, list[dict[str, Any]]]]) -> bool:
    """Whether a writer call's rows (Writer.put_together's parts) are stored already, so a
    repeat of them would add a second set: a page's (written with its findings and links in
    one transaction, so its row says they are there), a document's findings, or a link's."""
    tables = {table: rows[0] for table, rows in parts if rows}
    if row := tables.get("pages"):
        sql, params = "SELECT 1 FROM pages WHERE scan_id = ? AND url = ?", [row["url"]]
    elif row := tables.get("findings"):
        sql, params = "SELECT 1 FROM findings WHERE scan_id = ? AND url = ?", [row["url"]]
    elif row := tables.get("links"):
        sql = "SELECT 1 FROM links WHERE scan_id = ? AND source_url = ? AND target_url = ? "
        sql += "AND link_text IS ?"
        params = [row["source_url"], row["target_url"], row.get("link_text")]
    else:
        return False
    return db.execute(sql + " LIMIT 1", [row["scan_id"], *params]).fetchone() is not None
