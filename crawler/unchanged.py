"""Pages a server says are unchanged since the last scan (304 Not Modified): what a rescan
asks, and the facts the last scan's reading gives the pipelines in place of the HTML."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from audits.dates import DateCandidate
from audits.page import PageFacts
from audits.readability import Readability
from store.previous import READABILITY_COLUMNS, readability_fields
from store.unchanged import PreviousReading, Validators, previous_reading


def conditional_headers(validators: Validators) -> dict[str, bytes]:
    """If-None-Match and If-Modified-Since, as the server sent the validators (latin-1)."""
    headers = {}
    if validators.etag:
        headers["If-None-Match"] = validators.etag.encode("latin-1")
    if validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified.encode("latin-1")
    return headers


def facts_of(reading: PreviousReading) -> PageFacts:
    """The page's facts as far as the pipelines need them: its readability and dates to be
    judged again, its content hash and stylesheets for its render hash. Its links are
    followed from the stored ones; its structure's findings are copied (store/unchanged.py)."""
    row = reading.row
    readability = readability_fields(tuple(row.get(c) for c in READABILITY_COLUMNS))
    return PageFacts(
        title=row["title"],
        lang=row["lang"],
        meta={},
        links=[],
        readability=Readability(**readability),
        content_hash=row["content_hash"],
        dates=[DateCandidate(**d) for d in reading.dates],
        stylesheets=reading.stylesheets,
    )


class PreviousReadings:
    """Reads what earlier scans stored of a page, beside the writer (WAL allows it)."""

    def __init__(self, db_path: Path | str) -> None:
        self.db_path = db_path
        self.connection: sqlite3.Connection | None = None

    def reading(self, scan_id: int, url: str) -> PreviousReading | None:
        if self.connection is None:
            self.connection = sqlite3.connect(self.db_path)
        return previous_reading(self.connection, scan_id, url)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None
