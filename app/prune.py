"""siteaudit prune: remove old scans, say what went and what stayed, and reclaim the space."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import click

from reports.escape import terminal
from settings.loader import ConfigError
from store.database import StorageError, open_database
from store.prune import Pruned, PrunePlan, Retention, StoredScan, prune, reclaim_space
from vocabulary.problems import plural


def retention_from(keep: str | None, before: str | None) -> Retention:
    """--keep and --before as a Retention; a ConfigError naming the option otherwise."""
    if keep is None and before is None:
        raise ConfigError(
            "say which scans to remove: --keep N (keep each site's N newest scans), "
            "--before DATE (remove scans started before it), or both"
        )
    return Retention(
        parse_count(keep) if keep is not None else None,
        parse_day(before) if before is not None else None,
    )


def parse_count(text: str) -> int:
    """--keep's N, parsed here so that a bad one is one Error line, as every input is."""
    count = int(text) if text.strip().isdigit() else 0
    if count < 1:
        raise ConfigError(f"--keep must be a whole number of scans, 1 or more, not {text!r}")
    return count


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"--before must be an ISO date such as 2025-01-31, not {text!r}"
        ) from None


def run_prune(db_path: str, retention: Retention, dry_run: bool) -> None:
    """Remove (or, dry, list) the scans the retention chooses; then VACUUM the file."""
    db = open_database(db_path, create=False)
    try:
        before = database_bytes(db_path)
        try:
            pruned = prune(db, retention, dry_run)
        except sqlite3.Error as err:
            raise StorageError(
                f"{db_path}: nothing removed ({err}); try again when no scan is writing to it"
            ) from None
        print_pruned(pruned, dry_run)
        if dry_run:
            echo(f"Database {db_path}: {size(before)}; nothing removed (--dry-run)")
        elif not pruned.plan.remove and not pruned.pictures:
            echo(f"Database {db_path}: {size(before)}; nothing to reclaim")
        else:
            reclaim(db, db_path, before)
    finally:
        db.conn.close()


def reclaim(db: Any, db_path: str, before: int) -> None:
    try:
        complete = reclaim_space(db)
    except sqlite3.Error as err:
        raise StorageError(
            f"{db_path}: the scans are removed, but VACUUM could not run ({err}); run "
            "siteaudit prune again when no scan is writing to it, to reclaim the space"
        ) from None
    after = f"{size(database_bytes(db_path))} after VACUUM"
    if not complete:
        after += " (another process has it open: the file shrinks further when it closes)"
    echo(f"Database {db_path}: {size(before)} before, {after}")


def print_pruned(pruned: Pruned, dry_run: bool) -> None:
    plan = pruned.plan
    verb = "Would remove" if dry_run else "Removed"
    for site, scans in scans_by_site(plan).items():
        echo(f"{verb} {plural(len(scans), 'scan')} of {site or '(no start URL)'}: {ids(scans)}")
    for spared in plan.spared:
        scan = spared.scan
        echo(f"Kept scan {scan.id} ({scan.started_on}, {scan.status}): {spared.why}")
    if not plan.remove and not pruned.pictures:
        echo(f"Nothing to remove ({plural(plan.scans, 'scan')} in the database, all kept)")
        return
    rows = sum(pruned.rows.values())
    tables = ", ".join(f"{table} {count:,}" for table, count in pruned.rows.items())
    pictures = plural(pruned.pictures, "picture")
    if pruned.pictures:
        pictures += f" ({size(pruned.picture_bytes)})"
    echo(
        f"{verb} {len(plan.remove)} of {plural(plan.scans, 'scan')}, with {rows:,} rows "
        f"({tables}) and {pictures} that no remaining finding shows"
    )


def scans_by_site(plan: PrunePlan) -> dict[str | None, list[StoredScan]]:
    sites: dict[str | None, list[StoredScan]] = {}
    for scan in plan.remove:
        sites.setdefault(scan.start_url, []).append(scan)
    return sites


def ids(scans: list[StoredScan]) -> str:
    """Scan ids, runs of consecutive ones as ranges: "1-4, 7"."""
    runs: list[list[int]] = []
    for scan in scans:
        if runs and scan.id == runs[-1][-1] + 1:
            runs[-1].append(scan.id)
        else:
            runs.append([scan.id])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)


def database_bytes(path: str) -> int:
    """The database's size on disk: the file and its write-ahead log."""
    files = (Path(path), Path(f"{path}-wal"))
    return sum(f.stat().st_size for f in files if f.exists())


def size(n: int) -> str:
    if n < 1_000_000:
        return f"{n / 1000:,.1f} kB"
    return f"{n / 1_000_000:,.1f} MB"


def echo(text: str) -> None:
    # Start URLs and statuses come from the file: shown so that none can drive the terminal.
    click.echo(terminal(text), err=True)
