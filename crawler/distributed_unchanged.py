"""Incremental rescans shared by workers: the seeder puts what the last scan read in Redis
(each page's validators and reading, readability by content hash), and workers, which have
no database, ask the server whether a page changed and keep that reading from there."""

from __future__ import annotations

import pickle
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

import redis

from audits.readability import Readability
from crawler.distributed import ScanKeys
from store.previous import known_readability
from store.unchanged import PreviousReading, Validators, previous_reading, validators_of

# The scan's keys for a rescan (under its token, deleted with the rest at its end).
VALIDATORS, READINGS, READABILITY = "validators", "readings", "readability"
RESCAN_KEYS = (VALIDATORS, READINGS, READABILITY)
# Fields sent to Redis at once, at most: so many, or so many bytes (a page's packed reading
# is a few KB to tens of KB, its validators a hundred bytes).
BATCH, BATCH_BYTES = 500, 1 << 20


def share_rescan(client: redis.Redis, keys: ScanKeys, db: Any, scan_id: int) -> dict[str, int]:
    """What a one-machine rescan without the browser loads from the database (app/scan.py,
    load_history), put under the scan's keys before workers can see it; what was put, for
    the scan's state (the workers read the keys only if it says so). Each part is read from
    the database a row at a time and sent in batches: the seeder never holds them all."""
    validators = (
        (url, pickle.dumps(v)) for url, v in validators_of(db, scan_id, browser_scan=None)
    )
    put_fields(client, keys.key(VALIDATORS), validators)
    asked: set[str] = set()  # content hashes of the pages asked about
    put_fields(client, keys.key(READINGS), packed_readings(db, scan_id, asked))
    # A page asked about is either unchanged (304: its reading stands) or has a new content
    # hash: readability by hash is for the pages without validators.
    known = ((h, pack(r)) for h, r in known_readability(db, scan_id) if h not in asked)
    put_fields(client, keys.key(READABILITY), known)
    # Counted in Redis: a content hash two pages share is one field, as in a dict.
    return {
        "known_readability": client.hlen(keys.key(READABILITY)),
        "validators": client.hlen(keys.key(VALIDATORS)),
    }


def pack(value: Any) -> bytes:
    """Pickled and compressed: a reading's structure (the navigation outside main, tens of
    KB a page) and readability's long sentences are text that compresses well."""
    return zlib.compress(pickle.dumps(value, protocol=5))


def packed_readings(db: Any, scan_id: int, hashes: set[str]) -> Iterator[tuple[str, bytes]]:
    """Each reading of a page the rescan asks about, packed; its content hash added to
    hashes."""
    for url, validator in validators_of(db, scan_id, browser_scan=None):
        reading = previous_reading(db, validator.scan_id, url)
        if reading is not None:
            hashes.add(reading.row["content_hash"])
            yield url, pack(reading)


def put_fields(client: redis.Redis, key: str, fields: Iterable[tuple[str, bytes]]) -> None:
    """HSET the fields as they come, a batch at a time."""
    batch: dict[str, bytes] = {}
    size = 0
    for name, value in fields:
        batch[name] = value
        size += len(value)
        if len(batch) >= BATCH or size >= BATCH_BYTES:
            client.hset(key, mapping=batch)  # type: ignore[arg-type]
            batch, size = {}, 0
    if batch:
        client.hset(key, mapping=batch)  # type: ignore[arg-type]


class SharedValidators:
    """context.validators in a worker: url -> what to ask the server, read from Redis."""

    def __init__(self, client: redis.Redis, keys: ScanKeys) -> None:
        self.client, self.key = client, keys.key(VALIDATORS)

    def get(self, url: str) -> Validators | None:
        value = self.client.hget(self.key, url)
        return pickle.loads(value) if value is not None else None


class SharedReadability:
    """context.known_readability in a worker: content hash -> readability, from Redis."""

    def __init__(self, client: redis.Redis, keys: ScanKeys) -> None:
        self.client, self.key = client, keys.key(READABILITY)

    def __bool__(self) -> bool:
        return True  # asked per page, not counted

    def get(self, content_hash: str) -> Readability | None:
        value = self.client.hget(self.key, content_hash)
        return Readability(**pickle.loads(zlib.decompress(value))) if value is not None else None


class SharedReadings:
    """The spider's readings in a worker: a page's reading by the last scan, from Redis.
    Each is taken once, to free the memory as the scan goes: a page done again (its worker
    died) finds none, and is downloaded in full, as a 304 with no reading is."""

    def __init__(self, client: redis.Redis, keys: ScanKeys) -> None:
        self.client, self.key = client, keys.key(READINGS)

    def reading(self, scan_id: int, url: str) -> PreviousReading | None:
        pipe = self.client.pipeline(transaction=True)
        pipe.hget(self.key, url)
        pipe.hdel(self.key, url)
        value, _ = pipe.execute()
        if value is None:
            return None
        reading: PreviousReading = pickle.loads(zlib.decompress(value))
        return reading if reading.scan_id == scan_id else None

    def close(self) -> None:
        pass  # nothing held open: the client is the worker's


def rescan_context(
    client: redis.Redis, keys: ScanKeys, state: dict[bytes, bytes]
) -> dict[str, Any]:
    """The worker's context fields for a rescan, if the seeder shared the last scan's."""
    shared: dict[str, Any] = {}
    if int(state.get(b"validators", 0)):
        shared["validators"] = SharedValidators(client, keys)
    if int(state.get(b"known_readability", 0)):
        shared["known_readability"] = SharedReadability(client, keys)
    return shared
