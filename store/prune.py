"""Pruning: old scans removed with every row that is theirs, and the pictures no finding shows.

What a later scan takes from an earlier one is copied into its own rows when it scans
(store/previous.py: a reused audit's page columns and findings, picture ids included; a
reused reading), so no kept scan reads a removed one's rows. Pictures are shared by id, so
a picture goes only when no remaining finding shows it. Decisions come from the
`--decisions` file each time a scan or report applies it, never from an earlier scan's
rows, so removing a scan removes only the record of what applied to it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from store.previous import previous_read_scan, previous_scan
from store.schema import columns, quoted

RUNNING, INTERRUPTED, FINISHED = "running", "interrupted", "finished"
RUNNING_REASON = (
    "status running: still running, or killed (siteaudit cannot tell which; "
    "--resume finishes a killed one)"
)
# The scans to remove, as a JSON list bound to :ids (no limit on how many).
IDS = "(SELECT value FROM json_each(:ids))"


@dataclass(frozen=True)
class StoredScan:
    """What pruning needs to know of one scan."""

    id: int
    started_at: str
    start_url: str | None  # the site: a start URL's scans are its history, as --resume has it
    status: str
    browser: bool
    rules_key: str | None

    @property
    def started_on(self) -> str:
        return (self.started_at or "")[:10]


@dataclass(frozen=True)
class Retention:
    """Which scans to remove: those beyond each site's `keep` newest, those started (UTC)
    before the day `before`; given both, only the scans both choose."""

    keep: int | None = None
    before: date | None = None

    def __post_init__(self) -> None:
        if self.keep is None and self.before is None:
            raise ValueError("a retention needs keep, before or both")

    def chooses(self, scan: StoredScan, rank: int) -> bool:
        """Whether the scan goes, rank being its place among its site's scans, newest 0."""
        by_count = self.keep is None or rank >= self.keep
        by_date = self.before is None or scan.started_on < self.before.isoformat()
        return by_count and by_date


@dataclass(frozen=True)
class Spared:
    """A scan the retention chose that stays, and why."""

    scan: StoredScan
    why: str


@dataclass(frozen=True)
class PrunePlan:
    remove: tuple[StoredScan, ...]
    spared: tuple[Spared, ...]
    scans: int  # every scan in the file

    @property
    def ids(self) -> str:
        return json.dumps([scan.id for scan in self.remove])


@dataclass(frozen=True)
class Pruned:
    """What pruning removed, or would remove (a dry run)."""

    plan: PrunePlan
    rows: dict[str, int]  # table -> rows of the removed scans
    pictures: int
    picture_bytes: int


def stored_scans(db: Any) -> list[StoredScan]:
    rows = db.execute(
        "SELECT id, started_at, start_url, status, browser, rules_key FROM scans ORDER BY id"
    )
    return [StoredScan(i, at, url, status, bool(b), key) for i, at, url, status, b, key in rows]


def by_site(scans: list[StoredScan]) -> dict[str | None, list[StoredScan]]:
    """Each start URL's scans, newest first."""
    sites: dict[str | None, list[StoredScan]] = defaultdict(list)
    for scan in sorted(scans, key=lambda s: -s.id):
        sites[scan.start_url].append(scan)
    return sites


def plan_prune(db: Any, retention: Retention) -> PrunePlan:
    """The scans the retention chooses, less those that must stay."""
    scans = stored_scans(db)
    chosen = [
        scan
        for site in by_site(scans).values()
        for rank, scan in enumerate(site)
        if retention.chooses(scan, rank)
    ]
    keep = reasons_to_keep(db, scans)
    chosen.sort(key=lambda s: s.id)
    return PrunePlan(
        tuple(s for s in chosen if s.id not in keep),
        tuple(Spared(s, keep[s.id]) for s in chosen if s.id in keep),
        len(scans),
    )


def reasons_to_keep(db: Any, scans: list[StoredScan]) -> dict[int, str]:
    """Scans that stay whatever the retention says, each with the first reason found."""
    keep: dict[int, str] = {}
    carried_on: list[StoredScan] = []
    for site in by_site(scans).values():
        for scan, why in site_scans_to_keep(site):
            keep.setdefault(scan.id, why)
            if scan.status in (RUNNING, INTERRUPTED):
                carried_on.append(scan)
    for scan in carried_on:
        for source, why in reuse_sources(db, scan):
            keep.setdefault(source, why)
    return keep


