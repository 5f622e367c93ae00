"""A scan's crawl shared by workers through Redis: scrapy-redis's frontier with leases, the
spider's de-duplication and sitemap dates shared, and rows sent on a stream to one writer."""

from __future__ import annotations

import logging
import pickle
from dataclasses import dataclass
from typing import Any

import redis
from scrapy.http import Request
from scrapy_redis.queue import PriorityQueue

log = logging.getLogger(__name__)

# Every key of a scan is under this prefix and its token (docs/scaling.md lists them).
PREFIX = "siteaudit:scan:"
# The tokens of open scans, for workers to pick from.
OPEN_SCANS = "siteaudit:scans"
# Where a request's lease id rides while a worker holds it.
LEASE = "siteaudit_lease"
# How long a worker may hold a request without renewing its lease (a worker killed with -9
# renews nothing: its requests go back to the frontier this long after).
LEASE_SECONDS = 60.0


@dataclass(frozen=True)
class ScanKeys:
    """The Redis keys of one distributed scan."""

    token: str

    def key(self, name: str) -> str:
        return f"{PREFIX}{self.token}:{name}"

    @property
    def all(self) -> list[str]:
        names = ("state", "config", "requests", "dupefilter", "seen", "leases", "leased")
        names += ("lease_scores", "lease_ids", "rows", "lastmod", "sitemaps", "asked", "stats")
        names += ("validators", "readings", "readability", "previous")  # distributed_unchanged
        names += ("stylesheets",)  # shared_stylesheets
        names += ("shape_runs", "external", "external_hosts", "external_checked", "robots")
        names += ("frontier",)  # a scan published again from the database (distributed_reseed)
        return [self.key(name) for name in names]


def connect(url: str) -> redis.Redis:
    """A client for the Redis server at url; raises redis.RedisError if it does not answer."""
    client = redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10)
    client.ping()
    return client


# ZPOPMIN the frontier and lease what it gave: the lease's deadline by Redis's clock, so
# workers' clocks need not agree.
POP = """
local item = redis.call('ZPOPMIN', KEYS[1])
if #item == 0 then return false end
local id = redis.call('INCR', KEYS[5])
local now = redis.call('TIME')
redis.call('ZADD', KEYS[2], now[1] + tonumber(ARGV[1]), id)
redis.call('HSET', KEYS[3], id, item[1])
redis.call('HSET', KEYS[4], id, item[2])
return {id, item[1]}
"""
# Leases past their deadline: their requests back on the frontier, with their priority.
RECLAIM = """
local now = redis.call('TIME')
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now[1])
for _, id in ipairs(ids) do
  local data = redis.call('HGET', KEYS[3], id)
  if data then
    redis.call('ZADD', KEYS[1], redis.call('HGET', KEYS[4], id) or 0, data)
  end
  redis.call('ZREM', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
end
return #ids
"""
# Leases still held, given a new deadline (only those not already reclaimed).
RENEW = """
local now = redis.call('TIME')
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], 'XX', now[1] + tonumber(ARGV[1]), ARGV[i])
end
return 0
"""


def frontier_keys(keys: ScanKeys) -> list[str]:
    names = ("requests", "leases", "leased", "lease_scores", "lease_ids")
    return [keys.key(name) for name in names]


def reclaim(client: redis.Redis, keys: ScanKeys) -> int:
    """Put the requests of expired leases back on the frontier; how many there were."""
    return int(client.eval(RECLAIM, 4, *frontier_keys(keys)[:4]))


