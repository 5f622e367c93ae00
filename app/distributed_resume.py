"""A distributed scan whose seeder returned at once (--detach) or was killed, finished by
`siteaudit scan --redis URL --resume --db FILE`: it finds the scans in Redis, goes on
writing what the workers send, and finishes them as the seeder would have (docs/scaling.md)."""

from __future__ import annotations

import logging
import math
import os
import pickle
import shlex
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import redis

from app.distributed import (
    SEEDER_SECONDS,
    Announce,
    SharedScan,
    check_distributable,
    deadline,
    publish_scan,
    redis_client,
    rescan_of,
    seed_scans,
    seeded_lease,
    write_and_finish,
)
from app.scan import Decided, ScanError, ScanSummary
from crawler.distributed import PREFIX, ScanKeys
from crawler.distributed_reseed import share_stored
from settings.model import Config, seed_urls
from store.database import open_database
from store.resume import NothingToResume, resumable_scan
from store.scans import reopen_scan, running_scans, scan_row

log = logging.getLogger(__name__)


def detach_scans(
    configs: list[Config], db_path: str | Path, redis_url: str, lease_seconds: float | None
) -> list[int]:
    """Seed a scan of each site for the workers and return their ids, writing nothing more:
    what the workers send waits in Redis for resume_scans."""
    client, scans = seed_scans(configs, db_path, redis_url, lease_seconds)
    client.close()
    return [scan.scan_id for scan in scans]


def resume_scans(
    db_path: str | Path,
    redis_url: str,
    configs: list[Config] | None,
    decided: Decided,
    announce: Announce | None = None,
) -> list[tuple[Config, ScanSummary]]:
    """Go on writing the database's running scans found in Redis (those of the configs' start
    URLs, if given) until their crawls are over, then finish them; each with its
    configuration. A named site whose scan Redis lost is published again from the database."""
    start_urls = {seed_urls(config.site)[0] for config in configs} if configs else None
    client = redis_client(redis_url)
    db = open_database(db_path, create=False)
    try:
        scans = resumable_scans(client, db, start_urls)
        held = {scan.start_url for scan in scans}
        lost = [config for config in configs or [] if seed_urls(config.site)[0] not in held]
        if not scans and not lost:
            raise ScanError(
                f"no running scan of {db_path} is in {shown_url(redis_url)}: nothing to resume "
                "(only a scan seeded with --redis and not yet finished is; if Redis lost it, "
                "give its start URL or --sites to crawl on from the database); scan without "
                "--resume"
            )
        unfinished = [unfinished_scan(db, config, db_path, redis_url) for config in lost]
        take_over(client, scans, db_path)
        scans += [republish(client, db, config, row, redis_url) for config, row in unfinished]
    finally:
        db.conn.close()
    summaries = write_and_finish(client, db_path, scans, decided, announce)
    return [(scan.config, summary) for scan, summary in zip(scans, summaries, strict=True)]


def unfinished_scan(
    db: Any, config: Config, db_path: str | Path, redis_url: str
) -> tuple[Config, dict[str, Any]]:
    """The site's latest unfinished scan in the database (running or interrupted), which
    Redis does not hold, to be published again; or a ScanError saying why it cannot be."""
    start_url = seed_urls(config.site)[0]
    check_distributable(config)
    try:
        scan_id = resumable_scan(db, start_url)
    except NothingToResume:
        raise ScanError(
            f"no running scan of {start_url} of {db_path} is in {shown_url(redis_url)} or "
            "left unfinished in the database: nothing to resume; scan without --resume"
        ) from None
    row = scan_row(db, scan_id)
    assert row is not None
    if bool(row["browser"]) != config.audit.browser:
        fix = "leave out --no-browser" if row["browser"] else "give --no-browser"
        raise ScanError(
            f"scan {scan_id} of {start_url} was started {'with' if row['browser'] else 'without'}"
            f" the browser, and resumes as it started: {fix}"
        )
    return config, row


def republish(
    client: redis.Redis, db: Any, config: Config, row: dict[str, Any], redis_url: str
) -> SharedScan:
    """A scan Redis lost (restarted without persistence), published again under a new token
    from what the database holds: its pages stored are done, their links not yet done are
    its frontier (store/resume.py); its lease is the one it was seeded with."""
    scan_id, start_url = int(row["id"]), row["start_url"]
    reopen_scan(db, scan_id)
    rescan = rescan_of(client, db, config, scan_id)

    def share(keys: ScanKeys) -> dict[str, int]:
        stored = share_stored(client, keys, db, scan_id, config.site.max_depth)
        return {**stored, **(rescan(keys) if rescan else {})}

    keys = publish_scan(client, config, row, seeded_lease(row), share)
    client.set(keys.key("seeder"), os.getpid(), ex=SEEDER_SECONDS)  # this process writes it
    state = client.hgetall(keys.key("state"))
    log.warning(
        "scan %d of %s is not in %s: published again from the database for the workers "
        "(%s pages stored, %s URLs on its frontier)", scan_id, start_url, shown_url(redis_url),
        state[b"resumed_pages"].decode(), state[b"resumed_frontier"].decode(),
    )  # fmt: skip
    now = time.time()
    return SharedScan(config, scan_id, keys, deadline(config, now), now, start_url=start_url)


