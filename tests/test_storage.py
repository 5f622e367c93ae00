"""The database writer: a page and its findings land together or not at all."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from store.database import open_database
from store.scans import start_scan
from store.writer import Batch, write_batch


def test_a_batch_is_one_transaction(tmp_path: Path) -> None:
    db = open_database(tmp_path / "scan.db")
    scan_id = start_scan(db, "http://127.0.0.1/")
    batch = Batch()
    batch.add("pages", [{"scan_id": scan_id, "url": "http://127.0.0.1/bins"}])
    # A findings row the table cannot take fails the batch after the page row was written:
    # the page must not be kept without its findings (as a kill -9 at that moment would).
    batch.add("findings", [{"scan_id": scan_id, "url": "http://127.0.0.1/bins", "nope": 1}])
    with pytest.raises(sqlite3.OperationalError):
        write_batch(db, batch)
    assert db.execute("SELECT count(*) FROM pages").fetchone() == (0,)
    good = Batch()
    good.add("pages", [{"scan_id": scan_id, "url": "http://127.0.0.1/bins"}])
    write_batch(db, good)
    assert db.execute("SELECT count(*) FROM pages").fetchone() == (1,)


def test_rows_are_stored_as_sqlite_utils_stored_them(tmp_path: Path) -> None:
    db = open_database(tmp_path / "scan.db")
    scan_id = start_scan(db, "http://127.0.0.1/")
    page = {"scan_id": scan_id, "url": "http://127.0.0.1/bins"}
    picture = {"format": "png", "width": 1, "height": 1, "bytes": 1}
    batch = Batch()
    # A column one row names and another lacks is NULL in the other; a page stored twice
    # is the later row; a picture (keyed by its bytes' hash) already there is kept.
    batch.add("pages", [{**page, "title": "Old", "lang": "en"}, {**page, "title": "Bins"}])
    batch.add("pictures", [{**picture, "id": "a", "image": b"1"}])
    batch.add("pictures", [{**picture, "id": "a", "image": b"2"}])
    # A list or dict (our rows carry JSON as text already) is JSON as sqlite-utils made it.
    batch.add("page_dates", [{**page, "kind": "updated", "source": "é", "value": ["é", 1]}])
    write_batch(db, batch)
    assert db.execute("SELECT title, lang FROM pages").fetchall() == [("Bins", None)]
    assert db.execute("SELECT image FROM pictures").fetchall() == [(b"1",)]
    assert db.execute("SELECT value FROM page_dates").fetchall() == [('["é", 1]',)]


def test_a_value_sqlite3_would_store_differently_is_refused(tmp_path: Path) -> None:
    db = open_database(tmp_path / "scan.db")
    scan_id = start_scan(db, "http://127.0.0.1/")
    batch = Batch()
    batch.add("pages", [{"scan_id": scan_id, "url": "http://127.0.0.1/"}])
    # sqlite-utils stored isoformat() ("T"), sqlite3 alone isoformat(" "): neither, loudly.
    batch.add("scans", [{"started_at": datetime(2026, 1, 2, 3, 4, 5), "status": "running"}])
    with pytest.raises(TypeError, match="cannot store a datetime value"):
        write_batch(db, batch)
    assert db.execute("SELECT count(*) FROM pages").fetchone() == (0,)
