"""A worker's spider and engine: SiteSpider crawling its share of a scan kept in Redis."""

from __future__ import annotations

import asyncio
import math
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import redis
import scrapy
from scrapy import signals
from scrapy.core.engine import ExecutionEngine
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task
from twisted.python.failure import Failure

from crawler import stats
from crawler.context import ScanContext
from crawler.distributed import (
    LEASE,
    LEASE_SECONDS,
    SEEN_URL,
    TAKEN,
    LeasedQueue,
    ScanKeys,
    SharedLastmod,
    SharedSeen,
    claim_seeding,
    forget_lost_scan,
    reclaim,
    seeding_abandoned,
    set_state,
    worker_key,
)
from crawler.distributed_reseed import stored_frontier
from crawler.distributed_unchanged import SharedReadings
from crawler.items import Fetch
from crawler.shared_limits import SharedExternalLinkChecks, SharedShapeRuns
from crawler.shared_stylesheets import SharedStylesheetHashes
from crawler.sitemaps import SitemapsPending
from crawler.spider import SITEMAP_WAIT, SiteSpider, first_url
from crawler.stats import STAT_OF
from crawler.traps import is_logout
from vocabulary.urls import host_allowed

# How often an idle worker looks at the shared frontier (Scrapy's own heartbeat is 5 s).
IDLE_POLL = 0.5
# How often a page waits for the sitemaps looks whether the seeding worker has read them.
SITEMAP_POLL = 0.2


@dataclass(kw_only=True)
class DistributedContext(ScanContext):
    """A scan's context in a worker: where in Redis its shared state is."""

    client: redis.Redis
    keys: ScanKeys
    # Why this worker's browsers count as failed, if they do: it leaves the scan
    # (crawler/distributed_audit.py); and how many pages they opened before.
    browsers_failed: str | None = None
    pages_before_failing: int = 0


class SharedSitemaps(SitemapsPending):
    """SitemapsPending for every worker at once: sitemaps asked for and answered are counted
    in Redis, and the dates they give pages kept there, so that a page waits for the sitemaps
    whichever worker reads it, and takes their date."""

    def __init__(self, client: redis.Redis, keys: ScanKeys, limit: float) -> None:
        super().__init__(limit)
        self.client, self.key, self.asked_key = client, keys.key("sitemaps"), keys.key("asked")
        self.lastmod = SharedLastmod(client, keys.key("lastmod"))  # type: ignore[assignment]
        self.first_wait: float | None = None

    def ask(self, url: str) -> bool:
        if not self.client.sadd(self.asked_key, url):
            return False
        self.client.hincrby(self.key, "waiting", 1)
        return True

    def answered(self) -> None:
        if self.client.hincrby(self.key, "waiting", -1) <= 0 and self.client.hexists(
            self.key, "started"
        ):
            self.client.hset(self.key, "done", 1)

    def start(self) -> None:
        """The seeding worker has asked for every first sitemap."""
        self.client.hset(self.key, "started", time.time())
        if int(self.client.hget(self.key, "waiting") or 0) <= 0:
            self.client.hset(self.key, "done", 1)

    async def wait(self) -> None:
        while not self.done.is_set():
            done, started = self.client.hmget(self.key, "done", "started")
            if self.first_wait is None:
                self.first_wait = time.time()
            since = float(started) if started else self.first_wait
            if done or time.time() >= since + self.limit:
                self.done.set()
                return
            await asyncio.sleep(SITEMAP_POLL)


