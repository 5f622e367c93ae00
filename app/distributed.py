"""A scan shared by workers through Redis (docs/scaling.md): the seeding process, which writes
every row to the database, and the worker, which crawls its share of open scans."""

from __future__ import annotations

import json
import logging
import math
import multiprocessing
import os
import pickle
import secrets
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import redis
from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.exceptions import ScrapyDeprecationWarning

from app.browser_setup import allowed_domains, checks_run
from app.distributed_browser import (
    BROWSER_FAILED,
    BrowserTrouble,
    browser_fields,
    browsers_failed,
    expected_rules_key,
    start_worker_browsers,
)
from app.scan import Decided, ScanError, ScanSummary, checks_after_crawl, crawl_settings
from app.seeder_heartbeat import SEEDER_SECONDS, Heartbeat
from app.seeder_stream import Drain, drain, trim
from audits.readability import ensure_syllable_data
from audits.spelling import ensure_dictionaries
from browser.browser_pool import BrowserPool
from crawler.credentials import Credentials, load_credentials
from crawler.distributed import OPEN_SCANS, ScanKeys, StreamWriter, connect, reclaim
from crawler.distributed_spider import (
    DistributedContext,
    DistributedSpider,
    install_engine,
    shared_seen,
)
from crawler.distributed_unchanged import rescan_context, share_rescan
from crawler.page_reader import PageReader
from crawler.shared_politeness import politeness_settings
from crawler.shared_robots import robots_settings
from crawler.stats import Counters
from crawler.tls import trusting
from settings.model import Config, seed_urls
from store.database import open_database
from store.scans import finish_scan, scan_row, start_scan
from store.writer import Writer

log = logging.getLogger(__name__)

# How often a worker with nothing to do looks for an open scan.
WORKER_POLL = 0.5
# Why a scan whose keys vanished from Redis (restarted without persistence) stopped.
STATE_LOST = (
    "the scan's state was lost from Redis (restarted without persistence?); `siteaudit scan "
    "URL --redis URL --resume --db FILE` crawls on from what the database holds"
)


def redis_client(url: str) -> redis.Redis:
    """A client for --redis URL, or a ScanError saying what to fix (its password, if any,
    never printed)."""
    try:
        return connect(url)
    except (redis.RedisError, ValueError) as err:
        raise ScanError(
            f"--redis {shown_url(url)}: no Redis server answers there ({err}); start "
            "redis-server, or give its URL as redis://HOST:PORT/DB"
        ) from None


def shown_url(url: str, password: str = "****") -> str:
    """The Redis URL with its password, if any (before the host, or ?password=, which
    redis-py reads too), replaced: printed as ****; stored as nothing (without_password)."""
    parts = urlsplit(url)
    query = [(k, password if k == "password" else v) for k, v in parse_qsl(parts.query)]
    if any(k == "password" for k, _ in parse_qsl(parts.query)):
        parts = parts._replace(query=urlencode([(k, v) for k, v in query if v], safe="*"))
    if not parts.password:
        return parts.geturl()
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    userinfo = f"{user}:{password}" if password else user
    return parts._replace(netloc=f"{userinfo}@{host}" if userinfo else host).geturl()


def without_password(url: str) -> str:
    """The Redis URL as the scan's row keeps it: its password left out."""
    return shown_url(url, password="")


def check_distributable(config: Config) -> None:
    """What a distributed scan cannot do yet, refused before anything starts."""
    if config.auth.form.url:
        raise ScanError("--redis scans cannot log in through [auth.form] yet: scan without --redis")


@dataclass
class SharedScan:
    """One scan the seeding process has published: where it is, and how it ended."""

    config: Config
    scan_id: int
    keys: ScanKeys
    deadline: float
    # When it started (time.time()): a resumed scan's time is counted from then.
    started: float
    drain: Drain = field(default_factory=Drain)
    start_url: str = ""
    # Rounds in a row with nothing sent, nothing on the frontier and nothing leased.
    quiet: int = 0
    status: str | None = None
    message: str | None = None
    # Once the scan is finished (after_crawl run, its row's status set).
    summary: ScanSummary | None = None


def frontier_empty(client: redis.Redis, keys: ScanKeys) -> bool:
    """Seeded, nothing on the frontier and nothing leased."""
    pipe = client.pipeline(transaction=True)
    pipe.hget(keys.key("state"), "seeded")
    pipe.zcard(keys.key("requests"))
    pipe.zcard(keys.key("leases"))
    seeded, queued, leased = pipe.execute()
    return seeded == b"done" and queued == 0 and leased == 0


