"""A shared scan whose Redis state was lost, published again from what the database holds:
its stored pages are done, the links they lead to not yet done are its frontier, and its
off-site links not yet checked are checked, as store/resume.py gives a one-machine --resume
(docs/scaling.md, "When Redis was lost")."""

from __future__ import annotations

import json
import zlib
from typing import Any

import redis

from crawler.distributed import ScanKeys
from store.pages import page_count
from store.resume import done_urls, frontier, unchecked_links

# Done URLs put in the shared seen hash per command.
SEEN_BATCH = 1000


def share_stored(
    client: redis.Redis, keys: ScanKeys, db: Any, scan_id: int, max_depth: int
) -> dict[str, int]:
    """Put the scan's done URLs in its shared seen hash (marked done), its frontier where the
    seeding worker reads it, and its stored pages in its counts; the state fields saying how
    many (for publish_scan)."""
    done = done_urls(db, scan_id)
    found = frontier(db, scan_id, done, max_depth)
    unchecked = unchecked_links(db, scan_id)
    stored = page_count(db, scan_id)
    pipe = client.pipeline(transaction=False)
    urls = sorted(done)
    for start in range(0, len(urls), SEEN_BATCH):
        pipe.hset(keys.key("seen"), mapping=dict.fromkeys(urls[start : start + SEEN_BATCH], "d"))
    resumed = {"pages": found, "links": unchecked}
    pipe.set(keys.key("frontier"), zlib.compress(json.dumps(resumed).encode()))
    pipe.hset(keys.key("stats"), "pages", stored)
    pipe.execute()
    return {"resumed_done": len(done), "resumed_frontier": len(found), "resumed_pages": stored}


def stored_frontier(
    client: redis.Redis, keys: ScanKeys
) -> tuple[list[tuple[str, int, str]], list[str]]:
    """What share_stored kept (nothing for a scan seeded afresh): the pages still to crawl,
    (url, depth, linking page), and the off-site links still to check."""
    raw = client.get(keys.key("frontier"))
    if raw is None:
        return [], []
    resumed = json.loads(zlib.decompress(raw))
    pages = [(url, int(depth), source) for url, depth, source in resumed["pages"]]
    return pages, list(resumed["links"])
