"""The database writer: a page and its findings land together or not at all."""

from __future__ import annotations

import sqlite3
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