def publish_scan(
    client: redis.Redis,
    config: Config,
    row: dict[str, Any],
    lease: float | None,
    share: Callable[[ScanKeys], dict[str, Any]] | None = None,
) -> ScanKeys:
    """Put the scan where workers find it: its configuration and state (and what share puts
    under its keys), then its token. The state names the scan's row (id, start URL, start
    time), for --resume to find it by."""
    keys = ScanKeys(secrets.token_hex(8))
    state: dict[str, Any] = {"scan_id": row["id"], "status": "running", "started": time.time()}
    state |= {"start_url": row["start_url"], "started_at": row["started_at"]}
    if lease:
        state["lease_seconds"] = lease
    if share is not None:
        state.update(share(keys))
    client.set(keys.key("config"), pickle.dumps(config, protocol=5))
    client.hset(keys.key("state"), mapping=state)
    client.sadd(OPEN_SCANS, keys.token)
    return keys


def run_distributed_scan(
    config: Config,
    db_path: str | Path,
    redis_url: str,
    decided: Decided | None = None,
    lease_seconds: float | None = None,
) -> ScanSummary:
    """One site's scan shared by the workers (run_distributed_scans)."""
    return run_distributed_scans([config], db_path, redis_url, decided, lease_seconds)[0]


def run_distributed_scans(
    configs: list[Config],
    db_path: str | Path,
    redis_url: str,
    decided: Decided | None = None,
    lease_seconds: float | None = None,
    announce: Announce | None = None,
) -> list[ScanSummary]:
    """Seed a scan of each site for the workers, write what they find into the database as
    it comes, and finish each as a one-machine scan does once its own frontier is empty
    (announce: told of each then)."""
    client, scans = seed_scans(configs, db_path, redis_url, lease_seconds)
    return write_and_finish(client, db_path, scans, decided or Decided(), announce)


def seed_scans(
    configs: list[Config], db_path: str | Path, redis_url: str, lease_seconds: float | None
) -> tuple[redis.Redis, list[SharedScan]]:
    """Record a scan of each site in the database and publish it for the workers."""
    for config in configs:
        check_distributable(config)
    client = redis_client(redis_url)
    db = open_database(db_path)
    try:
        return client, [publish(client, db, config, lease_seconds, redis_url) for config in configs]
    finally:
        db.conn.close()


# Told of each scan as it is finished (its configuration and summary): the command prints
# it then, not once every scan of a --sites file is over.
Announce = Callable[[Config, ScanSummary], None]


def write_and_finish(
    client: redis.Redis,
    db_path: str | Path,
    scans: list[SharedScan],
    decided: Decided,
    announce: Announce | None = None,
) -> list[ScanSummary]:
    """Write what the workers send into the database, and finish each scan (after_crawl,
    its status) as a one-machine scan does as soon as its own crawl is over, while the
    others' go on; return once every one is finished."""
    seeder = Seeder(client, open_database(db_path), Writer(db_path), decided, announce)
    seeder.writer.start()
    try:
        drain_until_done(seeder, scans)
    except (redis.RedisError, OSError) as err:
        message = f"the scan's Redis failed: {type(err).__name__}: {err}"
        for scan in scans:
            if scan.summary is None:
                scan.status, scan.message = "failed", message
        raise ScanError(message) from err
    finally:
        left = [scan for scan in scans if scan.summary is None]
        for scan in left:
            ended(client, scan)
        with Heartbeat(client, left) as heartbeat:
            seeder.writer.close()
            for scan in left:
                seeder.finished(scan, finish(client, seeder.db, scan, decided, heartbeat))
    return [scan.summary for scan in scans if scan.summary is not None]


@dataclass
class Seeder:
    """The process that writes the scans: its Redis, database, one writer, and what it
    finishes them with."""

    client: redis.Redis
    db: Any
    writer: Writer
    decided: Decided
    announce: Announce | None = None

    def finish_ended(self, scan: SharedScan, open_scans: list[SharedScan]) -> None:
        """Finish a scan whose crawl is over, the others' going on: what is left of its
        stream written and committed, then after_crawl and its row, its claim and the
        others' renewed meanwhile (Heartbeat), its keys deleted."""
        while drain(self.client, [scan], self.writer, self.db):
            pass
        self.writer.wait_for(self.writer.mark({scan.keys.token: scan.drain.last_id}))
        with Heartbeat(self.client, open_scans, finishing=[scan]) as heartbeat:
            summary = finish(self.client, self.db, scan, self.decided, heartbeat)
        self.finished(scan, summary)

    def finished(self, scan: SharedScan, summary: ScanSummary) -> None:
        scan.summary = summary
        if self.announce is not None:
            self.announce(scan.config, summary)


