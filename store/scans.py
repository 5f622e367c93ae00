"""The scans table: a scan started, resumed and finished, and the scans reports look up."""

from __future__ import annotations

from typing import Any

from store.database import now
from store.schema import default_team_of


def start_scan(db: Any, start_url: str, **fields: Any) -> int:
    """Record a new running scan and return its id."""
    with db.atomic():
        table = db["scans"].insert(
            {"started_at": now(), "start_url": start_url, "status": "running", **fields}
        )
    return int(table.last_pk)


def reopen_scan(db: Any, scan_id: int) -> None:
    """Mark an interrupted scan running again, as --resume carries it on."""
    with db.atomic():
        db["scans"].update(scan_id, {"status": "running", "finished_at": None})


def set_config(db: Any, scan_id: int, config: str) -> None:
    """Replace the configuration a scan's row keeps (JSON: settings, and what a shared scan
    adds, app/distributed.py stored_config)."""
    with db.atomic():
        db["scans"].update(scan_id, {"config": config})


def finish_scan(db: Any, scan_id: int, status: str, **fields: Any) -> None:
    """Mark a scan ended."""
    with db.atomic():
        db["scans"].update(scan_id, {"status": status, "finished_at": now(), **fields})


def scan_row(db: Any, scan_id: int) -> dict[str, Any] | None:
    """Every column of one scan, or None if there is no such scan."""
    return next(db.query("SELECT * FROM scans WHERE id = ?", [scan_id]), None)


def latest_finished_scan(db: Any, before: int | None = None, browser: bool = False) -> int | None:
    """The latest finished scan (before a scan, or audited in the browser, if asked)."""
    sql = "SELECT max(id) FROM scans WHERE status = 'finished'"
    params: list[Any] = []
    if before is not None:
        sql += " AND id < ?"
        params.append(before)
    if browser:
        sql += " AND browser = 1"
    return db.execute(sql, params).fetchone()[0]


def default_team(db: Any, scan_id: int) -> str:
    """The team that owns what no rule gives to another: ownership.default_team, as the
    scan was configured (the configuration is stored with each scan)."""
    row = db.execute("SELECT config FROM scans WHERE id = ?", [scan_id]).fetchone()
    return default_team_of(row[0] if row else None)


def running_scans(db: Any) -> list[dict[str, Any]]:
    """The scans still marked running (killed, or whose seeder left them to workers): their
    id, start URL and start time."""
    return list(db.query("SELECT id, start_url, started_at FROM scans WHERE status = 'running'"))
