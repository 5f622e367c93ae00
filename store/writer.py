"""The one thread that writes a scan's rows: queued by the crawl, committed in batches."""

from __future__ import annotations

import functools
import json
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

import sqlite_utils

from store.database import StorageError, open_database
from store.schema import quoted

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
        # Marks queued and passed so far, for wait_for; `progress` tells of each pass.
        self.marks_queued = self.marks_passed = 0
        self.stopped = False
        self.progress = threading.Condition()

    def put(self, table: str, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.inbox.put([(table, rows)])

    def put_together(self, parts: list[tuple[str, list[dict[str, Any]]]]) -> None:
        """Rows for several tables that must land in the same transaction (a page and its
        findings and links), so a killed scan never keeps half a page."""
        self.inbox.put([(table, rows) for table, rows in parts if rows])

    def mark(self, value: Any) -> int:
        """Queue a mark: once every row queued before it is committed, `committed` is
        value (the distributed scan trims what is committed from the stream it reads).
        Its number, for wait_for. Called from one thread (the one queuing rows)."""
        self.marks_queued += 1
        self.inbox.put(Mark(value))
        return self.marks_queued

    def wait_for(self, number: int) -> None:
        """Until mark `number` is passed: every row queued before it committed (a shared
        scan's rows, before the checks across its site read them, while the writer goes on
        with the other scans'). A StorageError if the writer failed meanwhile."""
        with self.progress:
            self.progress.wait_for(lambda: self.marks_passed >= number or self.stopped)
        if self.failure or self.marks_passed < number:
            raise StorageError(f"{self.db_path}: writing failed ({self.failure})")

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
            with self.progress:  # a wait_for still waiting is told it never will pass
                self.stopped = True
                self.progress.notify_all()

    def _loop(self, db: sqlite_utils.Database) -> None:
        stopping = False
        while not stopping:
            batch, stopping = self._collect()
            if batch.rows:
                write_batch(db, batch)
            if batch.marks:
                self.committed = batch.marks[-1]
                with self.progress:
                    self.marks_passed += len(batch.marks)
                    self.progress.notify_all()

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
    """Write one batch in one transaction: one prepared INSERT a table, its rows in order."""
    with db.atomic():
        for table, rows in batch.rows.items():
            if rows:
                insert_rows(db.conn, table, rows)


def insert_rows(conn: sqlite3.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert rows as sqlite-utils' insert_all(alter=False) did, for a fraction of its
    Python: every column any row names, a row's missing ones NULL; pages and the like
    replaced, pictures kept. Rows are never reordered (a later row replaces an earlier)."""
    columns = tuple(dict.fromkeys(chain.from_iterable(rows)))
    conn.executemany(insert_sql(table, columns), [row_values(row, columns) for row in rows])


@functools.lru_cache(maxsize=256)
def insert_sql(table: str, columns: tuple[str, ...]) -> str:
    """The INSERT for a table and its columns, built once. The names come from our own
    code, never from a page; quoted all the same."""
    if table in UPSERT_TABLES:
        verb = "INSERT OR REPLACE"
    elif table in CONTENT_TABLES:
        verb = "INSERT OR IGNORE"
    else:
        verb = "INSERT"
    names = ", ".join(f'"{quoted(c)}"' for c in columns)
    return f'{verb} INTO "{quoted(table)}" ({names}) VALUES ({", ".join("?" * len(columns))})'


# The types our rows' values have, which sqlite-utils passed to sqlite3 unchanged (a bool
# is stored as 0 or 1 by both).
PLAIN_TYPES = frozenset({str, int, float, bytes, bool, type(None)})


def row_values(row: dict[str, Any], columns: tuple[str, ...]) -> tuple[Any, ...]:
    values = tuple(map(row.get, columns))
    if PLAIN_TYPES.issuperset(map(type, values)):  # every row we make: no Python per value
        return values
    return tuple(map(stored_value, values))


def stored_value(value: Any) -> Any:
    """A value as sqlite-utils stored it. Our rows carry their JSON columns as text already
    (json.dumps where the row is made); a list or dict is the one other kind a value from a
    page could be, made JSON as sqlite-utils did. A date, Decimal or the like would be stored
    differently by sqlite3 alone, and no row of ours has one: refused, not stored wrong."""
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=repr, ensure_ascii=False)
    if value is None or isinstance(value, (str, int, float, bytes)):
        return value
    raise TypeError(f"cannot store a {type(value).__name__} value: {value!r:.80}")