def publish(
    client: redis.Redis, db: Any, config: Config, lease: float | None, redis_url: str
) -> SharedScan:
    """Record the scan in the database, then publish it for the workers."""
    checks = checks_run(config.audit.checks, browser=config.audit.browser)
    scan_id = start_scan(
        db,
        seed_urls(config.site)[0],
        checks=json.dumps(list(checks)),
        wcag=config.audit.wcag,
        browser=int(config.audit.browser),
        config=stored_config(config, lease, redis_url),
    )
    row = scan_row(db, scan_id)
    assert row is not None
    keys = publish_scan(client, config, row, lease, rescan_of(client, db, config, scan_id))
    now = time.time()
    return SharedScan(config, scan_id, keys, deadline(config, now), now, start_url=row["start_url"])


def stored_config(config: Config, lease: float | None, redis_url: str) -> str:
    """The scan's configuration for its row (scans.config), with what no configuration file
    holds: its --redis-lease, which a scan published again from the database (Redis lost)
    keeps (seeded_lease), and the Redis it is in, without its password, which --resume
    asks before it publishes the scan again elsewhere (app/distributed_resume.py)."""
    stored = asdict(config)
    stored["redis"] = {"url": without_password(redis_url)}
    if lease:
        stored["redis"]["lease_seconds"] = lease
    return json.dumps(stored, default=str)


def seeded_lease(row: dict[str, Any]) -> float | None:
    """The --redis-lease a scan was seeded with, from its row; None for the default."""
    stored = json.loads(row["config"] or "{}")
    lease = (stored.get("redis") or {}).get("lease_seconds")
    return float(lease) if lease else None


def deadline(config: Config, started: float) -> float:
    """When a scan that started at `started` (time.time()) stops, by time.monotonic()."""
    limit = config.site.max_minutes * 60
    return time.monotonic() + started + limit - time.time() if limit else math.inf


def rescan_of(
    client: redis.Redis, db: Any, config: Config, scan_id: int
) -> Callable[[ScanKeys], dict[str, Any]] | None:
    """What the scan shares of the last one with the workers, as a one-machine rescan loads
    it (nothing with --full); with the browser, the last audits the workers' axe-core and
    rules are expected to reuse."""
    if config.audit.full:
        return None
    key = expected_rules_key(config) if config.audit.browser else None
    return lambda keys: share_rescan(client, keys, db, scan_id, key)


def drain_until_done(seeder: Seeder, scans: list[SharedScan]) -> None:
    """Write the streams into the database until every scan's crawl is over, finishing each
    as its own ends: its frontier empty and nothing leased twice in a row (a worker pushes
    the requests a page leads to before it releases the page), or its time limit. Expired
    leases go back to the frontier."""
    client, writer = seeder.client, seeder.writer
    while open_scans := [scan for scan in scans if scan.summary is None]:
        for scan in open_scans:  # this process writes them: a --resume waits
            client.set(scan.keys.key("seeder"), os.getpid(), ex=SEEDER_SECONDS)
        counts = drain(client, open_scans, writer, seeder.db)
        writer.mark({scan.keys.token: scan.drain.last_id for scan in open_scans})
        trim(client, open_scans, writer.committed)
        for scan in open_scans:
            if scan.status is None:
                reclaim(client, scan.keys)
                check_end(client, scan, counts)
        for scan in open_scans:
            if scan.status is not None:  # ended now, or before a --resume took it over
                seeder.finish_ended(scan, [s for s in open_scans if s.summary is None])


def check_end(client: redis.Redis, scan: SharedScan, counts: dict[str, int]) -> None:
    """Whether the scan's crawl is over (its status then set, and the workers told): lost
    from Redis, nothing sent and nothing to do twice in a row, or its time limit."""
    if not client.exists(scan.keys.key("state")):
        scan.status, scan.message = "interrupted", STATE_LOST
        return  # nothing to tell the workers: it is gone for them too
    empty = not counts.get(scan.keys.token) and frontier_empty(client, scan.keys)
    scan.quiet = scan.quiet + 1 if empty else 0
    if scan.quiet >= 2:
        scan.status = "finished"
    elif time.monotonic() >= scan.deadline:
        minutes = f"{scan.config.site.max_minutes:g}"
        scan.status = "interrupted"
        scan.message = f"stopped at the time limit of {minutes} minutes"
    if scan.status is not None:
        ended(client, scan)


