"""Each finding's history across scans: when it was first seen, and whether it is new,
returning or still open since the last scan of the same site.

A finding is the same problem in two scans when its fingerprint and its page, without the
host, are the same (a problem in the shared layout is one problem whatever page shows it),
as the CI gate and the report's changes read it. The day it was first seen is stored with
it, so pruning the scan that first found it (siteaudit prune) loses nothing.
"""

from __future__ import annotations

from typing import Any

from vocabulary.urls import path_and_query

LAYOUT = "(shared layout)"  # the page of a layout problem's key: no path looks like this
NEW, RETURNING, OPEN = "new", "returning", "open"


def finding_key(url: str, scope: str | None, fingerprint: str | None) -> tuple[str, str]:
    """(page without host, or LAYOUT for the shared layout; fingerprint)."""
    return (LAYOUT if scope == "template" else path_and_query(url), fingerprint or "")


def record_history(db: Any, scan_id: int) -> None:
    """Fill first_seen_scan, first_seen_at and history for every finding of a scan, from the
    earlier finished scans of the same start URL. Run again, it gives the same answer."""
    earlier = earlier_scans(db, scan_id)
    first = first_seen_before(db, scan_id, earlier)
    in_previous = keys_in_scan(db, earlier[-1]) if earlier else set()
    (today,) = db.execute(
        "SELECT substr(started_at, 1, 10) FROM scans WHERE id = ?", [scan_id]
    ).fetchone()
    updates = []
    for rowid, url, scope, fingerprint in db.execute(
        "SELECT rowid, url, scope, fingerprint FROM findings WHERE scan_id = ?", [scan_id]
    ).fetchall():
        key = finding_key(url, scope, fingerprint)
        seen_scan, seen_at = first.get(key, (scan_id, today))
        history = OPEN if key in in_previous else RETURNING if key in first else NEW
        updates.append((seen_scan, seen_at, history, rowid))
    connection(db).executemany(
        "UPDATE findings SET first_seen_scan = ?, first_seen_at = ?, history = ? WHERE rowid = ?",
        updates,
    )


def earlier_scans(db: Any, scan_id: int) -> list[int]:
    """The finished scans of the same start URL before this one, oldest first."""
    rows = db.execute(
        "SELECT id FROM scans WHERE id < :scan AND status = 'finished' "
        "AND start_url IS (SELECT start_url FROM scans WHERE id = :scan) ORDER BY id",
        {"scan": scan_id},
    )
    return [scan for (scan,) in rows]


def scans_of_site(db: Any, scan_id: int) -> list[int]:
    """The finished scans of a scan's start URL up to it, and the scan itself, oldest first."""
    return [*earlier_scans(db, scan_id), scan_id]


def first_seen_before(
    db: Any, scan_id: int, earlier: list[int]
) -> dict[tuple[str, str], tuple[int, str]]:
    """key -> (scan, day) it was first seen in, for the keys of this scan's fingerprints
    found by an earlier scan: what that scan stored, else that scan itself."""
    if not earlier:
        return {}
    marks = ", ".join("?" * len(earlier))
    rows = db.execute(
        "SELECT f.url, f.scope, f.fingerprint, coalesce(f.first_seen_scan, f.scan_id), "
        "coalesce(f.first_seen_at, substr(s.started_at, 1, 10)) "
        "FROM findings f JOIN scans s ON s.id = f.scan_id "
        f"WHERE f.scan_id IN ({marks}) "
        "AND f.fingerprint IN (SELECT fingerprint FROM findings WHERE scan_id = ?)",
        [*earlier, scan_id],
    )
    first: dict[tuple[str, str], tuple[int, str]] = {}
    for url, scope, fingerprint, seen_scan, seen_at in rows:
        key = finding_key(url, scope, fingerprint)
        if key not in first or (seen_at, seen_scan) < (first[key][1], first[key][0]):
            first[key] = (seen_scan, seen_at)
    return first


def keys_in_scan(db: Any, scan_id: int) -> set[tuple[str, str]]:
    rows = db.execute("SELECT url, scope, fingerprint FROM findings WHERE scan_id = ?", [scan_id])
    return {finding_key(url, scope, fingerprint) for url, scope, fingerprint in rows}


def history_in_scan(db: Any, scan_id: int) -> dict[tuple[str, str], tuple[str, str]]:
    """(page URL, fingerprint) -> (day first seen, new / returning / open), as stored."""
    rows = db.execute(
        "SELECT url, fingerprint, first_seen_at, history FROM findings WHERE scan_id = ?",
        [scan_id],
    )
    return {(url, fp or ""): (seen or "", history or "") for url, fp, seen, history in rows}


def first_seen_in_scan(db: Any, scan_id: int) -> dict[tuple[str, str], tuple[int | None, str]]:
    """(page URL, fingerprint) -> (scan first seen in, day first seen), as stored."""
    rows = db.execute(
        "SELECT url, fingerprint, first_seen_scan, first_seen_at FROM findings WHERE scan_id = ?",
        [scan_id],
    )
    return {(url, fp or ""): (seen_scan, seen or "") for url, fp, seen_scan, seen in rows}


def history_of_old_scans(conn: Any) -> None:
    """The history of every finished scan of a database made before version 9, oldest
    first, so each reads what the scans before it stored."""
    for (scan_id,) in conn.execute(
        "SELECT id FROM scans WHERE status = 'finished' ORDER BY id"
    ).fetchall():
        record_history(conn, scan_id)


def connection(db: Any) -> Any:
    """The sqlite3 connection under a sqlite-utils Database, or the connection itself."""
    return getattr(db, "conn", db)
