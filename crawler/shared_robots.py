"""robots.txt fetched once for a whole distributed scan: the first worker to need a host's
fetches it, and every worker judges its requests by what that fetch found, kept in Redis."""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from typing import Any
from urllib.parse import urlsplit

import redis
from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet.defer import Deferred

from crawler.context import crawl_context
from crawler.distributed import ScanKeys
from crawler.middlewares import CrawlDelayMiddleware, EveryWaiterRobotsTxtMiddleware, crawl_delay

log = logging.getLogger(__name__)

# The scan's hash of what each host's robots.txt fetch found: netloc -> an outcome
# (ScanKeys.all, so deleted with the scan's other keys when it ends).
ROBOTS = "robots"
# A fetch that found no robots.txt to obey (the download failed: Scrapy then allows all).
NO_ROBOTS = b"none"
# A fetch that got a response: this, then its status, a space and its body.
BODY = b"body:"
# How long a claim to fetch a host's robots.txt holds without being renewed: a worker killed
# with -9 mid-fetch leaves the host to another worker this long after.
CLAIM_SECONDS = 20.0
# How often a worker that waits for another's fetch looks again (varied, so that waiting
# workers do not ask in step).
POLL = 0.1
# Give the claim a new deadline, if it is still this worker's (it may have run out, and been
# taken by another worker, while this one's reactor was busy).
RENEW = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""


def encode(status: int | None, body: bytes) -> bytes:
    """A fetch's outcome as kept in Redis: its response's status and body, or NO_ROBOTS."""
    return NO_ROBOTS if status is None else BODY + b"%d " % status + body


def decode(outcome: bytes) -> tuple[int, bytes] | None:
    """A kept outcome's status and body; None for NO_ROBOTS (or anything unreadable)."""
    if not outcome.startswith(BODY):
        return None
    status, _, body = outcome.removeprefix(BODY).partition(b" ")
    return (int(status), body) if status.isdigit() else None


class SharedRobotsTxt:
    """Each host's robots.txt as the scan's first fetch of it found it, and the claims of the
    workers fetching one now, in Redis under the scan's keys."""

    def __init__(self, client: redis.Redis, keys: ScanKeys, claim_seconds: float) -> None:
        self.client, self.keys, self.claim_seconds = client, keys, claim_seconds
        self.key = keys.key(ROBOTS)
        self.worker = secrets.token_hex(6)

    def claim_key(self, netloc: str) -> str:
        """The key a worker fetching the host's robots.txt holds (it expires by itself)."""
        return self.keys.key(f"robots_claim:{netloc}")

    def outcome(self, netloc: str) -> bytes | None:
        """What the scan's fetch of the host's robots.txt found; None if none has ended."""
        value = self.client.hget(self.key, netloc)
        return bytes(value) if value is not None else None

    def claim(self, netloc: str) -> bool:
        """True if this worker is the one to fetch the host's robots.txt now: no other holds
        the claim (none did, or its holder stopped renewing it: it died)."""
        milliseconds = int(self.claim_seconds * 1000)
        return bool(self.client.set(self.claim_key(netloc), self.worker, nx=True, px=milliseconds))

    def renew(self, netloc: str) -> bool:
        milliseconds = int(self.claim_seconds * 1000)
        return bool(self.client.eval(RENEW, 1, self.claim_key(netloc), self.worker, milliseconds))

    def share(self, netloc: str, outcome: bytes) -> None:
        """The fetch's outcome, for every worker; the claim, done with, given up."""
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(self.key, netloc, outcome)
        pipe.delete(self.claim_key(netloc))
        pipe.execute()


