"""Open a siteaudit database, upgrading an older one to today's schema in one transaction."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from store.schema import MIGRATIONS, SCHEMA_VERSION, actual_version, apply, columns, shape_at

log = logging.getLogger(__name__)


class StorageError(Exception):
    """The database cannot be opened or written."""


def now() -> str:
    """The current UTC time as ISO 8601, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def open_database(path: str | Path, create: bool = True) -> sqlite_utils.Database:
    """Open a siteaudit database in WAL mode: create it if asked, and upgrade an older one.

    A read (create=False) upgrades too, since reports query today's columns; it leaves a
    file without a siteaudit schema alone."""
    path = Path(path)
    if not create and not path.exists():
        raise StorageError(f"{path}: no such database; run siteaudit scan --db {path} first")
    if create and not path.parent.exists():
        raise StorageError(f"{path}: folder {path.parent} does not exist; create it first")
    try:
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        version = stamped_version(conn, path)
        if create:
            conn.execute("PRAGMA journal_mode=WAL")
        if version < SCHEMA_VERSION and (create or version > 0):
            upgrade(conn, path)
    except sqlite3.Error as err:
        raise StorageError(
            f"{path}: cannot use this database ({err}); choose a writable --db path"
        ) from None
    return sqlite_utils.Database(conn)


def stamped_version(conn: sqlite3.Connection, path: Path) -> int:
    """The file's PRAGMA user_version, refusing one written by a newer siteaudit."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StorageError(
            f"{path}: written by a newer siteaudit (schema {version}, this one knows "
            f"{SCHEMA_VERSION}); upgrade siteaudit or use another --db"
        )
    return version


def upgrade(conn: sqlite3.Connection, path: Path) -> None:
    """Apply the missing migrations and stamp the version, all in one transaction, so a
    failure (or a kill) leaves the database as it was."""
    conn.execute("BEGIN IMMEDIATE")  # holds off another process upgrading the same file
    try:
        stamped = stamped_version(conn, path)  # again: another process may have upgraded it
        version = actual_version(conn, stamped)
        if stamped:
            log.info(
                "upgrading %s from schema %d (stamped %d) to %d",
                path,
                version,
                stamped,
                SCHEMA_VERSION,
            )
        for migration in MIGRATIONS[version:]:
            apply(conn, migration)
        check_shape(conn, path)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


def check_shape(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse to stamp a database that still lacks a table or column of today's schema (a
    file some other program made, or one edited by hand)."""
    have = columns(conn)
    for table, want in shape_at(SCHEMA_VERSION).items():
        missing = ", ".join(sorted(want - have.get(table, set())))
        if table not in have or missing:
            what = f"{table} lacks {missing}" if table in have else f"no table {table}"
            raise StorageError(
                f"{path}: not a siteaudit database this version can upgrade ({what}); "
                "use another --db"
            )
