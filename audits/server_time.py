"""Whose time a Last-Modified header is: the content's, or the server's (a deploy, a cache fill).

A static site copied onto its server in one go, or a cache filled in one sweep, gives every
page the same Last-Modified within a few minutes, whatever the pages say about themselves:
157 pages of a real GOV.UK Frontend site, dated 2018 to 2025, all said "today". Editors do
not change that many pages within minutes of each other. So a header that at least
SHARED_MIN_PAGES pages, and SHARED_MIN_SHARE of the pages with a header, share within
SHARED_WINDOW of it is the server's time: it ranks below everything the page gives
(audits/dates.py, level 7 of its precedence). This can only be judged across pages, so it
is judged once the crawl ends (app/after_crawl.py), before staleness and scores.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from audits.dates import DateCandidate, choose_last_updated, header_instant, review_due
from vocabulary.labels import SERVER_TIME_SHARED

SHARED_WINDOW = timedelta(minutes=10)
SHARED_MIN_PAGES = 3
SHARED_MIN_SHARE = 0.1


def shared_header_pages(headers: Mapping[str, str]) -> set[str]:
    """The pages (keys) whose Last-Modified (values) many pages share within SHARED_WINDOW."""
    stamps = sorted((stamp, url) for url, raw in headers.items() if (stamp := header_instant(raw)))
    needed = max(SHARED_MIN_PAGES, math.ceil(SHARED_MIN_SHARE * len(stamps)))
    shared: set[str] = set()
    first = last = 0  # the pages within the window either side of page i: [first, last)
    for stamp, url in stamps:
        while stamps[first][0] < stamp - SHARED_WINDOW:
            first += 1
        while last < len(stamps) and stamps[last][0] <= stamp + SHARED_WINDOW:
            last += 1
        if last - first >= needed:
            shared.add(url)
    return shared


@dataclass(frozen=True)
class Redated:
    """A page's dates once its header is taken as the server's time."""

    candidates: list[DateCandidate]
    last_updated: DateCandidate | None
    review_due: DateCandidate | None


def as_server_time(candidates: list[DateCandidate], header_source: str) -> Redated:
    """The page's candidates with its header (of source header_source) as the server's shared
    time, and the last update chosen again from them."""
    changed = [
        DateCandidate(c.kind, SERVER_TIME_SHARED, c.value, c.evidence)
        if c.source == header_source
        else c
        for c in candidates
    ]
    return Redated(changed, choose_last_updated(changed), review_due(changed))
