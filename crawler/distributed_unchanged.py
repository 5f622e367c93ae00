"""Incremental rescans shared by workers: the seeder puts what the last scan read in Redis
(each page's validators and reading, readability by content hash; with the browser, each
page's last audit's render hash), and workers, which have no database, ask the server whether
a page changed and keep that reading from there, or that audit, which the seeder copies."""

from __future__ import annotations

import logging
import pickle
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

import redis

from audits.readability import Readability
from crawler import stats
from crawler.distributed import ScanKeys
from crawler.items import Page
from crawler.store_rows import StoreRowsPipeline
from store.previous import (
    PreviousAudit,
    copied_audit,
    known_readability,
    load_previous,
    previous_scan,
)
from store.unchanged import PreviousReading, Validators, previous_reading, validators_of
from vocabulary.findings import Finding

log = logging.getLogger(__name__)

# The scan's keys for a rescan (under its token, deleted with the rest at its end).
VALIDATORS, READINGS, READABILITY, PREVIOUS = "validators", "readings", "readability", "previous"
RESCAN_KEYS = (VALIDATORS, READINGS, READABILITY, PREVIOUS)
# Fields sent to Redis at once, at most: so many, or so many bytes (a page's packed reading
# is a few KB to tens of KB, its validators a hundred bytes).
BATCH, BATCH_BYTES = 500, 1 << 20
# The part of a worker's page entry that says its audit is reused: the seeder replaces it
# with the audit's columns and findings (with_copied_audit), from its database.
REUSED_AUDIT = "reused_audit"


def share_rescan(
    client: redis.Redis, keys: ScanKeys, db: Any, scan_id: int, rules_key: str | None = None
) -> dict[str, Any]:
    """What a one-machine rescan loads from the database (app/scan.py, load_history), put
    under the scan's keys before workers can see it; what was put, for the scan's state (the
    workers read the keys only if it says so). With the browser (rules_key: the axe-core and
    rules the workers are expected to run), the last audits reused and the pages asked about
    are those of the latest earlier browser scan under that key, as on one machine. Each part
    is read from the database a row at a time and sent in batches: the seeder never holds
    the validators and readings all at once."""
    shared: dict[str, Any] = {}
    browser_scan = None
    if rules_key is not None:
        shared["reuse_rules_key"] = rules_key
        browser_scan = previous_scan(db, rules_key, scan_id)
        previous = load_previous(db, rules_key, scan_id)
        put_fields(client, keys.key(PREVIOUS), ((u, packed_audit(a)) for u, a in previous.items()))
        shared["previous"] = len(previous)
    asked: set[str] = set()  # content hashes of the pages asked about
    if rules_key is None or browser_scan is not None:
        validators = validators_of(db, scan_id, browser_scan=browser_scan)
        put_fields(client, keys.key(VALIDATORS), ((u, pickle.dumps(v)) for u, v in validators))
        put_fields(client, keys.key(READINGS), packed_readings(db, scan_id, browser_scan, asked))
    # A page asked about is either unchanged (304: its reading stands) or has a new content
    # hash: readability by hash is for the pages without validators.
    known = ((h, pack(r)) for h, r in known_readability(db, scan_id) if h not in asked)
    put_fields(client, keys.key(READABILITY), known)
    # Counted in Redis: a content hash two pages share is one field, as in a dict.
    return shared | {
        "known_readability": client.hlen(keys.key(READABILITY)),
        "validators": client.hlen(keys.key(VALIDATORS)),
    }


def packed_audit(audit: PreviousAudit) -> bytes:
    return f"{audit.scan_id} {audit.audited_in} {audit.render_hash}".encode()


def pack(value: Any) -> bytes:
    """Pickled and compressed: a reading's structure (the navigation outside main, tens of
    KB a page) and readability's long sentences are text that compresses well."""
    return zlib.compress(pickle.dumps(value, protocol=5))


def packed_readings(
    db: Any, scan_id: int, browser_scan: int | None, hashes: set[str]
) -> Iterator[tuple[str, bytes]]:
    """Each reading of a page the rescan asks about, packed; its content hash added to
    hashes."""
    for url, validator in validators_of(db, scan_id, browser_scan=browser_scan):
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


