"""The SQLite schema (the contract between stages) and the single writer thread."""

from __future__ import annotations

import functools
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

log = logging.getLogger(__name__)

SCAN_STATUSES = ("running", "finished", "interrupted", "blocked", "failed")


@dataclass(frozen=True)
class AddColumns:
    """Columns to add to a table, skipping any it already has: builds before version 3 ran
    their ALTERs outside a transaction and stamped 2 on four different shapes, so an older
    database can hold some of a step's columns already."""

    table: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Migration:
    """One schema change: the statements that bring a database from version - 1 to version."""

    version: int
    change: str
    steps: tuple[str | AddColumns, ...]


# The schema's one source of truth: a new database is every migration applied in order to an
# empty file. To change the schema, append a Migration (never edit a released one) and
# describe it in docs/schema.md ("Versions and upgrades").
MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "the first schema (commit dcad1af)",
        (
            """CREATE TABLE IF NOT EXISTS scans (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    start_url TEXT,
    status TEXT NOT NULL CHECK (status IN ('running','finished','interrupted','blocked','failed')),
    axe_version TEXT,
    sandboxed INTEGER,
    wcag TEXT,
    browser INTEGER,
    config TEXT,
    pages_audited INTEGER,
    pages_failed INTEGER,
    message TEXT
)""",
            """CREATE TABLE IF NOT EXISTS pages (
    scan_id INTEGER NOT NULL REFERENCES scans(id),
    url TEXT NOT NULL,
    status_code INTEGER,
    content_type TEXT,
    title TEXT,
    lang TEXT,
    team TEXT,
    depth INTEGER,
    found_via TEXT,
    sitemap_lastmod TEXT,
    last_modified_header TEXT,
    content_hash TEXT,
    bytes INTEGER,
    word_count INTEGER,
    sentence_count INTEGER,
    reading_ease REAL,
    grade_level REAL,
    reading_age REAL,
    readability_measured INTEGER,
    readability_note TEXT,
    long_sentences TEXT,
    words_to_avoid TEXT,
    violations INTEGER,
    needs_review INTEGER,
    frames_present INTEGER,
    frames_audited INTEGER,
    blocked_requests TEXT,
    audit_ms INTEGER,
    fetched_at TEXT,
    audited_at TEXT,
    error TEXT,
    UNIQUE (scan_id, url)
)""",
            """CREATE TABLE IF NOT EXISTS findings (
    scan_id INTEGER NOT NULL REFERENCES scans(id),
    url TEXT NOT NULL,
    kind TEXT NOT NULL,
    rule_id TEXT,
    impact TEXT,
    wcag TEXT,
    level TEXT,
    outcome TEXT NOT NULL,
    selector TEXT,
    snippet TEXT,
    summary TEXT,
    help TEXT,
    help_url TEXT,
    fingerprint TEXT,
    team TEXT
)""",
            """CREATE TABLE IF NOT EXISTS links (
    scan_id INTEGER NOT NULL REFERENCES scans(id),
    source_url TEXT NOT NULL,
    target_url TEXT NOT NULL,
    link_text TEXT,
    internal INTEGER,
    status_code INTEGER,
    error TEXT
)""",
            """CREATE TABLE IF NOT EXISTS documents (
    scan_id INTEGER NOT NULL REFERENCES scans(id),
    url TEXT NOT NULL,
    content_type TEXT,
    bytes INTEGER,
    linked_from TEXT,
    status_code INTEGER,
    UNIQUE (scan_id, url)
)""",
            """CREATE TABLE IF NOT EXISTS fetches (
    scan_id INTEGER NOT NULL REFERENCES scans(id),
    url TEXT NOT NULL,
    final_url TEXT,
    status_code INTEGER,
    content_type TEXT,
    kind TEXT,
    error TEXT,
    UNIQUE (scan_id, url)
)""",
            "CREATE INDEX IF NOT EXISTS findings_scan_url ON findings(scan_id, url)",
            "CREATE INDEX IF NOT EXISTS findings_fingerprint ON findings(fingerprint)",
            "CREATE INDEX IF NOT EXISTS links_scan_target ON links(scan_id, target_url)",
        ),
    ),
    Migration(
        2,
        "dates, review dates, reading-age targets, scores and template findings (e2f44cf)",
        (
            AddColumns(
                "pages",
                (
                    "last_updated TEXT",
                    "last_updated_source TEXT",
                    "review_due TEXT",
                    "reading_age_target REAL",
                    "score REAL",
                ),
            ),
            """CREATE TABLE IF NOT EXISTS page_dates (
    scan_id INTEGER NOT NULL REFERENCES scans(id),
    url TEXT NOT NULL,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    value TEXT NOT NULL,
    evidence TEXT
)""",
            AddColumns("findings", ("scope TEXT NOT NULL DEFAULT 'content'",)),
            "CREATE INDEX IF NOT EXISTS page_dates_scan_url ON page_dates(scan_id, url)",
        ),
    ),
    Migration(
        3,
        "scans.axe_rules, for the CI gate (9c7675b)",
        (AddColumns("scans", ("axe_rules TEXT",)),),
    ),
    Migration(
        4,
        "incremental rescans and document checks (329a7d5)",
        (
            AddColumns("scans", ("rules_key TEXT",)),
            AddColumns("pages", ("render_hash TEXT", "reused_from_scan INTEGER")),
            AddColumns(
                "documents",
                (
                    "team TEXT",
                    "kind TEXT",
                    "title TEXT",
                    "language TEXT",
                    "page_count INTEGER",
                    "created TEXT",
                    "modified TEXT",
                    "tagged INTEGER",
                    "has_text INTEGER",
                    "encrypted INTEGER",
                    "exempt_2018 INTEGER",
                    "check_error TEXT",
                ),
            ),
        ),
    ),
    Migration(
        5,
        "pages.reason and fetches.reason (c90bf09)",
        (AddColumns("pages", ("reason TEXT",)), AddColumns("fetches", ("reason TEXT",))),
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)

