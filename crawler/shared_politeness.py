"""Politeness that holds for every worker of a shared crawl: each host's pace, adaptive delay
and requests in flight kept in Redis, and what slows a host (Crawl-delay, Retry-After) told to
every worker."""

from __future__ import annotations

import asyncio
import functools
import itertools
import random
import secrets
import weakref
from collections import deque
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import redis
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.http import Request, Response
from twisted.internet.defer import Deferred
from twisted.web.client import URI, HTTPConnectionPool

from crawler.context import crawl_context
from crawler.middlewares import (
    RETRY_LATER,
    CrawlDelayMiddleware,
    PoliteThrottle,
    RetryAfterMiddleware,
    retry_after_seconds,
)

# Every host's keys, shared by every scan in the Redis (politeness is owed to the host, not
# to one scan of it); each key expires by itself once it no longer holds anything back.
HOST_PREFIX = "siteaudit:host:"
# How often a request waiting for a free slot of its host asks again (varied, so that
# waiting workers do not ask in step).
SLOT_POLL = 0.05
# A slot is held at most the request's download timeout and this long: a worker that dies
# with a request in flight gives its slot back then.
SLOT_MARGIN = 10.0
# How long a robots.txt Crawl-delay read by one worker holds for every worker (RFC 9309 lets
# a crawler keep a robots.txt a day).
CRAWL_DELAY_SECONDS = 24 * 3600
# How long a host's adaptive delay outlives its last latency sample: a host no worker has
# fetched from for that long starts again from the scan's start delay.
ADAPTIVE_DELAY_SECONDS = 600

# Take a token for a request to a host, by Redis's clock (workers' clocks need not agree):
# the host's slots past their deadline dropped (their worker died), then the request may
# start if the host's next start is due and a slot is free: the next start is put `delay`
# on (or the host's adaptive delay, with ARGV[5] = 1, or its Crawl-delay, which also allows
# one request at a time, if longer), and a slot taken until its deadline. Returns 0 taken,
# -1 no free slot, or the milliseconds to wait.
TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local due = tonumber(redis.call('GET', KEYS[1]) or '0')
if due > now then return math.max(1, math.ceil((due - now) * 1000)) end
local delay, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
if ARGV[5] == '1' then delay = math.max(delay, tonumber(redis.call('GET', KEYS[4]) or '0')) end
local crawl_delay = tonumber(redis.call('GET', KEYS[2]) or '0')
if crawl_delay > 0 then delay, limit = math.max(delay, crawl_delay), 1 end
if redis.call('ZCARD', KEYS[3]) >= limit then return -1 end
if delay > 0 then
  redis.call('SET', KEYS[1], string.format('%.6f', now + delay), 'PX', math.ceil(delay * 1000))
end
local hold = math.ceil(tonumber(ARGV[3]) * 1000)
redis.call('ZADD', KEYS[3], now + hold / 1000, ARGV[4])
if redis.call('PTTL', KEYS[3]) < hold + 1000 then redis.call('PEXPIRE', KEYS[3], hold + 1000) end
return 0
"""
TAKEN, NO_FREE_SLOT = 0, -1
# Hold a host off for a while: its next start no sooner than now + seconds (a Retry-After),
# or, with ARGV[2] = 1, than now + the longest of seconds, its Crawl-delay and its adaptive
# delay if KEYS[3] is given (a request that starts later than it took its token).
HOLD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local seconds = tonumber(ARGV[1])
if ARGV[2] == '1' then
  seconds = math.max(seconds, tonumber(redis.call('GET', KEYS[2]) or '0'))
  if KEYS[3] then seconds = math.max(seconds, tonumber(redis.call('GET', KEYS[3]) or '0')) end
end
local due = tonumber(redis.call('GET', KEYS[1]) or '0')
if seconds <= 0 or now + seconds <= due then return 0 end
redis.call('SET', KEYS[1], string.format('%.6f', now + seconds), 'PX', math.ceil(seconds * 1000))
return 1
"""