class SharedHash:
    """One of the scan's rescan hashes in Redis (part: its name under the scan's keys), read a
    field at a time by a worker, where one machine's scan holds a dict."""

    part: str

    def __init__(self, client: redis.Redis, keys: ScanKeys) -> None:
        self.client, self.key = client, keys.key(self.part)

    def __bool__(self) -> bool:
        return True  # asked per field, not counted: the scan's state says whether any is shared


class SharedValidators(SharedHash):
    """context.validators in a worker: url -> what to ask the server, read from Redis."""

    part = VALIDATORS

    def get(self, url: str) -> Validators | None:
        value = self.client.hget(self.key, url)
        return pickle.loads(value) if value is not None else None


class SharedReadability(SharedHash):
    """context.known_readability in a worker: content hash -> readability, from Redis."""

    part = READABILITY

    def get(self, content_hash: str) -> Readability | None:
        value = self.client.hget(self.key, content_hash)
        return Readability(**pickle.loads(zlib.decompress(value))) if value is not None else None


class SharedReadings(SharedHash):
    """The spider's readings in a worker: a page's reading by the last scan, from Redis.
    Each is taken once, to free the memory as the scan goes: a page done again (its worker
    died) finds none, and is downloaded in full, as a 304 with no reading is."""

    part = READINGS

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


class SharedPrevious(SharedHash):
    """context.previous in a worker: url -> the page's last audit (its scans and render
    hash), from Redis; the seeder copies its rows when the worker reuses it."""

    part = PREVIOUS

    def get(self, url: str) -> PreviousAudit | None:
        value = self.client.hget(self.key, url)
        if value is None:
            return None
        scan_id, audited_in, render_hash = value.decode().split(" ")
        return PreviousAudit(int(scan_id), int(audited_in), render_hash)


class WorkerRowsPipeline(StoreRowsPipeline):
    """StoreRowsPipeline in a worker, which has no database to copy a reused audit from: the
    page's entry says which audit it reuses, and the seeder copies it (with_copied_audit)."""

    def open_spider(self) -> None:
        self.stats.set_value(stats.PAGES, self.context.pages_stored)

    def copied_audit(self, reused: PreviousAudit, url: str) -> tuple[dict[str, Any], list[Finding]]:
        return {}, []

    def page_parts(self, page: Page) -> list[tuple[str, list[dict[str, Any]]]]:
        parts = super().page_parts(page)
        if page.reused is not None:
            audit = page.reused
            reused = {"scan_id": audit.scan_id, "audited_in": audit.audited_in, "url": page.url}
            parts.append((REUSED_AUDIT, [reused]))
        return parts


def with_copied_audit(db: Any, parts: list[tuple[str, list[dict[str, Any]]]]) -> list[Any]:
    """A worker's page entry, with the audit it reuses copied from the database into its
    row and findings, as one machine's StoreRowsPipeline copies it; other entries as they are."""
    if not parts or parts[-1][0] != REUSED_AUDIT:
        return parts
    [reused] = parts[-1][1]
    tables = dict(parts[:-1])
    [page] = tables["pages"]
    audit = PreviousAudit(reused["scan_id"], reused["audited_in"], "")
    columns, findings = copied_audit(db, audit, reused["url"])
    page.update(columns)
    copied = [f.placed(page["url"], page["team"]).row(page["scan_id"]) for f in findings]
    tables["findings"] = tables.get("findings", []) + copied
    order = ("pictures", "pages", "page_dates", "findings", "links")
    return [(table, tables[table]) for table in order if tables.get(table)]


def rescan_context(
    client: redis.Redis, keys: ScanKeys, state: dict[bytes, bytes], rules_key: str | None
) -> dict[str, Any]:
    """The worker's context fields for a rescan, if the seeder shared the last scan's. With
    the browser, the audits and the pages to ask about only if this worker runs the axe-core
    and rules the seeder chose them for (rules_key: this worker's)."""
    shared: dict[str, Any] = {}
    if int(state.get(b"known_readability", 0)):
        shared["known_readability"] = SharedReadability(client, keys)
    expected = state.get(b"reuse_rules_key")
    if expected is not None and expected.decode() != rules_key:
        log.warning(
            "this worker's axe-core or rules are not those the scan's last audits were made "
            "with: it audits every page it takes again"
        )
        return shared
    if int(state.get(b"validators", 0)):
        shared["validators"] = SharedValidators(client, keys)
    if int(state.get(b"previous", 0)):
        shared["previous"] = SharedPrevious(client, keys)
    return shared
