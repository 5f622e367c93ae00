"""The SQLite schema (the contract between stages) and the single writer thread."""

from __future__ import annotations

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

# Bump when a table or column changes, and describe the change in docs/schema.md.
SCHEMA_VERSION = 2

SCAN_STATUSES = ("running", "finished", "interrupted", "blocked", "failed")

SCHEMA = """
CREATE TABLE IF NOT EXISTS scans (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    start_url TEXT,
    status TEXT NOT NULL CHECK (status IN ('running','finished','interrupted','blocked','failed')),
    axe_version TEXT,
    axe_rules TEXT,
    rules_key TEXT,
    sandboxed INTEGER,
    wcag TEXT,
    browser INTEGER,
    config TEXT,
    pages_audited INTEGER,
    pages_failed INTEGER,
    message TEXT
);
CREATE TABLE IF NOT EXISTS pages (
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
    last_updated TEXT,
    last_updated_source TEXT,
    review_due TEXT,
    reading_age_target REAL,
    render_hash TEXT,
    reused_from_scan INTEGER,
    reason TEXT,
    score REAL,
    UNIQUE (scan_id, url)
);
CREATE TABLE IF NOT EXISTS page_dates (
    scan_id INTEGER NOT NULL REFERENCES scans(id),
    url TEXT NOT NULL,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    value TEXT NOT NULL,
    evidence TEXT
);
CREATE TABLE IF NOT EXISTS findings (
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
    team TEXT,
    scope TEXT NOT NULL DEFAULT 'content'
);
CREATE TABLE IF NOT EXISTS links (
    scan_id INTEGER NOT NULL REFERENCES scans(id),
    source_url TEXT NOT NULL,
    target_url TEXT NOT NULL,
    link_text TEXT,
    internal INTEGER,
    status_code INTEGER,
    error TEXT
);
CREATE TABLE IF NOT EXISTS documents (
    scan_id INTEGER NOT NULL REFERENCES scans(id),
    url TEXT NOT NULL,
    content_type TEXT,
    bytes INTEGER,
    linked_from TEXT,
    status_code INTEGER,
    team TEXT,
    kind TEXT,
    title TEXT,
    language TEXT,
    page_count INTEGER,
    created TEXT,
    modified TEXT,
    tagged INTEGER,
    has_text INTEGER,
    encrypted INTEGER,
    exempt_2018 INTEGER,
    check_error TEXT,
    UNIQUE (scan_id, url)
);
CREATE TABLE IF NOT EXISTS fetches (
    scan_id INTEGER NOT NULL REFERENCES scans(id),
    url TEXT NOT NULL,
    final_url TEXT,
    status_code INTEGER,
    content_type TEXT,
    kind TEXT,
    error TEXT,
    reason TEXT,
    UNIQUE (scan_id, url)
);
CREATE INDEX IF NOT EXISTS findings_scan_url ON findings(scan_id, url);
CREATE INDEX IF NOT EXISTS findings_fingerprint ON findings(fingerprint);
CREATE INDEX IF NOT EXISTS links_scan_target ON links(scan_id, target_url);
CREATE INDEX IF NOT EXISTS page_dates_scan_url ON page_dates(scan_id, url);
"""

# Statements that bring a database from version N-1 to N, run in order before SCHEMA.
MIGRATIONS = {
    2: [
        "ALTER TABLE pages ADD COLUMN last_updated TEXT",
        "ALTER TABLE pages ADD COLUMN last_updated_source TEXT",
        "ALTER TABLE pages ADD COLUMN review_due TEXT",
        "ALTER TABLE pages ADD COLUMN reading_age_target REAL",
        "ALTER TABLE pages ADD COLUMN score REAL",
        "ALTER TABLE findings ADD COLUMN scope TEXT NOT NULL DEFAULT 'content'",
        "ALTER TABLE scans ADD COLUMN axe_rules TEXT",
        "ALTER TABLE scans ADD COLUMN rules_key TEXT",
        "ALTER TABLE pages ADD COLUMN render_hash TEXT",
        "ALTER TABLE pages ADD COLUMN reused_from_scan INTEGER",
        "ALTER TABLE pages ADD COLUMN reason TEXT",
        "ALTER TABLE fetches ADD COLUMN reason TEXT",
        *(
            f"ALTER TABLE documents ADD COLUMN {column}"
            for column in (
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
            )
        ),
    ],
}


class StorageError(Exception):
    """The database cannot be opened or written."""


def now() -> str:
    """The current UTC time as ISO 8601, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def open_database(path: str | Path, create: bool = True) -> sqlite_utils.Database:
    """Open (and if asked, create or migrate) a siteaudit database in WAL mode."""
    path = Path(path)
    if not create and not path.exists():
        raise StorageError(f"{path}: no such database; run siteaudit scan --db {path} first")
    if create and not path.parent.exists():
        raise StorageError(f"{path}: folder {path.parent} does not exist; create it first")
    try:
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"{path}: written by a newer siteaudit (schema {version}, this one knows "
                f"{SCHEMA_VERSION}); upgrade siteaudit or use another --db"
            )
        if create:
            conn.execute("PRAGMA journal_mode=WAL")
            migrate(conn, version)
            conn.executescript(SCHEMA)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.commit()
    except sqlite3.Error as err:
        raise StorageError(
            f"{path}: cannot use this database ({err}); choose a writable --db path"
        ) from None
    return sqlite_utils.Database(conn)


def migrate(conn: sqlite3.Connection, version: int) -> None:
    """Upgrade an older database in place; a new one (version 0) gets SCHEMA directly."""
    if version == 0:
        return
    with conn:
        for target in range(version + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS.get(target, []):
                conn.execute(statement)


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