class LeasedQueue(PriorityQueue):
    """scrapy-redis's priority queue, whose pop leases a request instead of forgetting it:
    released once the worker has finished with it (LeasingEngine), or put back on the
    frontier when the lease runs out (its worker died)."""

    def __init__(self, server: redis.Redis, spider: Any, key: str, serializer: Any = None) -> None:
        super().__init__(server, spider, key, serializer)
        self.keys = ScanKeys(key.removeprefix(PREFIX).rsplit(":", 1)[0])
        self.lease_seconds = float(server.hget(self.keys.key("state"), "lease_seconds") or 0)
        self.lease_seconds = self.lease_seconds or LEASE_SECONDS
        self.held: set[str] = set()
        # Leases whose requests go back to the frontier once the worker is done with them.
        self.returning: set[str] = set()
        spider.frontier = self  # the spider renews the leases; the engine releases them

    def push(self, request: Request) -> None:
        """scrapy-redis's push; a page request's URL marked queued at the same time."""
        data = self._encode_request(request)
        seen = request.meta.get(SEEN_URL) or ""
        self.server.eval(PUSH, 2, self.key, self.keys.key("seen"), -request.priority, data, seen)

    def pop(self, timeout: int = 0) -> Request | None:
        found = self.server.eval(POP, 5, *frontier_keys(self.keys), self.lease_seconds)
        if not found:
            return None
        lease, data = str(int(found[0])), found[1]  # Lua's integer id
        request = self._decode_request(data)
        request.meta[LEASE] = lease
        self.held.add(lease)
        return request

    def release(self, lease: str, stats: dict[str, int]) -> None:
        """The worker is done with the request: its counts added, its lease gone; or, if it
        gives the request back (give_back), the request back on the frontier."""
        back = lease in self.returning
        pipe = self.server.pipeline(transaction=True)
        for name, value in stats.items():
            pipe.hincrby(self.keys.key("stats"), name, value)
        if back:
            # As if its lease had run out: reclaimed as a dead worker's are.
            pipe.zadd(self.keys.key("leases"), {lease: 0}, xx=True)
        else:
            pipe.zrem(self.keys.key("leases"), lease)
            pipe.hdel(self.keys.key("leased"), lease)
            pipe.hdel(self.keys.key("lease_scores"), lease)
        pipe.execute()
        self.held.discard(lease)
        self.returning.discard(lease)
        if back:
            reclaim(self.server, self.keys)

    def give_back(self, lease: str) -> None:
        """The worker will not finish the request (its page is not stored): once it is done
        with it, the request goes back to the frontier for another worker, not released."""
        if lease in self.held:
            self.returning.add(lease)

    def renew(self) -> None:
        if self.held:
            self.server.eval(RENEW, 1, self.keys.key("leases"), self.lease_seconds, *self.held)


# The spider's seen URLs, as a hash: url -> "q" once its request is on the frontier (or "d",
# done without one), or "t:WORKER" while the worker that took it has yet to push its request.
# A URL taken by a worker that died before pushing it (its liveness key gone) is taken again,
# when the page that links to it is done again: otherwise it would be lost. A URL a redirect
# led to is "d" too (MARK_REDIRECTED), and "g" once its page was given back (GIVE_BACK): not
# seen, so that the page is stored when its request is fetched again, but still counted, as
# the hash's length is what max_pages limits: its place is never taken by another URL, which
# would put the scan one past max_pages when the redirect is followed again.
# Returns 1 taken, 0 seen, -1 full (max_pages).
TAKE = """
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v == 'g' then
  -- a page given back, linked to directly: taken in the place it kept
elseif v then
  if string.sub(v, 1, 2) ~= 't:' then return 0 end
  if redis.call('EXISTS', KEYS[2] .. string.sub(v, 3)) == 1 then return 0 end
elseif redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[2]) then
  return -1
end
redis.call('HSET', KEYS[1], ARGV[1], 't:' .. ARGV[3])
return 1
"""
TAKEN, SEEN, FULL = 1, 0, -1
# Mark seen the URL a redirect led to, unless it is (a check and a mark in one step: a URL
# another worker took meanwhile is never marked over, nor later given back for it).
# Returns 1 marked, 0 seen already.
MARK_REDIRECTED = """
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v and v ~= 'g' then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], 'd')
return 1
"""
# A redirect's page given back: the URL it led to is no longer seen but keeps its count.
GIVE_BACK = """
if redis.call('HGET', KEYS[1], ARGV[1]) == 'd' then
  redis.call('HSET', KEYS[1], ARGV[1], 'g')
end
return 1
"""
# Where a page request carries the URL it was taken as, to be marked queued when pushed.
SEEN_URL = "siteaudit_seen"
# Push a request and mark its URL queued, in one step.
PUSH = """
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[2], ARGV[3], 'q') end
return 1
"""


def worker_key(keys: ScanKeys, worker: str = "") -> str:
    """The key that says a worker is alive (it expires unless the worker renews it)."""
    return keys.key(f"worker:{worker}")


# Claim the seeding (the spider's start()): `seeded` becomes "claimed:WORKER", unless it is
# done, or claimed by a worker still alive. A claim whose worker's liveness key has expired
# (it died while seeding) is taken over: seeding again is harmless, since every URL it
# yields is taken through the shared seen hash. Never once the state is gone (Redis lost the
# scan): a claim would make it again. Returns 1 claimed, 0 not.
CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local v = redis.call('HGET', KEYS[1], 'seeded')
if v then
  if string.sub(v, 1, 8) ~= 'claimed:' then return 0 end
  if redis.call('EXISTS', KEYS[2] .. string.sub(v, 9)) == 1 then return 0 end