# Builds from e2f44cf to c90bf09 changed the schema but all stamped this version, without
# migrating: a database stamped 2 is whichever of versions 2 to 5 its columns show.
AMBIGUOUS_VERSION = 2


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


def apply(conn: sqlite3.Connection, migration: Migration) -> None:
    """Run one migration's steps on an open transaction."""
    for step in migration.steps:
        if isinstance(step, str):
            conn.execute(step)
            continue
        have = columns(conn).get(step.table, set())
        for column in step.columns:
            if column.split()[0] not in have:
                conn.execute(f"ALTER TABLE {step.table} ADD COLUMN {column}")


def columns(conn: sqlite3.Connection) -> dict[str, set[str]]:
    """Each table's column names."""
    tables = [
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {
        table: {row[1] for row in conn.execute(f'PRAGMA table_info("{quoted(table)}")')}
        for table in tables
    }


def quoted(name: str) -> str:
    """A table name for a double-quoted identifier (a foreign file may name tables oddly)."""
    return name.replace('"', '""')


@functools.cache
def shape_at(version: int) -> dict[str, frozenset[str]]:
    """The tables and columns a database has at a version: its migrations run on a new one."""
    conn = sqlite3.connect(":memory:")
    try:
        for migration in MIGRATIONS[:version]:
            apply(conn, migration)
        return {table: frozenset(names) for table, names in columns(conn).items()}
    finally:
        conn.close()


def actual_version(conn: sqlite3.Connection, stamped: int) -> int:
    """The version a database's tables really have: the stamp, except for the ambiguous one,
    where the newest version whose every column the database has decides."""
    if stamped != AMBIGUOUS_VERSION:
        return stamped
    have = columns(conn)
    return max(
        version
        for version in range(AMBIGUOUS_VERSION, SCHEMA_VERSION + 1)
        if version == AMBIGUOUS_VERSION or has_shape(have, shape_at(version))
    )


def has_shape(have: dict[str, set[str]], want: dict[str, frozenset[str]]) -> bool:
    """Whether a database has every table and column of a version (and perhaps more)."""
    return all(want[table] <= have.get(table, set()) for table in want)


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


@dataclass
class Batch:
    """Rows queued for one transaction, by table."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, table: str, rows: Iterable[dict[str, Any]]) -> None:
        self.rows.setdefault(table, []).extend(rows)


# Tables where a row for the same (scan_id, url) replaces the earlier one.
UPSERT_TABLES = {"pages", "documents", "fetches"}


class Writer(threading.Thread):
    """The one thread that writes: rows arrive on a queue, commit at least once a second."""

    def __init__(self, db_path: str | Path, interval: float = 1.0) -> None:
        super().__init__(name="siteaudit-writer", daemon=True)
        self.db_path = db_path
        self.interval = interval
        self.inbox: queue.Queue[list[tuple[str, list[dict[str, Any]]]] | None] = queue.Queue()
        self.failure: BaseException | None = None

    def put(self, table: str, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.inbox.put([(table, rows)])

    def put_together(self, parts: list[tuple[str, list[dict[str, Any]]]]) -> None:
        """Rows for several tables that must land in the same transaction (a page and its
        findings and links), so a killed scan never keeps half a page."""
        self.inbox.put([(table, rows) for table, rows in parts if rows])

    def close(self) -> None:
        """Flush what is queued and stop."""
        self.inbox.put(None)
        self.join()
        if self.failure:
            raise StorageError(f"{self.db_path}: writing failed ({self.failure})")

    def run(self) -> None:
        db = open_database(self.db_path)
        try:
            self._loop(db)
        except BaseException as err:
            log.exception("database writer failed")
            self.failure = err
        finally:
            db.conn.close()

    def _loop(self, db: sqlite_utils.Database) -> None:
        stopping = False
        while not stopping:
            batch, stopping = self._collect()
            if batch.rows:
                write_batch(db, batch)

    def _collect(self) -> tuple[Batch, bool]:
        """Gather rows for up to one interval, so each transaction carries many rows."""
        batch = Batch()
        deadline = time.monotonic() + self.interval
        while (left := deadline - time.monotonic()) > 0:
            try:
                item = self.inbox.get(timeout=left)
            except queue.Empty:
                break
            if item is None:
                return batch, True
            for table, rows in item:
                batch.add(table, rows)
        return batch, False


def write_batch(db: sqlite_utils.Database, batch: Batch) -> None:
    """Write one batch in one transaction."""
    with db.atomic():
        for table, rows in batch.rows.items():
            if table in UPSERT_TABLES:
                db[table].insert_all(rows, replace=True, alter=False)
            else:
                db[table].insert_all(rows, alter=False)


def start_scan(db: sqlite_utils.Database, start_url: str, **fields: Any) -> int:
    """Record a new running scan and return its id."""
    with db.atomic():
        table = db["scans"].insert(
            {"started_at": now(), "start_url": start_url, "status": "running", **fields}
        )
    return int(table.last_pk)


def fill_link_statuses(db: sqlite_utils.Database, scan_id: int) -> None:
    """Give each link its target's status or fetch error, once the crawl has fetched them."""
    with db.atomic():
        db.execute(
            """UPDATE links SET
                 status_code = (SELECT f.status_code FROM fetches f
                                WHERE f.scan_id = links.scan_id AND f.url = links.target_url),
                 error = (SELECT f.error FROM fetches f
                          WHERE f.scan_id = links.scan_id AND f.url = links.target_url)
               WHERE scan_id = ?""",
            [scan_id],
        )


def finish_scan(db: sqlite_utils.Database, scan_id: int, status: str, **fields: Any) -> None:
    """Mark a scan ended."""
    with db.atomic():
        db["scans"].update(scan_id, {"status": status, "finished_at": now(), **fields})
