"""The one thread that writes a scan's rows: queued by the crawl, committed in batches."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from store.database import StorageError, open_database

log = logging.getLogger(__name__)


@dataclass
class Batch:
    """Rows queued for one transaction, by table."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Marks queued with the rows (Writer.mark), in order.
    marks: list[Any] = field(default_factory=list)

    def add(self, table: str, rows: Iterable[dict[str, Any]]) -> None:
        self.rows.setdefault(table, []).extend(rows)


@dataclass(frozen=True)
class Mark:
    """A point in the queue: every row queued before it is committed once it is passed."""

    value: Any


# Tables where a row for the same (scan_id, url) replaces the earlier one.
UPSERT_TABLES = {"pages", "documents", "fetches"}
# Tables whose rows are keyed by their content (a picture by its bytes' hash): a row
# already there is the same row, kept (INSERT OR IGNORE).
CONTENT_TABLES = {"pictures"}


class Writer(threading.Thread):
    """The one thread that writes: rows arrive on a queue, commit at least once a second."""

    def __init__(self, db_path: str | Path, interval: float = 1.0) -> None:
        super().__init__(name="siteaudit-writer", daemon=True)
        self.db_path = db_path
        self.interval = interval
        self.inbox: queue.Queue[list[tuple[str, list[dict[str, Any]]]] | Mark | None]
        self.inbox = queue.Queue()
        self.failure: BaseException | None = None
        # The value of the latest mark passed (mark()): what is committed so far.
        self.committed: Any = None

    def put(self, table: str, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.inbox.put([(table, rows)])

    def put_together(self, parts: list[tuple[str, list[dict[str, Any]]]]) -> None:
        """Rows for several tables that must land in the same transaction (a page and its
        findings and links), so a killed scan never keeps half a page."""
        self.inbox.put([(table, rows) for table, rows in parts if rows])

    def mark(self, value: Any) -> None:
        """Queue a mark: once every row queued before it is committed, `committed` is
        value (the distributed scan trims what is committed from the stream it reads)."""
        self.inbox.put(Mark(value))

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
            if batch.marks:
                self.committed = batch.marks[-1]

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
            if isinstance(item, Mark):
                batch.marks.append(item.value)
                continue
            for table, rows in item:
                batch.add(table, rows)
        return batch, False


def write_batch(db: sqlite_utils.Database, batch: Batch) -> None:
    """Write one batch in one transaction."""
    with db.atomic():
        for table, rows in batch.rows.items():
            if table in UPSERT_TABLES:
                db[table].insert_all(rows, replace=True, alter=False)
            elif table in CONTENT_TABLES:
                db[table].insert_all(rows, ignore=True, alter=False)
            else:
                db[table].insert_all(rows, alter=False)