def site_scans_to_keep(site: list[StoredScan]) -> list[tuple[StoredScan, str]]:
    """One site's scans (newest first) that must stay: every running one (siteaudit keeps
    no lock, so a scan killed mid-way looks the same as one still running), the newest
    finished one (what reports and the next comparison read) and the newest audited in the
    browser (the CI gate's --baseline reads that), and the newest interrupted one while no
    later scan has finished (--resume may still finish it)."""
    keep = [(s, RUNNING_REASON) for s in site if s.status == RUNNING]
    finished = [s for s in site if s.status == FINISHED]
    if finished:
        only = "the only" if len(finished) == 1 else "the newest"
        keep.append((finished[0], f"{only} finished scan of its site"))
        browser = next((s for s in finished if s.browser), None)
        if browser is not None:
            keep.append((browser, "the newest finished browser scan of its site"))
    interrupted = next((s for s in site if s.status == INTERRUPTED), None)
    if interrupted is not None and (not finished or interrupted.id > finished[0].id):
        keep.append((interrupted, "the newest interrupted scan of its site (--resume finishes it)"))
    return keep


def reuse_sources(db: Any, scan: StoredScan) -> list[tuple[int, str]]:
    """The earlier scans a running or resumable scan reads from when it carries on: the
    one whose readability it reuses, and the one whose audits it copies (store/previous.py)."""
    sources = []
    if (read := previous_read_scan(db, scan.id)) is not None:
        sources.append((read, f"scan {scan.id} reuses its readability when it carries on"))
    audited = previous_scan(db, scan.rules_key, scan.id) if scan.browser else None
    if audited is not None:
        sources.append((audited, f"scan {scan.id} copies its audits when it carries on"))
    return sources


def scan_tables(db: Any) -> list[str]:
    """Every table whose rows belong to a scan (it has a scan_id), in the schema's order."""
    return [t for t, names in columns(db.conn).items() if "scan_id" in names and t != "scans"]


def rows_of(db: Any, ids: str) -> dict[str, int]:
    """table -> how many of its rows belong to these scans."""
    return {
        table: db.execute(
            f'SELECT count(*) FROM "{quoted(table)}" WHERE scan_id IN {IDS}', {"ids": ids}
        ).fetchone()[0]
        for table in scan_tables(db)
    }


def unshown_pictures(db: Any, ids: str) -> tuple[int, int]:
    """(how many, bytes) of the pictures no finding of any other scan shows."""
    others = f"scan_id NOT IN {IDS}"
    count, size = db.execute(
        "SELECT count(*), coalesce(sum(bytes), 0) FROM pictures WHERE id NOT IN ("
        f"SELECT picture FROM findings WHERE picture IS NOT NULL AND {others} UNION "
        f"SELECT page_picture FROM findings WHERE page_picture IS NOT NULL AND {others})",
        {"ids": ids},
    ).fetchone()
    return int(count), int(size)


def delete_scans(db: Any, ids: str) -> dict[str, int]:
    """Remove the scans, their rows in every table, then the pictures nothing shows now;
    table -> rows removed."""
    removed = {
        table: db.execute(
            f'DELETE FROM "{quoted(table)}" WHERE scan_id IN {IDS}', {"ids": ids}
        ).rowcount
        for table in scan_tables(db)
    }
    db.execute(f"DELETE FROM scans WHERE id IN {IDS}", {"ids": ids})
    # NOT IN a list with a NULL in it is never true: the NULLs are left out.
    removed["pictures"] = db.execute(
        "DELETE FROM pictures WHERE id NOT IN ("
        "SELECT picture FROM findings WHERE picture IS NOT NULL UNION "
        "SELECT page_picture FROM findings WHERE page_picture IS NOT NULL)"
    ).rowcount
    return removed


def prune(db: Any, retention: Retention, dry_run: bool = False) -> Pruned:
    """Plan and remove in one transaction, begun before the plan is read so that no scan
    starts or ends between them; a dry run plans and counts, and changes nothing."""
    conn = db.conn
    conn.execute("BEGIN" if dry_run else "BEGIN IMMEDIATE")
    try:
        plan = plan_prune(db, retention)
        rows = rows_of(db, plan.ids)
        pictures, picture_bytes = unshown_pictures(db, plan.ids)
        if not dry_run:
            removed = delete_scans(db, plan.ids)
            pictures = removed.pop("pictures")
            rows = removed
    except BaseException:
        conn.rollback()
        raise
    if dry_run:
        conn.rollback()
    else:
        conn.commit()
    return Pruned(plan, rows, pictures, picture_bytes)


def reclaim_space(db: Any) -> bool:
    """Give the freed pages back to the file system: the WAL checkpointed into the file,
    VACUUM (which writes the rebuilt file through the WAL), and the WAL checkpointed and
    truncated again. False when another connection's open read held part of it back (the
    file shrinks at its next checkpoint)."""
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.execute("VACUUM")
    busy, _, _ = db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return busy == 0
