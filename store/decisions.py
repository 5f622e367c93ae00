"""Decisions in the store: the decisions table of each scan, and findings.decision."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from vocabulary.decisions import EXPIRED, Applied
from vocabulary.urls import path_and_query

# SQL for a finding (as f) with no live decision: vocabulary/decisions.py is_decided, in SQL.
UNDECIDED = f"(f.decision IS NULL OR f.decision = '{EXPIRED}')"


def finding_keys(db: Any, scan_id: int) -> list[tuple[int, str | None, str, str]]:
    """(row id, fingerprint, rule id, page) of every finding of a scan; the page is its path
    and query, as decisions name pages."""
    rows = db.execute(
        "SELECT rowid, fingerprint, rule_id, url FROM findings WHERE scan_id = ?", [scan_id]
    )
    return [(row, fp, rule or "", path_and_query(url or "")) for row, fp, rule, url in rows]


def save_decisions(
    db: Any, scan_id: int, statuses: Mapping[int, str], applied: Iterable[Applied]
) -> None:
    """Each finding's decision and the scan's decisions, in place of any before (a report
    with --decisions applies the file again)."""
    db.execute("UPDATE findings SET decision = NULL WHERE scan_id = ?", [scan_id])
    db.conn.executemany(
        "UPDATE findings SET decision = ? WHERE rowid = ?",
        [(status, row) for row, status in statuses.items()],
    )
    db.execute("DELETE FROM decisions WHERE scan_id = ?", [scan_id])
    db.conn.executemany(
        "INSERT INTO decisions (scan_id, fingerprint, page, decision, reason, expires, "
        "decided_by, expired) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                scan_id,
                a.fingerprint,
                a.page,
                a.decision,
                a.reason,
                a.expires.isoformat() if a.expires else None,
                a.decided_by,
                int(a.expired),
            )
            for a in applied
        ],
    )


def decisions_in_scan(db: Any, scan_id: int) -> list[Applied]:
    """The decisions recorded for a scan, in the order they applied."""
    rows = db.execute(
        "SELECT fingerprint, page, decision, reason, expires, decided_by, expired "
        "FROM decisions WHERE scan_id = ? ORDER BY rowid",
        [scan_id],
    )
    return [
        Applied(fp, page, kind, reason or "", parse_day(expires), by, bool(expired))
        for fp, page, kind, reason, expires, by, expired in rows
    ]


def parse_day(text: str | None) -> date | None:
    """A stored ISO date; anything else (a hand-edited row) is no date."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None