class SharedRobotsTxtMiddleware(EveryWaiterRobotsTxtMiddleware):
    """EveryWaiterRobotsTxtMiddleware for a worker of a distributed scan: a host's robots.txt
    is fetched by the first worker to claim it, which keeps what it found in Redis (the body,
    whatever the status, or "none" when the download failed, which Scrapy reads as allow all);
    every other worker waits for that and parses it itself, so that all judge by one fetch.
    The body is at most DOWNLOAD_MAXSIZE, as on one machine: a longer one fails to download."""

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        context = crawl_context(crawler)
        client, keys = getattr(context, "client", None), getattr(context, "keys", None)
        if not isinstance(client, redis.Redis) or not isinstance(keys, ScanKeys):
            raise RuntimeError("shared robots.txt needs a worker's crawl (app/distributed.py)")
        self.shared = SharedRobotsTxt(client, keys, CLAIM_SECONDS)
        # host -> Crawl-delay, as CrawlDelayMiddleware keeps it for this worker's slots.
        self.crawl_delays = context.crawl_delays

    async def robot_parser(self, request: Request) -> Any:
        netloc = urlparse_cached(request).netloc
        if netloc not in self._parsers:
            # Requests to the host from now on wait for this, as for Scrapy's own download.
            self._parsers[netloc] = Deferred()
            await self.find_outcome(request, netloc)
        return await super().robot_parser(request)

    async def find_outcome(self, request: Request, netloc: str) -> None:
        """Read the scan's outcome for the host, or fetch it if this worker claims it first."""
        while True:
            outcome = self.shared.outcome(netloc)
            if outcome is not None:
                await self.read_shared(outcome, netloc, request)
                return
            if self.shared.claim(netloc):
                await self.fetch_and_share(request, netloc)
                return
            await asyncio.sleep(POLL * random.uniform(0.5, 1.5))

    async def fetch_and_share(self, request: Request, netloc: str) -> None:
        """Scrapy's download of robots.txt, its outcome kept for every worker, the claim
        renewed while it runs."""
        url = urlparse_cached(request)
        robots_request = Request(
            f"{url.scheme}://{netloc}/robots.txt",
            priority=self.DOWNLOAD_PRIORITY,
            meta={"dont_obey_robotstxt": True},
            callback=NO_CALLBACK,
        )
        renewing = asyncio.ensure_future(self.keep_claim(netloc))
        try:
            response = await self.crawler.engine.download_async(robots_request)
        except Exception as error:  # noqa: BLE001 - as Scrapy's: a failed fetch allows all
            self.shared.share(netloc, NO_ROBOTS)
            self.fetch_failed(error, netloc, request)
        else:
            self.shared.share(netloc, encode(response.status, response.body))
            await self._parse_robots(response, netloc, request)
        finally:
            renewing.cancel()
        self._stats.inc_value("robotstxt/request_count")

    def fetch_failed(self, error: Exception, netloc: str, request: Request) -> None:
        if not isinstance(error, IgnoreRequest):
            log.error("Error downloading robots.txt for %s: %s", request, error)
        self._robots_error(error, netloc)

    async def keep_claim(self, netloc: str) -> None:
        """Renew the claim while the fetch runs (a slow host, retries, a Crawl-delay's wait)."""
        while True:
            await asyncio.sleep(self.shared.claim_seconds / 3)
            self.shared.renew(netloc)

    async def read_shared(self, outcome: bytes, netloc: str, request: Request) -> None:
        """Judge the host's requests by another worker's fetch, as if this one had made it."""
        self._stats.inc_value("robotstxt/shared_read")
        found = decode(outcome)
        if found is None:
            parser = self._parsers[netloc]
            self._parsers[netloc] = None
            assert isinstance(parser, Deferred)
            parser.callback(None)
            return
        status, body = found
        self.follow_crawl_delay(status, body, urlsplit(request.url).hostname or "")
        parser = build_from_crawler(self._parserimpl, self.crawler, body)
        await self.crawler.signals.send_catch_log_async(
            signal=signals.robots_parsed, robotparser=parser, request=request
        )
        waiting = self._parsers[netloc]
        self._parsers[netloc] = parser
        assert isinstance(waiting, Deferred)
        waiting.callback(parser)

    def follow_crawl_delay(self, status: int, body: bytes, host: str) -> None:
        """This worker's own download slot keeps the Crawl-delay too, as if it had read the
        robots.txt itself (CrawlDelayMiddleware); every worker's token already does."""
        if status != 200 or host in self.crawl_delays:
            return
        delay = crawl_delay(body, self.crawler.settings.get("USER_AGENT", ""))
        if delay:
            self.crawl_delays[host] = min(delay, CrawlDelayMiddleware.MAX_DELAY)


def robots_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """A worker's crawl settings with robots.txt fetched once for the scan, in its place."""
    middlewares = dict(settings.get("DOWNLOADER_MIDDLEWARES", {}))
    one_machine = "crawler.middlewares.EveryWaiterRobotsTxtMiddleware"
    if one_machine in middlewares:
        order = middlewares.pop(one_machine)
        middlewares[one_machine] = None
        middlewares["crawler.shared_robots.SharedRobotsTxtMiddleware"] = order
    return {**settings, "DOWNLOADER_MIDDLEWARES": middlewares}
