"""The seeder's reading of the workers' results stream: each entry handed to the one writer
at most once, and trimmed from the stream once the writer has committed it (docs/scaling.md,
"One writer")."""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import redis

from crawler.distributed_unchanged import with_copied_audit
from store.resume import rows_stored
from store.writer import UPSERT_TABLES, Writer

if TYPE_CHECKING:
    from app.distributed import SharedScan

# Stream entries read at once, and how long a read waits for more (ms).
READ_COUNT, READ_BLOCK_MS = 500, 500


@dataclass
class Drain:
    """Where the seeding process is in one scan's stream of rows."""

    last_id: bytes = b"0-0"
    # The last entry the writer has committed, and trimmed from the stream.
    trimmed: bytes = b"0-0"
    # Entries handed to the writer, not yet committed, whose rows a repeat would add again
    # (findings, links; pages and the like are replaced), by what they are of: a page done
    # twice (its lease ran out while it was being stored) is written once. Once committed,
    # the database says whether a repeat is one (rows_stored), so this holds only a few
    # seconds' entries.
    pending: dict[tuple[str, ...], bytes] = field(default_factory=dict)

    def entry_key(self, parts: list[tuple[str, list[dict[str, Any]]]]) -> tuple[str, ...] | None:
        if all(table in UPSERT_TABLES for table, _ in parts):
            return None  # replaced on a repeat (UNIQUE(scan_id, url)): nothing to skip
        first = next((rows[0] for table, rows in parts if table == "pages"), parts[0][1][0])
        url = first.get("url") or first.get("source_url") or ""
        target = first.get("target_url") or ""
        return (*(table for table, _ in parts), url, target)

    def write(
        self, entries: list[tuple[bytes, dict[bytes, bytes]]], writer: Writer, db: Any
    ) -> None:
        """Hand the entries to the writer, in order, each at most once."""
        for entry_id, fields in entries:
            parts = with_copied_audit(db, pickle.loads(fields[b"parts"]))
            key = self.entry_key(parts)
            if key is None:
                writer.put_together(parts)
            elif key not in self.pending and not rows_stored(db, parts):
                writer.put_together(parts)
                self.pending[key] = entry_id
            self.last_id = entry_id

    def committed(self, entry_id: bytes) -> None:
        """The writer has committed every entry up to entry_id (and it is trimmed)."""
        done = stream_id(entry_id)
        self.pending = {k: v for k, v in self.pending.items() if stream_id(v) > done}
        self.trimmed = entry_id


def stream_id(entry_id: bytes) -> tuple[int, int]:
    """A stream entry's id, in the order Redis gives them."""
    milliseconds, sequence = entry_id.split(b"-")
    return int(milliseconds), int(sequence)


def trim(client: redis.Redis, scans: list[SharedScan], committed: dict[str, bytes] | None) -> None:
    """Drop from each scan's stream the entries the writer has committed (committed: the last
    one of each, by token): the stream holds only what is not yet in the database, which a
    resumed seeder reads again."""
    for scan in scans:
        entry_id = (committed or {}).get(scan.keys.token)
        if entry_id is None or entry_id == scan.drain.trimmed:
            continue
        milliseconds, sequence = stream_id(entry_id)
        # MINID keeps the entries from this id on: every one after the last committed.
        minid = f"{milliseconds}-{sequence + 1}"
        client.xtrim(scan.keys.key("rows"), minid=minid, approximate=False)
        scan.drain.committed(entry_id)


def drain(client: redis.Redis, scans: list[SharedScan], writer: Writer, db: Any) -> dict[str, int]:
    """Hand every scan's new entries to the writer; how many each scan had, by token."""
    streams = {scan.keys.key("rows"): scan.drain.last_id for scan in scans}
    found = client.xread(streams, count=READ_COUNT, block=READ_BLOCK_MS) if streams else []
    counts: dict[str, int] = {}
    by_stream = {scan.keys.key("rows"): scan for scan in scans}
    for stream, entries in found or []:
        scan = by_stream[stream.decode()]
        scan.drain.write(entries, writer, db)
        counts[scan.keys.token] = len(entries)
    return counts
