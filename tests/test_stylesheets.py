"""Stylesheets hashed for render hashes (crawler/stylesheets.py): each resolves the URL the
pages link, whatever the server answers."""

from __future__ import annotations

import asyncio
import hashlib

from scrapy.http import Response

from crawler.stylesheets import StylesheetHashes

LINKED = "http://127.0.0.1:8000/assets/old.css"


def test_a_redirected_stylesheet_resolves_the_url_the_pages_link() -> None:
    """Scrapy's redirect middleware answers with a new request: the hash must still reach
    the pages waiting on the linked URL, not wait STYLESHEET_WAIT for nothing."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        futures: dict[str, asyncio.Future[str]] = {}
        hashes = StylesheetHashes(futures, ("127.0.0.1",))
        [request] = list(hashes.requests(LINKED))
        moved = request.replace(
            url="http://127.0.0.1:8000/assets/new.css",
            meta={**request.meta, "redirect_urls": [LINKED]},
        )
        hashes.parse(Response(moved.url, status=200, body=b"body {}", request=moved))
        assert futures[LINKED].result() == f"200:{hashlib.sha256(b'body {}').hexdigest()}"
    finally:
        asyncio.set_event_loop(None)
        loop.close()
