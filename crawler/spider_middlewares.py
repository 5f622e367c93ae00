"""The spider middlewares a scan runs: Scrapy's, less what only costs time for each output."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from scrapy.http import Request


class StartRequestsMark:
    """Scrapy's StartSpiderMiddleware as far as a scan uses it: each start request is marked
    `is_start_request`, which sends it to the scheduler's first-in first-out queue for start
    requests (scrapy.pqueues), so the crawl's order is Scrapy's own.

    Scrapy's version also passes every request and item the spider yields from a response
    through an asynchronous generator of its own, only to leave them as they are: one of the
    layers around each of the spider's outputs (thousands a scan). This one has no
    process_spider_output, so Scrapy puts no layer there for it.
    """

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for found in start:
            if isinstance(found, Request):
                found.meta.setdefault("is_start_request", True)
            yield found


SPIDER_MIDDLEWARES: dict[str, int | None] = {
    "scrapy.spidermiddlewares.start.StartSpiderMiddleware": None,
    "crawler.spider_middlewares.StartRequestsMark": 25,
    # A warning for spider authors who copy a response's meta into new requests (the spider
    # builds each request's meta afresh): a layer around every output, for no row stored.
    "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
}