def finish(
    client: redis.Redis, db: Any, scan: SharedScan, decided: Decided, heartbeat: Heartbeat
) -> ScanSummary:
    """After the crawl, as a one-machine scan: the checks across the site, then the status."""
    config = scan.config
    seconds = time.time() - scan.started
    checks_after_crawl(db, scan.scan_id, config, decided)
    status = scan.status or "failed"
    try:
        counters = shared_counters(client, scan.keys, seconds)
        browser = browser_fields(client, scan.keys)
    except redis.RedisError:
        counters, browser = Counters(elapsed=seconds), {}
    audited = {"pages_audited": counters.audited, "pages_failed": counters.audit_failed}
    finish_scan(db, scan.scan_id, status, **audited, **browser, message=scan.message)
    # Only now: a seeder killed before the scan is marked finished leaves it to --resume.
    heartbeat.release(scan.keys)
    try:
        client.delete(*scan.keys.all, scan.keys.key("seeder"))
    except redis.RedisError as err:
        log.warning("could not delete the scan's keys from Redis: %s", err)
    axe_version = browser.get("axe_version")
    return ScanSummary(scan.scan_id, status, counters, seconds, axe_version, scan.message)


def ended(client: redis.Redis, scan: SharedScan) -> None:
    """Tell the workers the scan is over (they close their crawl of it), and keep how it
    ended, for a seeder that resumes it."""
    try:
        state = {"status": "done", "outcome": scan.status or "failed"}
        if scan.message:
            state["message"] = scan.message
        if client.exists(scan.keys.key("state")):  # lost from Redis: not made again
            client.hset(scan.keys.key("state"), mapping=state)
        client.srem(OPEN_SCANS, scan.keys.token)
    except redis.RedisError as err:
        log.warning("could not mark the scan done in Redis: %s", err)


def shared_counters(client: redis.Redis, keys: ScanKeys, seconds: float) -> Counters:
    """The counts every worker added to the scan's stats."""
    counts = {k.decode(): int(v) for k, v in client.hgetall(keys.key("stats")).items()}
    return Counters(**counts, elapsed=seconds)


def run_worker(redis_url: str, until_idle: bool = False, verbose: bool = False) -> WorkerRun:
    """Crawl open scans, one after another (each in a process of its own: Scrapy's reactor
    runs once per process), picked at random among those this worker may take; with
    until_idle, return once none is left for it after the first."""
    client = redis_client(redis_url)
    run = WorkerRun()
    while True:
        open_scans = {token.decode() for token in client.smembers(OPEN_SCANS)}
        run.trouble.forget_closed(open_scans)
        takeable = [token for token in open_scans if run.trouble.may_take(token)]
        if not takeable:
            if until_idle and run.crawls and not run.trouble.waiting(open_scans):
                return run
            time.sleep(WORKER_POLL)
            continue
        crawl_one(redis_url, secrets.choice(takeable), verbose, run)


@dataclass
class WorkerRun:
    """What a worker has done: its crawls, and the scans its browsers failed."""

    crawls: int = 0
    trouble: BrowserTrouble = field(default_factory=BrowserTrouble)


