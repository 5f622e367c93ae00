"""The scan's counts, kept in Scrapy's stats collector under siteaudit/, and read back at once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

# URLs the crawl met: queued, fetched (any status), and the rest.
FOUND = "siteaudit/urls/found"
FETCHED = "siteaudit/urls/fetched"
FETCH_FAILED = "siteaudit/urls/fetch_failed"
HTTP_ERRORS = "siteaudit/urls/http_error"
DISALLOWED = "siteaudit/urls/disallowed_by_robots"
SKIPPED_OVER_LIMIT = "siteaudit/urls/over_max_pages"
SKIPPED_TRAPS = "siteaudit/urls/trap"
# Pages stored, audited in the browser or not, and (a gauge) in the browsers now.
PAGES = "siteaudit/pages/stored"
AUDITED = "siteaudit/pages/audited"
AUDIT_FAILED = "siteaudit/pages/audit_failed"
REUSED = "siteaudit/pages/audit_reused"
# Pages the server said were unchanged (304 Not Modified): not downloaded again.
NOT_MODIFIED = "siteaudit/pages/not_modified"
IN_BROWSER = "siteaudit/pages/in_browser"
# External links checked, and those left unchecked by links.max_external (a scan) and
# links.max_external_per_host (on how many hosts).
EXTERNAL_CHECKED = "siteaudit/external/checked"
EXTERNAL_OVER_SCAN_CAP = "siteaudit/external/over_scan_cap"
EXTERNAL_OVER_HOST_CAP = "siteaudit/external/over_host_cap"
EXTERNAL_CAPPED_HOSTS = "siteaudit/external/capped_hosts"


@dataclass(frozen=True)
class Counters:
    """The siteaudit/ stats at one moment; read by the progress display and the summary."""

    found: int = 0
    fetched: int = 0
    fetch_failed: int = 0
    http_errors: int = 0
    disallowed: int = 0
    pages: int = 0
    audited: int = 0
    audit_failed: int = 0
    reused: int = 0
    not_modified: int = 0
    in_browser: int = 0
    skipped_over_limit: int = 0
    skipped_traps: int = 0
    external_checked: int = 0
    external_over_scan_cap: int = 0
    external_over_host_cap: int = 0
    external_capped_hosts: int = 0
    # Seconds since the crawl started.
    elapsed: float = 0.0

    @classmethod
    def from_stats(cls, stats: Mapping[str, Any]) -> Counters:
        """Counters from a stats dict; safe to call from another thread while it changes."""
        counts = {f.name: stats.get(STAT_OF[f.name], 0) for f in fields(cls) if f.name in STAT_OF}
        started = stats.get("start_time")  # set by Scrapy's CoreStats when the crawl opens
        elapsed = (datetime.now(UTC) - started).total_seconds() if started else 0.0
        return cls(**counts, elapsed=elapsed)

    def rate_per_minute(self) -> float:
        return self.pages * 60 / self.elapsed if self.elapsed > 0 else 0.0

    def eta_seconds(self) -> float | None:
        """Time left at the current rate, for the pages found and not yet done."""
        rate = self.rate_per_minute() / 60
        done = self.fetched + self.fetch_failed + self.disallowed - self.in_browser
        left = self.found - done
        return left / rate if rate > 0 and left > 0 else None


# Counters field -> its stat.
STAT_OF = {
    "found": FOUND,
    "fetched": FETCHED,
    "fetch_failed": FETCH_FAILED,
    "http_errors": HTTP_ERRORS,
    "disallowed": DISALLOWED,
    "pages": PAGES,
    "audited": AUDITED,
    "audit_failed": AUDIT_FAILED,
    "reused": REUSED,
    "not_modified": NOT_MODIFIED,
    "in_browser": IN_BROWSER,
    "skipped_over_limit": SKIPPED_OVER_LIMIT,
    "skipped_traps": SKIPPED_TRAPS,
    "external_checked": EXTERNAL_CHECKED,
    "external_over_scan_cap": EXTERNAL_OVER_SCAN_CAP,
    "external_over_host_cap": EXTERNAL_OVER_HOST_CAP,
    "external_capped_hosts": EXTERNAL_CAPPED_HOSTS,
}
