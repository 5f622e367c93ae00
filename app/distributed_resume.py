"""A distributed scan whose seeder returned at once (--detach) or was killed, finished by
`siteaudit scan --redis URL --resume --db FILE`: it finds the scans in Redis, goes on
writing what the workers send, and finishes them as the seeder would have (docs/scaling.md)."""

from __future__ import annotations

import json
import logging
import math
import os
import pickle
import shlex
import time
from pathlib import Path
from typing import Any

import redis

from app.distributed import (
    SEEDER_SECONDS,
    STATE_LOST,
    Announce,
    SharedScan,
    check_distributable,
    deadline,
    publish_scan,
    redis_client,
    rescan_of,
    seed_scans,
    seeded_lease,
    shown_url,
    without_password,
    write_and_finish,
)
from app.scan import Decided, ScanError, ScanSummary
from crawler.distributed import PREFIX, ScanKeys, connect
from crawler.distributed_reseed import share_stored
from settings.loader import ConfigError, config_from_dict
from settings.model import Config, seed_urls
from store.database import open_database
from store.resume import NothingToResume, resumable_scan
from store.scans import reopen_scan, running_scans, scan_row, set_config

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
        if configs:
            lost = [config for config in configs if seed_urls(config.site)[0] not in held]
            unfinished = [unfinished_scan(db, config, db_path, redis_url) for config in lost]
        else:  # every scan whose Redis lost it, as its row says it was configured
            unfinished = lost_scans(db, {scan.scan_id for scan in scans})
        if not scans and not unfinished:
            raise ScanError(
                f"no running scan of {db_path} is in {shown_url(redis_url)}: nothing to resume "
                "(only a scan seeded with --redis and not yet finished is; if Redis lost it, "
                "give its start URL or --sites to crawl on from the database); scan without "
                "--resume"
            )
        for _, row in unfinished:
            not_elsewhere(row, redis_url)
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
    # Where it is now: a later --resume asks this Redis, not the lost one.
    set_config(db, scan_id, moved_config(row, redis_url))
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


def resume_command(redis_url: str, db_path: str) -> str:
    """The command that finishes detached scans."""
    return shlex.join(
        ["siteaudit", "scan", "--redis", shown_url(redis_url), "--resume", "--db", db_path]
    )


def lost_scans(db: Any, held: set[int]) -> list[tuple[Config, dict[str, Any]]]:
    """The scans seeded with --redis that no Redis holds now (running, or stopped by their
    seeder when Redis lost them), bar those in held (ids), each the latest of its site, with
    the configuration its row keeps (scans.config)."""
    rows = db.query(
        "SELECT * FROM scans WHERE id IN (SELECT max(id) FROM scans GROUP BY start_url) "
        "AND (status = 'running' OR (status = 'interrupted' AND message = ?)) ORDER BY id",
        [STATE_LOST],
    )
    return [
        (stored_config_of(row), row) for row in rows if row["id"] not in held and seeded_url(row)
    ]


def seeded_url(row: dict[str, Any]) -> str | None:
    """The Redis the scan was published in (without its password), from its row; None for
    a scan seeded by a siteaudit that did not keep it, or not through Redis."""
    stored = json.loads(row["config"] or "{}")
    return (stored.get("redis") or {}).get("url")


def stored_config_of(row: dict[str, Any]) -> Config:
    """The configuration a scan was seeded with, as its row keeps it (options included)."""
    stored = json.loads(row["config"])
    stored.pop("redis", None)
    source = stored.pop("source", "<scans.config>")
    try:
        return config_from_dict(without_nones(stored), source)
    except ConfigError as err:
        raise ScanError(
            f"scan {row['id']} of {row['start_url']}: its configuration in the database "
            f"cannot be read ({err}); give its start URL and --config to resume it"
        ) from None


def without_nones(value: Any) -> Any:
    """A stored configuration without its unset values (a rule's limits it does not set),
    as a TOML file leaves them out."""
    if isinstance(value, dict):
        return {k: without_nones(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nones(v) for v in value]
    return value


def moved_config(row: dict[str, Any], redis_url: str) -> str:
    """The row's configuration, naming the Redis the scan is published in now."""
    stored = json.loads(row["config"] or "{}")
    stored["redis"] = {**(stored.get("redis") or {}), "url": without_password(redis_url)}
    return json.dumps(stored)


def not_elsewhere(row: dict[str, Any], redis_url: str) -> None:
    """Refuse to publish again a scan the Redis it was seeded with still holds (its seeder
    may be writing it there: a second writer); one that no longer answers, or holds it no
    more, lost it. Asked without a password (its row keeps none): one that wants it, or
    fails while asked, is refused too, saying how to resume there."""
    seeded = seeded_url(row)
    if not seeded or seeded == without_password(redis_url):
        return
    where = f"scan {row['id']} of {row['start_url']} was seeded in {seeded}"
    try:
        client = connect(seeded)
    except redis.AuthenticationError:
        raise ScanError(
            f"{where}, which answers but wants a password to say whether it still holds the "
            f"scan: resume it with --redis {seeded} and its password, or stop that Redis"
        ) from None
    except (redis.RedisError, OSError):
        return  # no Redis answers there: the scan went with it
    try:
        if holds(client, row):
            raise ScanError(
                f"{where}, which still holds it (its seeder may be writing it): resume it "
                f"with --redis {seeded} (and its password, if it has one)"
            )
    except redis.RedisError as err:  # it answered: it may still hold the scan
        raise ScanError(
            f"{where}, which answers but could not say whether it still holds the scan "
            f"({err}): resume it with --redis {seeded}, or stop that Redis"
        ) from None
    finally:
        client.close()


def holds(client: redis.Redis, row: dict[str, Any]) -> bool:
    """Whether the Redis holds the scan of this row (by id, start URL and start time)."""
    wanted = (str(row["id"]).encode(), row["start_url"].encode(), row["started_at"].encode())
    for key in client.scan_iter(match=f"{PREFIX}*:state", count=500):
        state = client.hmget(key, "scan_id", "start_url", "started_at")
        if tuple(state) == wanted:
            return True
    return False