class DistributedSpider(SiteSpider):
    """SiteSpider whose de-duplication, page limit and sitemap dates hold for every worker
    of the scan; one worker seeds the crawl, and each keeps going until the scan is done."""

    context: DistributedContext
    stylesheets: SharedStylesheetHashes
    frontier: LeasedQueue  # set by the queue itself, when the scheduler opens it

    def __init__(self, context: DistributedContext, **kwargs: Any) -> None:
        super().__init__(context, **kwargs)
        self.client, self.keys = context.client, context.keys
        self.sitemaps = SharedSitemaps(self.client, self.keys, SITEMAP_WAIT)
        self.readings = SharedReadings(self.client, self.keys)  # type: ignore[assignment]
        self.stylesheets = SharedStylesheetHashes(
            context.stylesheets, context.allowed_domains, self.client, self.keys
        )
        # The crawler-trap chains and the external link checks hold for every worker too.
        self.traps.shape_runs = SharedShapeRuns(self.client, self.keys)  # type: ignore[assignment]
        self.counted: dict[str, int] = {}
        self.renewals: task.LoopingCall | None = None
        self.alive_key = worker_key(self.keys, self.shared_seen.worker)
        self.keep_alive()

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> DistributedSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        assert isinstance(spider, DistributedSpider)
        links = spider.context.config.links
        spider.links = SharedExternalLinkChecks(links, crawler, spider.client, spider.keys)
        # Stored requests name their callbacks: they must be the spider's own methods.
        spider.links.callback, spider.links.errback = spider.link_checked, spider.link_failed
        spider.stylesheets.crawler = crawler
        crawler.signals.connect(spider.on_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider.on_opened, signal=signals.spider_opened)
        crawler.signals.connect(spider.on_closed, signal=signals.spider_closed)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        """The start requests, from the one worker that claims the seeding (the first, or
        the next after one that died while seeding)."""
        if not claim_seeding(self.client, self.keys, self.shared_seen.worker):
            return
        # A scan published again from the database crawls on from its stored pages' links.
        self.context.frontier, self.context.unchecked = stored_frontier(self.client, self.keys)
        async for found in super().start():
            yield found
        pipe = self.client.pipeline(transaction=True)
        for name, value in self.stats_delta().items():
            pipe.hincrby(self.keys.key("stats"), name, value)
        set_state(pipe, self.keys, {"seeded": "done"})
        pipe.execute()

    def page_request(
        self, url: str, depth: int, source: str | None, via: str
    ) -> scrapy.Request | Fetch | None:
        """SiteSpider.page_request, with its check and mark of the URL one step in Redis."""
        if not host_allowed(url, self.context.allowed_domains):
            return None
        taken = self.shared_seen.take(url, self.site.max_pages)
        if taken != TAKEN:
            if taken < 0:
                self.crawler.stats.inc_value(stats.SKIPPED_OVER_LIMIT)
            return None
        return self.to_push(url, self.new_page_request(url, depth, source, via))

    def unfollowed_check(self, url: str) -> scrapy.Request | None:
        if not self.context.config.links.check_unfollowed or is_logout(url):
            return None
        if self.shared_seen.take(url, self.site.max_pages) != TAKEN:
            return None
        return self.to_push(url, next(self.links.requests(url, kind="link"), None))

    def mark_redirected(self, url: str) -> bool:
        return self.shared_seen.mark_redirected(url)

    def to_push(self, url: str, found: Any) -> Any:
        """A request for a URL this worker took: marked, in Redis, as queued when it is
        pushed to the frontier. A URL that needs no request (a logout link, a trap) is done."""
        if isinstance(found, scrapy.Request):
            found.meta[SEEN_URL] = url
        else:
            self.shared_seen.add(url)
        return found

    def give_back(self, response: Response, url: str) -> None:
        """A page this worker fetched but will not store: its request goes back to the
        frontier once the worker is done with it, for another worker to fetch, and what
        fetching it marked done is undone (its count; the URL a redirect led to, marked
        seen, which would otherwise be taken for a page stored under another request: it
        keeps its place in max_pages' count, for the redirect followed again)."""
        lease = response.meta.get(LEASE)
        if lease:
            self.frontier.give_back(lease)
        if url != first_url(response.request):
            self.shared_seen.give_back(url)
        # Only a page downloaded in full is audited, or read: counted as fetched, once.
        self.crawler.stats.inc_value(stats.FETCHED, -1)

    def unstored(self, response: Response, url: str) -> None:
        self.give_back(response, url)  # another worker reads it: nothing is lost

    def keep_alive(self) -> None:
        """Renew this worker's leases, and the key that says it is alive (which expires
        with them if it dies): what it took and has yet to push is its own till then."""
        frontier = getattr(self, "frontier", None)
        seconds = frontier.lease_seconds if frontier is not None else LEASE_SECONDS
        self.client.set(self.alive_key, 1, ex=math.ceil(seconds))
        if frontier is not None:
            frontier.renew()
        crawler = getattr(self, "crawler", None)
        if (
            crawler is not None
            and crawler.crawling
            and not self.client.exists(self.keys.key("state"))
        ):
            # Redis lost the scan (flushed, restarted without persistence): nothing this crawl
            # does can be stored; the scan resumes from the database, under a new token.
            self.logger.info("the scan's state is gone from Redis: this worker stops its crawl")
            deferred_from_coro(crawler.stop_async())

    @property
    def shared_seen(self) -> SharedSeen:
        seen = self.context.seen
        assert isinstance(seen, SharedSeen)
        return seen

    def link_checked(self, response: Response) -> Iterator[Any]:
        return self.links.parse(response)

    def link_failed(self, failure: Failure) -> Iterator[Fetch]:
        return self.links.failed(failure)

    def stats_delta(self) -> dict[str, int]:
        """The siteaudit/ counts since the last call, to be added to the scan's in Redis."""
        current = self.crawler.stats.get_stats()
        delta = {}
        for name, stat in STAT_OF.items():
            value = int(current.get(stat, 0))
            if value != self.counted.get(name, 0):
                delta[name] = value - self.counted.get(name, 0)
                self.counted[name] = value
        return delta

    def on_opened(self, spider: scrapy.Spider) -> None:
        frontier = getattr(self, "frontier", None)
        seconds = frontier.lease_seconds if frontier is not None else LEASE_SECONDS
        self.renewals = task.LoopingCall(self.keep_alive)
        self.renewals.start(seconds / 3, now=True)

    def on_closed(self, spider: scrapy.Spider, reason: str) -> None:
        if self.renewals is not None and self.renewals.running:
            self.renewals.stop()
        self.client.delete(self.alive_key)
        # This worker writes nothing more to the scan: if Redis lost it meanwhile, what it
        # wrote since is deleted, not left without an expiry.
        forget_lost_scan(self.client, self.keys)

    def on_idle(self, spider: scrapy.Spider) -> None:
        """Keep the crawl open while the scan runs: other workers may add to the frontier,
        and a dead worker's leases come back to it."""
        if self.client.hget(self.keys.key("state"), "status") != b"running":
            return  # done (or stopped): this worker's crawl of the scan closes
        if seeding_abandoned(self.client, self.keys):
            # Its start() ran already: closing lets the worker crawl the scan again, in a
            # new crawl whose start() takes over the seeding.
            self.logger.info("the seeding worker died before it was done: seeding again")
            return
        reclaim(self.client, self.keys)
        raise DontCloseSpider


class LeasingEngine(ExecutionEngine):
    """Scrapy's engine, releasing each request's lease once it has finished with it: its
    response called back, every item through the pipelines (its rows on the stream) and
    every request it led to pushed to the frontier. Polls the frontier more often than
    Scrapy's 5 s heartbeat, since other workers fill it."""

    _SLOT_HEARTBEAT_INTERVAL = IDLE_POLL

    def _remove_request(self, _: Any, request: scrapy.Request) -> None:
        super()._remove_request(_, request)
        spider = self.crawler.spider
        lease = request.meta.get(LEASE)
        if lease and isinstance(spider, DistributedSpider):
            spider.frontier.release(lease, spider.stats_delta())


def install_engine(crawler: Any) -> None:
    """Have the crawler run LeasingEngine (Scrapy 2.19 makes its engine in _create_engine)."""
    crawler._create_engine = lambda: LeasingEngine(crawler, lambda _: crawler.stop_async())


def shared_seen(client: redis.Redis, keys: ScanKeys) -> SharedSeen:
    """The scan's seen URLs, as this worker (a crawl process, named afresh) takes them."""
    return SharedSeen(client, keys, worker=secrets.token_hex(6))
