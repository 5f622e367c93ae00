"""Crawler traps: endless calendars, absurdly deep or repeating paths, and logout links."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

# No council page sits this deep, or repeats a folder this often.
MAX_PATH_SEGMENTS = 15
MAX_SEGMENT_REPEATS = 3
LOGOUT = re.compile(r"(log|sign)[-_]?(out|off)", re.IGNORECASE)
DIGITS = re.compile(r"\d+")


def is_logout(url: str) -> bool:
    """True for a logout link: following it would end a staging session."""
    return LOGOUT.search(urlsplit(url).path) is not None


def url_shape(url: str) -> str:
    """A URL with its digits and query values taken out: /calendar/#/#?month."""
    parts = urlsplit(url)
    keys = sorted(k for k, _ in parse_qsl(parts.query, keep_blank_values=True))
    return DIGITS.sub("#", parts.path) + "?" + "&".join(keys)


def is_deep_or_repeating(url: str) -> bool:
    segments = [s for s in urlsplit(url).path.split("/") if s]
    return len(segments) > MAX_PATH_SEGMENTS or any(
        segments.count(s) > MAX_SEGMENT_REPEATS for s in segments
    )


class TrapDetector:
    """Tells a crawler trap from a site's ordinary pages, link by link.

    A trap is a chain of pages of one shape (digits and query values aside), each linking
    the next, like /calendar/2026/11 -> /calendar/2026/12 -> ...; thousands of planning
    applications of one shape linked from an index are not. Absurdly deep or repeating
    paths are traps too.
    """

    def __init__(self, max_shape_chain: int) -> None:
        self.max_shape_chain = max_shape_chain
        # url -> how many pages of its shape lead to it, each linking the next.
        self.shape_runs: dict[str, int] = {}

    def is_trap(self, url: str, source: str | None) -> bool:
        if is_deep_or_repeating(url):
            return True
        run = 1
        if source is not None and url_shape(source) == url_shape(url):
            run = self.shape_runs.get(source, 1) + 1
        self.shape_runs[url] = run
        return run > self.max_shape_chain