end
redis.call('HSET', KEYS[1], 'seeded', 'claimed:' .. ARGV[1])
return 1
"""


def claim_seeding(client: redis.Redis, keys: ScanKeys, worker: str) -> bool:
    """True if this worker is the one to seed the scan now (first, or after a dead one)."""
    return bool(client.eval(CLAIM, 2, keys.key("state"), worker_key(keys), worker))


# Set fields of a scan's state only while it exists (all, or only those not yet set): a
# worker writing to a state Redis lost would make it again, a scan no seeder writes.
SET_STATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local set = ARGV[1] == 'nx' and 'HSETNX' or 'HSET'
for i = 2, #ARGV, 2 do redis.call(set, KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
"""


def set_state(
    client: redis.Redis | redis.client.Pipeline,
    keys: ScanKeys,
    fields: dict[str, Any],
    only_new: bool = False,
) -> Any:
    """Set the fields of the scan's state, if Redis still holds it (client: a pipeline too)."""
    pairs = [str(part) for pair in fields.items() for part in pair]
    return client.eval(SET_STATE, 1, keys.key("state"), "nx" if only_new else "all", *pairs)


def forget_lost_scan(client: redis.Redis, keys: ScanKeys) -> None:
    """Delete what workers left under a scan's token once its state is gone (Redis lost the
    scan, or its seeder finished it): written after the seeder deleted the rest, it has no
    expiry, and no one reads it again (a scan published again has a new token)."""
    if not client.exists(keys.key("state")):
        client.delete(*keys.all)


def seeding_abandoned(client: redis.Redis, keys: ScanKeys) -> bool:
    """The seeding was claimed by a worker that died before it was done."""
    seeded = client.hget(keys.key("state"), "seeded") or b""
    if not seeded.startswith(b"claimed:"):
        return False
    return not client.exists(worker_key(keys, seeded.removeprefix(b"claimed:").decode()))


class SharedSeen:
    """The spider's context.seen, one for every worker of the scan."""

    def __init__(self, client: redis.Redis, keys: ScanKeys, worker: str) -> None:
        self.client, self.key, self.keys, self.worker = client, keys.key("seen"), keys, worker

    def __contains__(self, url: object) -> bool:
        return self.client.hget(self.key, str(url)) not in (None, b"g")

    def add(self, url: str) -> None:
        self.client.hset(self.key, url, "d")

    def __len__(self) -> int:
        return int(self.client.hlen(self.key))

    def take(self, url: str, limit: int) -> int:
        """TAKEN if this worker is the one to crawl url; SEEN or FULL if not (atomic)."""
        prefix = worker_key(self.keys)
        return int(self.client.eval(TAKE, 2, self.key, prefix, url, limit, self.worker))

    def mark_redirected(self, url: str) -> bool:
        """Mark seen the URL a redirect led to; False if it was seen already (atomic)."""
        return bool(self.client.eval(MARK_REDIRECTED, 1, self.key, url))

    def give_back(self, url: str) -> None:
        """The page a redirect led to was given back: its URL no longer seen, still counted."""
        self.client.eval(GIVE_BACK, 1, self.key, url)


class SharedLastmod:
    """The dates sitemaps give pages (url -> lastmod), read by whichever worker reads a page."""

    def __init__(self, client: redis.Redis, key: str) -> None:
        self.client, self.key = client, key

    def __setitem__(self, url: str, lastmod: str) -> None:
        self.client.hset(self.key, url, lastmod)

    def get(self, url: str) -> str | None:
        value = self.client.hget(self.key, url)
        return value.decode() if value is not None else None


# Add a writer call's rows to the scan's stream, only while the scan's state exists: rows made
# after Redis lost it (flushed, or restarted without persistence) may lack what it shared
# (sitemap dates, seen URLs), so they are never stored; their pages are done again when the
# scan resumes from the database.
ADD_ROWS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('XADD', KEYS[2], '*', 'parts', ARGV[1])
return 1
"""


class StreamWriter:
    """store/writer.py's Writer as the pipelines see it, sending each call's rows, together,
    as one entry of the scan's stream; the seeding process writes them to the database."""

    db_path = None  # no database here: a rescan's readings come from Redis (distributed_unchanged)

    def __init__(self, client: redis.Redis, keys: ScanKeys) -> None:
        self.client, self.stream, self.state = client, keys.key("rows"), keys.key("state")
        self.add = client.register_script(ADD_ROWS)
        self.refused = False

    def put(self, table: str, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.put_together([(table, rows)])

    def put_together(self, parts: list[tuple[str, list[dict[str, Any]]]]) -> None:
        parts = [(table, rows) for table, rows in parts if rows]
        if parts:
            rows = pickle.dumps(parts, protocol=5)
            if not self.add(keys=[self.state, self.stream], args=[rows]) and not self.refused:
                self.refused = True
                log.warning("the scan's state is gone from Redis: this worker's rows are not sent")
