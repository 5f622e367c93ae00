"""What a crawl limits across the whole scan, kept in Redis for every worker: the crawler-trap
detector's chains, and the external link checks' de-duplication and caps."""

from __future__ import annotations

from typing import Any

import redis
from scrapy.crawler import Crawler

from crawler.distributed import ScanKeys
from crawler.link_checks import ExternalLinkChecks
from crawler.stats import (
    EXTERNAL_CAPPED_HOSTS,
    EXTERNAL_CHECKED,
    EXTERNAL_OVER_HOST_CAP,
    EXTERNAL_OVER_SCAN_CAP,
)
from settings.model import LinksConfig


class SharedShapeRuns:
    """TrapDetector's shape_runs (url -> pages of its shape leading to it), for every worker:
    a page's links may be followed by any worker. Only runs above 1 are kept (1 is what a
    URL missing from it counts as)."""

    def __init__(self, client: redis.Redis, keys: ScanKeys) -> None:
        self.client, self.key = client, keys.key("shape_runs")

    def get(self, url: str, default: int) -> int:
        value = self.client.hget(self.key, url)
        return int(value) if value is not None else default

    def __setitem__(self, url: str, run: int) -> None:
        if run > 1:
            self.client.hset(self.key, url, run)


# One more external link to check, if the scan's caps allow: links.max_external for the
# scan, links.max_external_per_host for the host; as ExternalLinkChecks.within_caps does.
# Returns 1 to check, 0 over the scan's cap, -1 over the host's, -2 the host's just reached.
WITHIN_CAPS = """
if tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[2]) then return 0 end
local checked, cap = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0'), tonumber(ARGV[3])
if checked >= cap then
  if checked == cap then
    redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
    return -2
  end
  return -1
end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('INCR', KEYS[2])
return 1
"""
CHECK, OVER_SCAN_CAP, OVER_HOST_CAP, HOST_CAP_REACHED = 1, 0, -1, -2


class SharedExternalLinkChecks(ExternalLinkChecks):
    """ExternalLinkChecks whose links checked and caps hold for the scan as a whole: a link
    is checked once by one worker, and links.max_external counts every worker's checks.
    Each worker counts its own in its stats (the scan's summary adds them up)."""

    def __init__(
        self, links: LinksConfig, crawler: Crawler, client: redis.Redis, keys: ScanKeys
    ) -> None:
        super().__init__(links, crawler)
        self.client = client
        self.seen_key = keys.key("external")
        self.caps_keys = [keys.key("external_hosts"), keys.key("external_checked")]

    def first_check(self, url: str) -> bool:
        return bool(self.client.sadd(self.seen_key, url))

    def within_caps(self, host: str) -> bool:
        args = (host, self.links.max_external, self.links.max_external_per_host)
        found = int(self.client.eval(WITHIN_CAPS, 2, *self.caps_keys, *args))
        stats: Any = self.crawler.stats
        if found == CHECK:
            stats.inc_value(EXTERNAL_CHECKED)
        elif found == OVER_SCAN_CAP:
            stats.inc_value(EXTERNAL_OVER_SCAN_CAP)
        else:
            stats.inc_value(EXTERNAL_OVER_HOST_CAP)
            if found == HOST_CAP_REACHED:
                stats.inc_value(EXTERNAL_CAPPED_HOSTS)
        return found == CHECK
