"""Each stylesheet fetched once a scan and hashed: an audit is reused only if they are unchanged."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from store.previous import render_hash
from vocabulary.urls import host_allowed

# A stylesheet slower than this to arrive makes its pages unsuitable for reuse, not stuck.
STYLESHEET_WAIT = 60.0


async def page_render_hash(
    futures: dict[str, asyncio.Future[str]], content_hash: str, stylesheets: list[str]
) -> str | None:
    """A page's HTML and stylesheets, hashed; None if a stylesheet never arrived."""
    try:
        hashes = await asyncio.wait_for(
            asyncio.gather(*(futures[url] for url in stylesheets)), STYLESHEET_WAIT
        )
    except TimeoutError:
        return None
    return render_hash(content_hash, list(hashes))


class StylesheetHashes:
    """Fetch a stylesheet once per scan; pages wait on its hash, never on the request.

    A rescan reuses a page's audit only if its HTML and stylesheets are unchanged
    (store/previous.py), so each page's render hash includes its stylesheets' hashes.
    """

    def __init__(
        self, futures: dict[str, asyncio.Future[str]], allowed_domains: tuple[str, ...]
    ) -> None:
        # url -> its hash, once fetched; shared with the pipeline that hashes pages.
        self.futures = futures
        self.allowed_domains = allowed_domains

    def requests(self, url: str) -> Iterator[scrapy.Request]:
        if url in self.futures:
            return
        future = asyncio.get_event_loop().create_future()
        self.futures[url] = future
        if not host_allowed(url, self.allowed_domains):
            future.set_result(f"external:{url}")  # off-site (CDN) files are versioned by URL
            return
        yield scrapy.Request(
            url,
            callback=self.parse,
            errback=self.failed,
            dont_filter=True,
            meta={"kind": "stylesheet"},
            priority=10,
        )

    def parse(self, response: Response) -> None:
        digest = hashlib.sha256(response.body).hexdigest()
        self.resolve(linked_url(response.request), f"{response.status}:{digest}")

    def failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        self.resolve(linked_url(request), f"error:{type(failure.value).__name__}")

    def resolve(self, url: str, value: str) -> None:
        future = self.futures.get(url)
        if future is not None and not future.done():
            future.set_result(value)


def linked_url(request: scrapy.Request) -> str:
    """The URL the pages link, which they wait on: the request's before any redirect."""
    return (request.meta.get("redirect_urls") or [request.url])[0]
