"""Sitemaps read within bounds: gzip inflated to the download limit, tags counted first."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
import time

from scrapy.http import Response
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap

log = logging.getLogger(__name__)

# 50,000 URLs (the sitemap protocol's limit), each with a few children or alternates, each
# tag counted twice (open, close). More is junk that Scrapy's reader keeps in memory: 8
# million empty tags (31 MB, from a 30 KB gzip) took 55 s and 1 GB.
MAX_SITEMAP_TAGS = 1_200_000


def read_sitemap(response: Response, max_size: int, warn_size: int) -> Sitemap | None:
    """The sitemap in a response; None, and logged, if it is too large or not a sitemap."""
    body = sitemap_body(response.body, max_size)
    if body is None:
        log.warning(
            "sitemap skipped: %s is too large (over the download limit once inflated, "
            "or more than %d tags)",
            response.url,
            MAX_SITEMAP_TAGS,
        )
        return None
    if len(response.body) < warn_size <= len(body):
        log.warning("sitemap %s inflates to %d bytes", response.url, len(body))
    try:
        return Sitemap(body)
    except Exception:  # noqa: BLE001 - a broken sitemap is skipped, not fatal
        log.info("not a sitemap: %s", response.url)
        return None


def sitemap_body(body: bytes, max_size: int) -> bytes | None:
    """A sitemap's XML: gzipped ones inflated as Scrapy's SitemapSpider does, up to max_size
    bytes (a 255 KB file can inflate to gigabytes); None if it inflates past that, or has
    more tags than a sitemap may."""
    if body[:2] == b"\x1f\x8b":
        try:
            body = gunzip(body, max_size=max_size)
        except ValueError:  # scrapy.utils.gz raises its size error as a ValueError
            return None
        except (OSError, EOFError, struct.error):
            return b""  # not gzip after all: read as an empty, broken sitemap
    return None if body.count(b"<") > MAX_SITEMAP_TAGS else body


class SitemapsPending:
    """The sitemaps and robots.txt files asked for and not yet read.

    A page waits for them (up to a limit) before it is read, so the date a sitemap gives it
    does not depend on whether a link or the sitemap reached it first.
    """

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.deadline: float | None = None
        self.asked: set[str] = set()
        self.waiting = 0
        self.lastmod: dict[str, str] = {}
        self.done = asyncio.Event()

    def ask(self, url: str) -> bool:
        """Count a request for this sitemap; False if it was asked for already."""
        if url in self.asked:
            return False
        self.asked.add(url)
        self.waiting += 1
        return True

    def answered(self) -> None:
        self.waiting -= 1
        if self.waiting <= 0:
            self.done.set()

    def start(self) -> None:
        """Every first sitemap has been asked for: from now, pages wait at most the limit."""
        self.deadline = time.monotonic() + self.limit
        if self.waiting <= 0:
            self.done.set()

    async def wait(self) -> None:
        """Until every sitemap asked for is read, or the limit has passed."""
        if self.done.is_set():
            return
        left = self.limit if self.deadline is None else self.deadline - time.monotonic()
        if left > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.done.wait(), left)