def crawl_one(redis_url: str, token: str, verbose: bool, run: WorkerRun) -> None:
    """This worker's share of one scan, in a process of its own; if its browsers could not
    start (it took no page), the scan is tried again later or left to the other workers."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    crawl = context.Process(
        target=crawl_scan, args=(redis_url, token, verbose, sender), name="siteaudit-crawl"
    )
    crawl.start()
    sender.close()
    crawl.join()
    run.crawls += 1
    failure = receiver.recv() if crawl.exitcode == BROWSER_FAILED and receiver.poll() else None
    receiver.close()
    if failure is None:
        run.trouble.started(token)
    else:
        run.trouble.failed(token, *failure)


def crawl_scan(redis_url: str, token: str, verbose: bool, failures: Any = None) -> None:
    """This worker's share of one scan's crawl, until the scan is done. If its browsers
    cannot start, it says why through failures (a Pipe's end) and exits BROWSER_FAILED,
    having taken nothing; if they stop starting mid-scan, the same, with the pages they
    opened, having given back every page it had not stored (crawler/distributed_audit.py)."""
    client = connect(redis_url)
    keys = ScanKeys(token)
    state = client.hgetall(keys.key("state"))
    raw = client.get(keys.key("config"))
    if state.get(b"status") != b"running" or raw is None:
        return  # finished while this worker was looking
    config: Config = pickle.loads(raw)
    # scrapy-redis 0.9.1 passes spider= to the stats, which Scrapy 2.19 warns of on every
    # page, and calls Spider.log() when it opens a frontier with requests on it.
    warnings.filterwarnings("ignore", "Passing a 'spider'", ScrapyDeprecationWarning)
    warnings.filterwarnings("ignore", r"Spider\.log\(\) is deprecated", ScrapyDeprecationWarning)
    ensure_syllable_data()
    if config.spelling.check:
        ensure_dictionaries()
    with trusting(config.site.ca_file):
        credentials = load_credentials(config.auth)  # from this worker's environment
        try:
            pool, rules_key = start_worker_browsers(config, credentials, client, keys)
        except ScanError as err:
            if failures is None:
                raise
            browsers_failed(failures, state, str(err).splitlines()[0])
        browsers = (pool, rules_key)
        failed = crawl_with(config, state, client, keys, browsers, credentials, redis_url, verbose)
    if failed is not None and failures is not None:
        browsers_failed(failures, state, *failed)


def crawl_with(
    config: Config,
    state: dict[bytes, bytes],
    client: redis.Redis,
    keys: ScanKeys,
    browsers: tuple[BrowserPool | None, str | None],
    credentials: Credentials,
    redis_url: str,
    verbose: bool,
) -> tuple[str, int] | None:
    """The worker's crawl of the scan, with its browsers started (or none) and the rules key
    of their audits; why its browsers failed, if they did (it then left the scan), and after
    how many pages."""
    pool, rules_key = browsers
    # As one machine's scan: with the browser, Chromium sets the pace and one reader
    # keeps up; without it, a reader per core.
    page_reader = PageReader(
        config.audit.read_timeout,
        workers=1 if pool else 0,
        max_elements=config.audit.max_elements,
        spelling=config.spelling.check,
    )
    context = DistributedContext(
        config=config,
        allowed_domains=allowed_domains(config),
        credentials=credentials,
        pool=pool,
        queue_size=config.audit.queue_size or 2 * (pool.size if pool else 1),
        scan_id=int(state[b"scan_id"]),
        writer=StreamWriter(client, keys),  # type: ignore[arg-type]
        page_reader=page_reader,
        seen=shared_seen(client, keys),  # type: ignore[arg-type]
        client=client,
        keys=keys,
        **rescan_context(client, keys, state, rules_key),
    )
    page_reader.start()
    try:
        crawl(context, worker_settings(config, redis_url, keys, verbose))
    finally:
        if pool:
            pool.close()
        page_reader.close()
    if context.browsers_failed is None:
        return None
    return context.browsers_failed, context.pages_before_failing


def worker_settings(
    config: Config, redis_url: str, keys: ScanKeys, verbose: bool
) -> dict[str, Any]:
    """A scan's crawl settings, with scrapy-redis's scheduler on the scan's keys, and each
    host's pace kept for every worker (crawler/shared_politeness.py), and its robots.txt
    fetched once for the scan (crawler/shared_robots.py)."""
    crawl = robots_settings(politeness_settings(crawl_settings(config, verbose, live=False)))
    pipelines = dict(crawl["ITEM_PIPELINES"])
    # A reused audit's rows are copied by the seeder, which has the database.
    pipelines["crawler.distributed_unchanged.WorkerRowsPipeline"] = pipelines.pop(
        "crawler.store_rows.StoreRowsPipeline"
    )
    # A page this worker's browsers could not audit goes back to the frontier.
    pipelines["crawler.distributed_audit.WorkerAuditPipeline"] = pipelines.pop(
        "crawler.pipelines.BrowserAuditPipeline"
    )
    return {
        **crawl,
        "ITEM_PIPELINES": pipelines,
        "SITEAUDIT_PROGRESS": False,
        "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
        "SCHEDULER_QUEUE_CLASS": "crawler.distributed.LeasedQueue",
        "SCHEDULER_QUEUE_KEY": keys.key("requests"),
        "SCHEDULER_DUPEFILTER_KEY": keys.key("dupefilter"),
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        # A worker leaving never clears what the other workers share.
        "SCHEDULER_PERSIST": True,
        "REDIS_URL": redis_url,
    }


def crawl(context: DistributedContext, settings: dict[str, Any]) -> None:
    """Run the worker's Scrapy crawl until the scan is done (or its time limit)."""
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(DistributedSpider)
    crawler.siteaudit = context
    install_engine(crawler)

    def on_opened(spider: DistributedSpider) -> None:
        limit = context.config.site.max_minutes * 60
        deadline = time.monotonic() + limit if limit else math.inf
        context.page_reader.stop_when(lambda: not crawler.crawling or time.monotonic() >= deadline)

    crawler.signals.connect(on_opened, signal=signals.spider_opened)
    process.crawl(crawler)
    process.start()
    del on_opened
