"""Stylesheets in a worker with the browser: fetched by the worker whose page needs them,
outside the shared frontier, and hashed once for the scan in Redis, so that every worker's
render hashes (crawler/stylesheets.py) take the same stylesheets' hashes."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from typing import Any

import redis
import scrapy

from crawler.distributed import ScanKeys
from crawler.stylesheets import StylesheetHashes
from vocabulary.urls import host_allowed

# The scan's hash of stylesheet hashes: URL -> what a page's render hash takes of it.
STYLESHEETS = "stylesheets"


class SharedStylesheetHashes(StylesheetHashes):
    """StylesheetHashes for a worker. Its request cannot go to the shared frontier: it would
    be done by whichever worker took it, and the hash would reach that worker alone. So the
    worker downloads it itself, through its downloader middlewares and the host's shared
    pace (crawler/shared_politeness.py), and keeps the first hash any worker found for it
    in Redis: a stylesheet is fetched at most once by each worker, and hashed one way for the
    whole scan."""

    def __init__(
        self,
        futures: dict[str, asyncio.Future[str]],
        allowed_domains: tuple[str, ...],
        client: redis.Redis,
        keys: ScanKeys,
    ) -> None:
        super().__init__(futures, allowed_domains)
        self.client, self.key = client, keys.key(STYLESHEETS)
        self.crawler: Any = None  # set by the spider, whose engine downloads them
        self.fetching: set[asyncio.Task[None]] = set()  # held, or the loop may drop them

    def requests(self, url: str) -> Iterator[scrapy.Request]:
        """No request for the frontier: the hash comes from Redis, or this worker's download."""
        if url in self.futures:
            return
        self.futures[url] = asyncio.get_event_loop().create_future()
        if not host_allowed(url, self.allowed_domains):
            self.resolve(url, f"external:{url}")  # off-site (CDN) files are versioned by URL
            return
        task = asyncio.ensure_future(self.hash_of(url))
        self.fetching.add(task)
        task.add_done_callback(self.fetching.discard)
        yield from ()

    async def hash_of(self, url: str) -> None:
        known = self.client.hget(self.key, url)
        if known is None:
            self.client.hsetnx(self.key, url, await self.download(url))
            known = self.client.hget(self.key, url)  # the first worker's, if two raced
        self.resolve(url, known.decode() if known is not None else "error:lost")

    async def download(self, url: str) -> str:
        """What StylesheetHashes.parse or .failed makes of the stylesheet: the status and
        hash of a 2xx answer, else the error (an HTTP error status is Scrapy's HttpError,
        as its spider middleware makes it on one machine)."""
        request = scrapy.Request(url, dont_filter=True, meta={"kind": "stylesheet"})
        try:
            response = await self.crawler.engine.download_async(request)
        except Exception as err:  # noqa: BLE001 - whatever the download met is its state
            return f"error:{type(err).__name__}"
        if not 200 <= response.status < 300:
            return "error:HttpError"
        return f"{response.status}:{hashlib.sha256(response.body).hexdigest()}"