# One latency sample of a host, from any worker, moves the host's one adaptive delay by
# AutoThrottle's rule (scrapy/extensions/throttle.py, _adjust_delay): towards latency /
# target concurrency (at once if that is longer), within the scan's minimum and maximum,
# never lowered by an answer other than a 200 (ARGV[6] = 0); then never below the host's
# Crawl-delay, as PoliteThrottle does. Before any sample the delay is the start delay.
# Returns the new delay, as text (Redis would cut a Lua number to an integer).
ADAPT = """
local old = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
local target = tonumber(ARGV[2]) / tonumber(ARGV[3])
local new = math.max(target, (old + target) / 2)
new = math.min(math.max(tonumber(ARGV[4]), new), tonumber(ARGV[5]))
if ARGV[6] ~= '1' and new <= old then new = old end
new = math.max(new, tonumber(redis.call('GET', KEYS[2]) or '0'))
local text = string.format('%.6f', new)
redis.call('SET', KEYS[1], text, 'EX', ARGV[7])
return text
"""


def host_key(url: str) -> str:
    """The host a URL's request is paced as: its name, and its port if the URL gives one
    (two servers on one address are two hosts)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


class SharedPace:
    """The per-host tokens every worker takes before a request, kept in Redis."""

    def __init__(
        self, client: redis.Redis, delay: float, concurrency: int, adaptive: bool = False
    ) -> None:
        self.client, self.delay, self.concurrency = client, delay, concurrency
        # With the adaptive throttle, the host's adaptive delay (SharedThrottle) counts too.
        self.adaptive = adaptive
        # Slot ids are this worker's own, so that no two workers' slots are one member.
        self.worker = secrets.token_hex(6)
        self.counter = itertools.count(1)

    @staticmethod
    def keys(host: str) -> list[str]:
        """The host's next start, its Crawl-delay, its slots in flight and its adaptive delay."""
        names = ("next", "crawl_delay", "slots", "adaptive_delay")
        return [f"{HOST_PREFIX}{name}:{host}" for name in names]

    def take(self, host: str, hold: float) -> tuple[str | None, float]:
        """A slot of the host held at most `hold` seconds, or None and how long to wait."""
        slot = f"{self.worker}:{next(self.counter)}"
        args = (self.delay, self.concurrency, hold, slot, int(self.adaptive))
        found = int(self.client.eval(TAKE, 4, *self.keys(host), *args))
        if found == TAKEN:
            return slot, 0.0
        if found == NO_FREE_SLOT:
            return None, SLOT_POLL * random.uniform(0.5, 1.5)
        return None, found / 1000

    async def acquire(self, host: str, hold: float) -> str:
        """Wait, without holding up the reactor, until the host lets a request start."""
        while True:
            slot, wait = self.take(host, hold)
            if slot is not None:
                return slot
            await asyncio.sleep(wait)

    def release(self, host: str, slot: str) -> None:
        self.client.zrem(self.keys(host)[2], slot)

    def hold_off(self, host: str, seconds: float) -> None:
        """No request to the host, from any worker, for this many seconds (Retry-After)."""
        self.client.eval(HOLD, 2, *self.keys(host)[:2], seconds, 0)

    def started(self, host: str) -> None:
        """A request to the host is being sent now: the next no sooner than its delay from
        now, though its token was taken earlier (a new connection, a busy worker)."""
        next_start, crawl_delay, _, adaptive_delay = self.keys(host)
        keys = [next_start, crawl_delay] + ([adaptive_delay] if self.adaptive else [])
        self.client.eval(HOLD, len(keys), *keys, self.delay, 1)

    def adapt(self, host: str, latency: float, ok: bool, rule: tuple[float, ...]) -> float:
        """The host's adaptive delay after one more latency sample (ADAPT); `rule` is the
        throttle's start delay, target concurrency, minimum and maximum delay."""
        _, crawl_delay, _, adaptive_delay = self.keys(host)
        start, target, low, high = rule
        args = (start, latency, target, low, high, int(ok), ADAPTIVE_DELAY_SECONDS)
        return float(self.client.eval(ADAPT, 2, adaptive_delay, crawl_delay, *args))

    def adaptive_delay(self, host: str) -> float | None:
        value = self.client.get(self.keys(host)[3])
        return float(value) if value is not None else None

    def set_crawl_delay(self, host: str, seconds: float) -> None:
        """The host's Crawl-delay, for every worker; the next request that far from now (one
        may have started while robots.txt was read, before anyone knew)."""
        self.client.set(self.keys(host)[1], seconds, ex=CRAWL_DELAY_SECONDS)
        self.hold_off(host, seconds)

    def forget_crawl_delay(self, host: str) -> None:
        self.client.delete(self.keys(host)[1])

    def crawl_delay(self, host: str) -> float | None:
        value = self.client.get(self.keys(host)[1])
        return float(value) if value is not None else None


