"""Off-site links, each checked once per scan by its status alone, within the caps."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.items import Fetch
from crawler.reasons import describe_failure, reason_for_failure
from crawler.stats import (
    EXTERNAL_CAPPED_HOSTS,
    EXTERNAL_CHECKED,
    EXTERNAL_OVER_HOST_CAP,
    EXTERNAL_OVER_SCAN_CAP,
)
from settings.model import LinksConfig
from vocabulary.urls import media_type, scheme_of

log = logging.getLogger(__name__)

# Statuses of servers that refuse HEAD: the link is checked again with GET.
HEAD_REFUSED = (403, 405, 501)


class ExternalLinkChecks:
    """Requests that check a link to another site, and the fetch rows they end as.

    One page must not direct thousands of requests at another site: links.max_external
    caps the checks of a scan, links.max_external_per_host those on any one host.
    """

    def __init__(self, links: LinksConfig, crawler: Crawler) -> None:
        self.links, self.crawler = links, crawler
        self.seen: set[str] = set()
        # host -> external links checked on it.
        self.per_host: dict[str, int] = {}
        # What answers a check: these methods, unless a crawl shared through Redis names the
        # spider's own (its requests are stored with their callbacks by name).
        self.callback: Any = self.parse
        self.errback: Any = self.failed

    def requests(
        self, url: str, method: str = "HEAD", kind: str = "external"
    ) -> Iterator[scrapy.Request]:
        """Check an off-site link once per scan: its status only, never its content. Kind
        "link" is a link to this site that the crawl does not follow (the spider de-duplicates
        those, and the crawl's own limits bound them)."""
        host = urlsplit(url).hostname or ""
        external = kind == "external"
        first_ask = external and method == "HEAD"  # not a GET after a refused HEAD
        if first_ask and not (
            self.should_check(url, host) and self.first_check(url) and self.within_caps(host)
        ):
            return
        # A single request to see a link works is not crawling: robots.txt does not apply
        # to another site's; this site's is obeyed, as by the crawl.
        meta = {
            "kind": kind,
            "allow_offsite": True,
            "dont_obey_robotstxt": external,
            "handle_httpstatus_all": True,
            "download_timeout": self.links.timeout,
            "max_retry_times": 1,  # another site's link: one retry is polite enough
            "link": url,
        }
        yield scrapy.Request(
            url,
            method=method,
            callback=self.callback,
            errback=self.errback,
            meta=meta,
            dont_filter=True,
            priority=-10,
        )

    def should_check(self, url: str, host: str) -> bool:
        return (
            self.links.check_external
            and scheme_of(url) in ("http", "https")
            and self.links.should_check(host)
        )

    def first_check(self, url: str) -> bool:
        """True the first time a link is to be checked in the scan, and only then."""
        if url in self.seen:
            return False
        self.seen.add(url)
        return True

    def within_caps(self, host: str) -> bool:
        """Count one more link to check, if the caps allow."""
        links, per_host = self.links, self.per_host
        if self.crawler.stats.get_value(EXTERNAL_CHECKED, 0) >= links.max_external:
            self.crawler.stats.inc_value(EXTERNAL_OVER_SCAN_CAP)
            return False
        if per_host.get(host, 0) >= links.max_external_per_host:
            self.crawler.stats.inc_value(EXTERNAL_OVER_HOST_CAP)
            if per_host[host] == links.max_external_per_host:
                self.crawler.stats.inc_value(EXTERNAL_CAPPED_HOSTS)
                per_host[host] += 1  # counted once as a capped host
            return False
        per_host[host] = per_host.get(host, 0) + 1
        self.crawler.stats.inc_value(EXTERNAL_CHECKED)
        return True

    def parse(self, response: Response) -> Iterator[Any]:
        link = response.meta["link"]
        kind = response.meta["kind"]
        if response.request.method == "HEAD" and response.status in HEAD_REFUSED:
            yield from self.requests(link, method="GET", kind=kind)
            return
        content_type = response.headers.get("Content-Type", b"").decode("latin-1")
        yield Fetch(link, response.url, response.status, media_type(content_type), kind)

    def failed(self, failure: Failure) -> Iterator[Fetch]:
        request = failure.request  # type: ignore[attr-defined]
        if reason_for_failure(failure) == "private-network":
            # Not checked, as for hosts that links.allow leaves out: not a broken link.
            log.info("not checked: %s", failure.value)
            return
        error = describe_failure(failure)
        kind = request.meta["kind"]
        yield Fetch(request.meta["link"], request.url, None, None, kind, error=error)
