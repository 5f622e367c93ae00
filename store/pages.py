"""Pages, documents and fetches of a scan, as reports, the CI gate and the scan read them."""

from __future__ import annotations

from typing import Any

from vocabulary.labels import SERVER_TIME_SOURCES


def page_rows(db: Any, scan_id: int) -> list[dict[str, Any]]:
    """Every column of every page of a scan."""
    return list(db.query("SELECT * FROM pages WHERE scan_id = ?", [scan_id]))


def document_rows(db: Any, scan_id: int) -> list[dict[str, Any]]:
    """Every column of every document of a scan, by URL."""
    return list(db.query("SELECT * FROM documents WHERE scan_id = ? ORDER BY url", [scan_id]))


def page_count(db: Any, scan_id: int) -> int:
    return db.execute("SELECT count(*) FROM pages WHERE scan_id = ?", [scan_id]).fetchone()[0]


def audited_page_count(db: Any, scan_id: int) -> int:
    """Pages the audit finished on (in the browser, or read without one)."""
    sql = "SELECT count(*) FROM pages WHERE scan_id = ? AND audited_at IS NOT NULL"
    return db.execute(sql, [scan_id]).fetchone()[0]


def page_urls(db: Any, scan_id: int) -> set[str]:
    """URLs of every page of a scan, read or not: a page absent from it is gone from the site."""
    return {url for (url,) in db.execute("SELECT url FROM pages WHERE scan_id = ?", [scan_id])}


def pages_without_error(db: Any, scan_id: int) -> list[str]:
    """URLs of the pages read and audited without an error."""
    rows = db.execute("SELECT url FROM pages WHERE scan_id = ? AND error IS NULL", [scan_id])
    return [url for (url,) in rows]


def page_fetches(db: Any, scan_id: int) -> list[tuple[str, int | None, str | None]]:
    """(url, status, error) of every fetch of a page, or of a URL whose kind is unknown
    because it could not be fetched at all."""
    return db.execute(
        "SELECT url, status_code, error FROM fetches "
        "WHERE scan_id = ? AND (kind = 'page' OR kind IS NULL)",
        [scan_id],
    ).fetchall()


def page_audits(db: Any, scan_id: int) -> list[tuple[str, str | None, int | None]]:
    """(url, error, whether the scan used the browser) of every stored page."""
    return db.execute(
        "SELECT p.url, p.error, s.browser FROM pages p JOIN scans s ON s.id = p.scan_id "
        "WHERE p.scan_id = ?",
        [scan_id],
    ).fetchall()


def first_fetch(db: Any, scan_id: int, url: str) -> dict[str, Any] | None:
    """The fetch of this URL (or else the scan's first fetch): status, error, reason and
    where it went."""
    return next(
        db.query(
            "SELECT status_code, error, reason, final_url FROM fetches WHERE scan_id = ? "
            "ORDER BY url = ? DESC, rowid LIMIT 1",
            [scan_id, url],
        ),
        None,
    )


def server_time_pages(db: Any, scan_id: int) -> dict[str, int]:
    """How many pages had their Last-Modified header judged the server's time, by why (its
    source in page_dates: vocabulary/labels.py SERVER_TIME_SOURCES); no entry for none."""
    sources = list(SERVER_TIME_SOURCES)
    rows = db.execute(
        "SELECT source, count(DISTINCT url) FROM page_dates WHERE scan_id = ? "
        f"AND source IN ({', '.join('?' * len(sources))}) GROUP BY source",
        [scan_id, *sources],
    )
    return dict(rows.fetchall())