def resumable_scans(client: redis.Redis, db: Any, start_urls: set[str] | None) -> list[SharedScan]:
    """The scans of this database still running, whose state Redis keeps: matched by id,
    start URL and start time, since several databases may share one Redis."""
    running = {row["id"]: row for row in running_scans(db)}
    found = []
    for key in client.scan_iter(match=f"{PREFIX}*:state", count=500):
        state = {k.decode(): v.decode() for k, v in client.hgetall(key).items()}
        row = running.get(int(state.get("scan_id") or 0))
        if row is None or (state.get("start_url"), state.get("started_at")) != (
            row["start_url"],
            row["started_at"],
        ):
            continue
        if start_urls and row["start_url"] not in start_urls:
            continue
        keys = ScanKeys(key.decode().removeprefix(PREFIX).removesuffix(":state"))
        if (scan := shared_scan(client, keys, state)) is not None:
            found.append(scan)
    return sorted(found, key=lambda scan: scan.scan_id)


def take_over(client: redis.Redis, scans: list[SharedScan], db_path: str | Path) -> None:
    """Become the one process that writes the scans: once their seeder's claim has run out
    (it was killed), or at once (detached). A claim renewed while this waits is a seeder still
    at work (writing, or finishing the scan): refused, saying which."""
    deadline = time.monotonic() + 2 * SEEDER_SECONDS
    for scan in scans:
        key, left = scan.keys.key("seeder"), math.inf
        while not client.set(key, os.getpid(), nx=True, ex=SEEDER_SECONDS):
            ttl = client.pttl(key)
            if ttl > left or time.monotonic() > deadline:
                raise ScanError(still_at_work(client, scan, db_path))
            left = ttl if ttl >= 0 else left
            time.sleep(0.5)
        if not client.exists(scan.keys.key("state")):  # finished the moment its claim ended
            client.delete(key)
            raise ScanError(
                f"scan {scan.scan_id} was finished meanwhile by the siteaudit scan that seeded "
                f"it: nothing to resume; {report_command(db_path, scan.scan_id)} reports it"
            )


def still_at_work(client: redis.Redis, scan: SharedScan, db_path: str | Path) -> str:
    """What a seeder whose claim is still renewed is doing to the scan, and what to do."""
    if client.hget(scan.keys.key("state"), "status") == b"finishing":
        return (
            f"scan {scan.scan_id} is being finished by the siteaudit scan that seeded it (its "
            "crawl is over; it is running the checks across the site): nothing to resume; "
            f"once that command ends, {report_command(db_path, scan.scan_id)} reports it"
        )
    return (
        f"scan {scan.scan_id} is still being written by the siteaudit scan that seeded it: let "
        "it finish, or stop it, before --resume"
    )


def report_command(db_path: str | Path, scan_id: int) -> str:
    """The command that reports a finished scan."""
    return shlex.join(
        ["siteaudit", "report", "--db", str(db_path), "--scan", str(scan_id), "--out", "FOLDER"]
    )


def shared_scan(client: redis.Redis, keys: ScanKeys, state: dict[str, str]) -> SharedScan | None:
    """A published scan as its seeder knew it; its stream is read again from the start
    (what is left of it is what the database may not have)."""
    raw = client.get(keys.key("config"))
    if raw is None:
        return None
    config: Config = pickle.loads(raw)
    started = float(state["started"])
    scan_id, start_url = int(state["scan_id"]), state.get("start_url", "")
    scan = SharedScan(
        config, scan_id, keys, deadline(config, started), started, start_url=start_url
    )
    if state.get("status") in ("done", "finishing"):  # its crawl ended; its seeder died
        scan.status = state.get("outcome") or "failed"
        scan.message = state.get("message")
    return scan


def shown_url(url: str) -> str:
    """The Redis URL with its password, if any, left out: never printed."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"{user}:****@{host}").geturl()


def resume_command(redis_url: str, db_path: str) -> str:
    """The command that finishes detached scans."""
    return shlex.join(
        ["siteaudit", "scan", "--redis", shown_url(redis_url), "--resume", "--db", db_path]
    )