# The crawler's SharedPace, one for its download handler and middleware.
PACES: weakref.WeakKeyDictionary[Any, SharedPace] = weakref.WeakKeyDictionary()


def shared_pace(crawler: Any) -> SharedPace:
    """The crawl's SharedPace, made once: the scan's delay and concurrency per host."""
    context = crawl_context(crawler)
    client = getattr(context, "client", None)
    if not isinstance(client, redis.Redis):
        raise RuntimeError("shared politeness needs a worker's crawl (app/distributed.py)")
    pace = PACES.get(crawler)
    if pace is None:
        settings = crawler.settings
        delay = settings.getfloat("DOWNLOAD_DELAY")
        concurrency = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        adaptive = settings.getbool("AUTOTHROTTLE_ENABLED")
        pace = SharedPace(client, delay, concurrency, adaptive)
        PACES[crawler] = pace
    return pace


class SharedPaceDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP handler, whose every request first takes its host's token: taken where
    the request starts (after the worker's own download slot has let it through), so that
    the pace holds between requests as the server sees them. A 429 or 503 with Retry-After
    holds the host off for every worker before the slot is given back."""

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self.pace = shared_pace(crawler)
        self.timeout = crawler.settings.getfloat("DOWNLOAD_TIMEOUT")
        self._pool = StartingConnectionPool.like(self._pool)

    async def download_request(self, request: Request) -> Response:
        host = host_key(request.url)
        hold = float(request.meta.get("download_timeout", self.timeout)) + SLOT_MARGIN
        slot = await self.pace.acquire(host, hold)
        started = functools.partial(self.pace.started, host)
        try:
            self._pool.when_connected(request.url, started)
            response = await super().download_request(request)
            self.hold_if_asked(host, response)
            return response
        finally:
            self._pool.forget(request.url, started)
            self.pace.release(host, slot)

    def hold_if_asked(self, host: str, response: Response) -> None:
        if response.status not in RETRY_LATER:
            return
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        if wait:
            # As long as one worker would wait for a retry itself (RetryAfterMiddleware).
            self.pace.hold_off(host, min(wait, RetryAfterMiddleware.MAX_WAIT))


def pool_key(url: str) -> tuple[bytes, bytes, int]:
    """The key Twisted's Agent gives a URL's connections in the pool."""
    uri = URI.fromBytes(url.encode("ascii", "replace"))
    return uri.scheme, uri.host, uri.port


class StartingConnectionPool(HTTPConnectionPool):
    """Twisted's connection pool, telling whoever asked when a request to a host has its
    connection, at once written to it: the moment the server sees it start."""

    def __init__(self, reactor: Any, persistent: bool = True) -> None:
        super().__init__(reactor, persistent)
        # Twisted's pool key, (scheme, host, port) -> what to call, in the order asked.
        self.waiting: dict[tuple[bytes, bytes, int], deque[Callable[[], None]]] = {}

    @classmethod
    def like(cls, pool: HTTPConnectionPool) -> StartingConnectionPool:
        """A pool made as Scrapy made `pool`."""
        new = cls(pool._reactor, pool.persistent)
        new.maxPersistentPerHost, new._factory = pool.maxPersistentPerHost, pool._factory
        return new

    def when_connected(self, url: str, call: Callable[[], None]) -> None:
        """Call `call` when the next request to url's host gets its connection."""
        self.waiting.setdefault(pool_key(url), deque()).append(call)

    def forget(self, url: str, call: Callable[[], None]) -> None:
        """`call` is not to be called (its request ended before it had a connection)."""
        key = pool_key(url)
        waiting = self.waiting.get(key)
        if waiting and call in waiting:
            waiting.remove(call)
            if not waiting:
                del self.waiting[key]

    def getConnection(self, key: Any, endpoint: Any) -> Deferred[Any]:
        connected = super().getConnection(key, endpoint)
        # Scrapy's agent adds its bind address to Twisted's (scheme, host, port).
        scheme_host_port = tuple(key[:3]) if isinstance(key, tuple) else key
        waiting = self.waiting.get(scheme_host_port)
        if waiting:
            call = waiting.popleft()
            if not waiting:
                del self.waiting[scheme_host_port]
            connected.addCallback(lambda protocol: (call(), protocol)[1])
        return connected


class SharedCrawlDelayMiddleware(CrawlDelayMiddleware):
    """CrawlDelayMiddleware, whose Crawl-delay, read by whichever worker fetched robots.txt
    first, is kept in Redis: from then on every worker's token for the host waits that long,
    one request at a time (each worker's own download slot follows it once it has read
    robots.txt itself)."""

    def __init__(self, crawler: Any, delays: dict[str, float]) -> None:
        super().__init__(crawler, delays)
        self.pace = shared_pace(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        response = super().process_response(request, response)
        host = urlsplit(request.url).hostname or ""
        if urlsplit(request.url).path != "/robots.txt" or response.status >= 500:
            return response
        if host in self.delays:
            self.pace.set_crawl_delay(host_key(request.url), self.delays[host])
        else:  # a robots.txt that no longer asks for one (or none at all)
            self.pace.forget_crawl_delay(host_key(request.url))
        return response


class SharedThrottle(PoliteThrottle):
    """PoliteThrottle whose delay is the host's, one for every worker, kept in Redis: each
    worker's latency samples move it (ADAPT), every worker's token waits for it (TAKE), and
    each worker's own download slot follows it. Without this, each worker adapted a delay
    of its own and the host's pace was whatever each worker's own slot allowed."""

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self.pace = shared_pace(crawler)

    def _adjust_delay(self, slot: Any, latency: float, response: Response) -> None:
        # A 304 counts as a 200, as in PoliteThrottle (a rescan's answers).
        ok = response.status in (HTTPStatus.OK, HTTPStatus.NOT_MODIFIED)
        rule = (self._start_delay(), self.target_concurrency, self.mindelay, self.maxdelay)
        slot.delay = self.pace.adapt(host_key(response.url), latency, ok, rule)


def politeness_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """A worker's crawl settings with its requests paced for every worker."""
    handlers = {
        **settings.get("DOWNLOAD_HANDLERS", {}),
        "http": "crawler.shared_politeness.SharedPaceDownloadHandler",
        "https": "crawler.shared_politeness.SharedPaceDownloadHandler",
    }
    middlewares = dict(settings.get("DOWNLOADER_MIDDLEWARES", {}))
    if "crawler.middlewares.CrawlDelayMiddleware" in middlewares:
        order = middlewares.pop("crawler.middlewares.CrawlDelayMiddleware")
        middlewares["crawler.middlewares.CrawlDelayMiddleware"] = None
        middlewares["crawler.shared_politeness.SharedCrawlDelayMiddleware"] = order
    extensions = dict(settings.get("EXTENSIONS", {}))
    if "crawler.middlewares.PoliteThrottle" in extensions:
        order = extensions.pop("crawler.middlewares.PoliteThrottle")
        extensions["crawler.shared_politeness.SharedThrottle"] = order
    return {
        **settings,
        "DOWNLOAD_HANDLERS": handlers,
        "DOWNLOADER_MIDDLEWARES": middlewares,
        "EXTENSIONS": extensions,
    }
