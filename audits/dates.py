"""Evidence of when a page was last updated, reviewed or published, each with its source.

Order of precedence
-------------------
``choose_last_updated`` trusts what the page tells its readers, and what its editors
control, over what the server guesses. It takes the first level below that has any
candidate, and within that level the latest date:

1. Visible text and ``<time>`` elements labelled "updated" or "reviewed" (sources
   ``visible-text``, ``time-element``). A review counts as an update: somebody checked
   the page.
2. Structured data and meta tags saying "updated" or "reviewed" (``jsonld:dateModified``,
   ``jsonld:lastReviewed``, ``meta:article:modified_time``, ``meta:dcterms.modified``, ...).
3. The sitemap's ``lastmod`` (``sitemap-lastmod``).
4. The HTTP ``Last-Modified`` header (``http-last-modified``).
5. Any "published" candidate, whatever its source: a page never updated since it was
   published.
6. htmldate's guess (``htmldate``), which is only looked for when nothing above was found.

"review-due" candidates are never chosen as the last update; ``review_due`` reports them.

Dates are calendar dates (ISO ``YYYY-MM-DD``). Timestamps with a UTC offset are converted
to UTC first, so the same instant gives the same date whichever source stated it. Dates
before 1995 and dates after the day of the fetch are ignored (except review-due dates,
which are normally in the future), as is a ``Last-Modified`` within 60 seconds of the
fetch: dynamic pages stamp every response with "now".
"""

from __future__ import annotations

import itertools
import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple

from dateutil.parser import isoparse

from .phrases import PhraseFinder
from .tree import Element, HtmlTree

log = logging.getLogger(__name__)

UPDATED = "updated"
PUBLISHED = "published"
REVIEWED = "reviewed"
REVIEW_DUE = "review-due"

EARLIEST = date(1995, 1, 1)  # before the web had council sites: a placeholder or a typo
DYNAMIC_WINDOW = timedelta(seconds=60)
MAX_EVIDENCE = 200
MAX_TEXT_MATCHES = 10  # labelled dates are in bylines and footers: the first few are enough
MAX_LABEL_TAIL = 40  # "Posted by the Waste Team on <time>": words allowed after a label
# Limits that keep reading a hostile page linear: every <time> looks back for its label, so
# 8,000 of them took 45 s. Ordinary pages have a few dozen <time>s, labels beside them, and
# dates a few dozen characters long.
MAX_TIME_ELEMENTS = 200
MAX_LABEL_SIBLINGS = 20  # siblings looked at for a label, at each of three levels
MAX_DATE_CHARS = 100
# Elements visited and characters read while looking for labels, over the whole page: a
# sibling's text is read whole, and a hostile page can put a long one before each <time>.
MAX_LABEL_CHARS = 500_000
MAX_OWN_TEXT = 1_000  # of a <time>'s own text (and elements in it), read for a label
SENTENCE_END = re.compile(r"[.!?](?:\s|$)")


@dataclass(frozen=True)
class DateCandidate:
    kind: str  # "updated", "published", "reviewed" or "review-due"
    source: str  # e.g. "http-last-modified", "meta:dcterms.modified", "visible-text"
    value: str  # ISO date "YYYY-MM-DD"
    evidence: str  # the raw text or attribute it came from, at most 200 characters


class Level(NamedTuple):
    """One level of precedence: candidates whose source starts with a prefix and kind fits."""

    name: str
    source_prefixes: tuple[str, ...]
    kinds: frozenset[str]


PRECEDENCE: tuple[Level, ...] = (
    Level("page text", ("visible-text", "time-element"), frozenset({UPDATED, REVIEWED})),
    Level("structured data", ("jsonld:", "meta:"), frozenset({UPDATED, REVIEWED})),
    Level("sitemap", ("sitemap-lastmod",), frozenset({UPDATED})),
    Level("http header", ("http-last-modified",), frozenset({UPDATED})),
    Level("published", ("",), frozenset({PUBLISHED})),  # "" : any source
    Level("htmldate", ("htmldate",), frozenset({UPDATED})),
)

# Meta tags matched on name, property or itemprop (lower-cased). Anything else is skipped.
META_KINDS: dict[str, str] = {
    "article:modified_time": UPDATED,
    "og:updated_time": UPDATED,
    "dcterms.modified": UPDATED,
    "dc.date.modified": UPDATED,
    "dc.modified": UPDATED,
    "last-modified": UPDATED,
    "revised": UPDATED,
    "date.modified": UPDATED,
    # schema.org microdata on <meta itemprop>: the same vocabulary as the JSON-LD below.
    "datemodified": UPDATED,
    "lastreviewed": REVIEWED,
    "article:published_time": PUBLISHED,
    "dcterms.created": PUBLISHED,
    "dcterms.issued": PUBLISHED,
    "dc.date.created": PUBLISHED,
    "dcterms.date": PUBLISHED,
    "date": PUBLISHED,
    "datepublished": PUBLISHED,
    "datecreated": PUBLISHED,
}
JSONLD_KINDS: dict[str, str] = {
    "dateModified": UPDATED,
    "datePublished": PUBLISHED,
    "dateCreated": PUBLISHED,
    "lastReviewed": REVIEWED,
}

# --- Human-written dates -------------------------------------------------------------------
# Strict on purpose: a date is a day, a month name or number and a four-digit year in one of
# these shapes, never a bare number. Numbers are read day first, as UK sites write them.

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?(?![a-z])"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})(?!\d)"
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"

DATE_PATTERNS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        rf"{_WEEKDAY}{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}",  # 12 March 2019
        rf"{_WEEKDAY}{_MONTH}\s+{_DAY},?\s+{_YEAR}",  # March 12, 2019
        rf"{_MONTH},?\s+{_YEAR}",  # March 2019: the first of the month
        # 2019-03-12, 2019/03/12: year first is never ambiguous
        r"(?P<year>\d{4})(?P<sep>[-/.])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})(?!\d)",
        r"(?P<day>\d{1,2})(?P<sep>[/.-])(?P<month>\d{1,2})(?P=sep)(?P<year>\d{4})(?!\d)",
    )
]

# Labels that put a date in a kind. Longer labels come first so "last reviewed" wins over
# "reviewed"; the date has to follow the label directly (after ":", "-" or "on").
_LABELS = {
    REVIEW_DUE: r"(?:next\s+)?review\s+due(?:\s+date)?|next\s+review(?:\s+date)?"
    r"|due\s+for\s+review(?:\s+(?:on|by))?|review\s+by",
    REVIEWED: r"(?:page\s+|content\s+)?last\s+reviewed|date\s+(?:last\s+)?reviewed|reviewed",
    UPDATED: r"(?:page\s+|content\s+)?last\s+(?:updated|modified|changed|edited)"
    r"|date\s+(?:last\s+)?(?:updated|modified)|updated|modified",
    PUBLISHED: r"(?:date\s+|first\s+)?published|date\s+(?:created|issued)|posted",
}
_GROUP = {REVIEW_DUE: "due", REVIEWED: "reviewed", UPDATED: "updated", PUBLISHED: "published"}
LABEL_PATTERN = re.compile(
    r"(?<![\w-])(?:"
    + "|".join(f"(?P<{_GROUP[kind]}>{label})" for kind, label in _LABELS.items())
    + r")(?:\s+on)?\s*[:\-\u2013\u2014]?\s*(?:on\s+)?",
    re.IGNORECASE,
)
# The words a label can start with (see _LABELS), so LABELS tries the pattern only there.
LABEL_FIRST_WORDS = (
    "content", "date", "due", "first", "last", "modified", "next", "page", "posted",
    "published", "review", "reviewed", "updated",
)  # fmt: skip
LABELS = PhraseFinder(LABEL_PATTERN, LABEL_FIRST_WORDS)


def date_candidates(
    page: HtmlTree,
    html: str,
    *,
    last_modified_header: str | None,
    sitemap_lastmod: str | None,
    fetched_at: datetime,
) -> list[DateCandidate]:
    """Every plausible date the response, sitemap and page give, deduplicated, in source order."""
    fetched = _as_utc(fetched_at)
    found: list[DateCandidate] = []
    found += _from_header(last_modified_header, fetched)
    found += _from_sitemap(sitemap_lastmod)
    found += _from_meta(page.root)
    found += _from_jsonld(page.root)
    found += _from_time_elements(page)
    found += _from_visible_text(page)
    found = _plausible(found, fetched.date())
    if not any(c.kind != REVIEW_DUE for c in found):
        # htmldate parses the page again and tries many heuristics: only worth it as a last resort.
        found += _plausible(_from_htmldate(html, fetched.date()), fetched.date())
    return _dedupe(found)


def choose_last_updated(candidates: list[DateCandidate]) -> DateCandidate | None:
    """The latest candidate of the best level of PRECEDENCE that has one, or None."""
    for level in PRECEDENCE:
        matching = [c for c in candidates if _in_level(c, level)]
        if matching:
            return max(matching, key=lambda c: c.value)  # ISO dates sort as strings
    return None


def review_due(candidates: list[DateCandidate]) -> DateCandidate | None:
    """The latest "review-due" candidate, or None."""
    due = [c for c in candidates if c.kind == REVIEW_DUE]
    return max(due, key=lambda c: c.value) if due else None


def _in_level(candidate: DateCandidate, level: Level) -> bool:
    return candidate.kind in level.kinds and candidate.source.startswith(level.source_prefixes)


# --- Sources -------------------------------------------------------------------------------


def _from_header(value: str | None, fetched: datetime) -> list[DateCandidate]:
    if not value:
        return []
    try:
        stamp = parsedate_to_datetime(value.strip())  # RFC 7231 and its obsolete formats
    except (TypeError, ValueError, IndexError):
        return []
    stamp = _as_utc(stamp)
    if abs(stamp - fetched) <= DYNAMIC_WINDOW:
        return []  # generated on request: says nothing about the content
    return [_candidate(UPDATED, "http-last-modified", stamp.date(), value)]


def _from_sitemap(value: str | None) -> list[DateCandidate]:
    day = _machine_date(value) if value else None
    return [_candidate(UPDATED, "sitemap-lastmod", day, value or "")] if day else []


def _from_meta(root: Element) -> list[DateCandidate]:
    found = []
    for tag in root.iter("meta"):
        content = _attr(tag, "content")
        if not content:
            continue
        if _attr(tag, "http-equiv").lower() == "last-modified":
            source, kind = "meta:http-equiv:last-modified", UPDATED
        else:
            names = (_attr(tag, key).strip().lower() for key in ("name", "property", "itemprop"))
            name = next((n for n in names if n in META_KINDS), None)
            if name is None:
                continue
            source, kind = f"meta:{name}", META_KINDS[name]
        day = _machine_date(content)
        if day:
            found.append(_candidate(kind, source, day, content))
    return found


def _from_jsonld(root: Element) -> list[DateCandidate]:
    found = []
    for script in root.iter("script"):
        if _attr(script, "type").split(";")[0].strip().lower() != "application/ld+json":
            continue
        data = _load_json(script.text or "")
        for key, raw in _walk_jsonld(data):
            day = _machine_date(raw)
            if day:
                found.append(_candidate(JSONLD_KINDS[key], f"jsonld:{key}", day, raw))
    return found


def _from_time_elements(page: HtmlTree) -> list[DateCandidate]:
    found = []
    dated = (tag for tag in page.root.iter("time") if tag.get("datetime") is not None)
    budget = [MAX_LABEL_CHARS]
    for tag in itertools.islice(dated, MAX_TIME_ELEMENTS):
        raw = _attr(tag, "datetime")
        kind = _label_before(page, tag, budget)
        day = _machine_date(raw) if kind else None
        if kind and day:
            found.append(_candidate(kind, "time-element", day, raw))
    return found


def _from_visible_text(page: HtmlTree) -> list[DateCandidate]:
    # text_of() leaves out <script>, <style>, <template> and comments; joining with spaces
    # lets "Last updated" in a <dt> meet the date in its <dd>.
    text = " ".join(page.text_of(page.root).split())
    found = []
    for label in LABELS.finditer(text):
        parsed = _human_date_at(text, label.end())
        if parsed is None:
            continue
        day, end = parsed
        found.append(_candidate(_label_kind(label), "visible-text", day, text[label.start() : end]))
        if len(found) >= MAX_TEXT_MATCHES:
            break
    return found


def _from_htmldate(html: str, fetched_day: date) -> list[DateCandidate]:
    # Imported here: htmldate pulls in lxml.html and urllib3, and most pages never need it.
    from htmldate import find_date

    if not html.strip():
        return []
    try:
        # Bytes, never a str: find_date downloads any str that starts with "http" and has no
        # space, so a bare-URL response body would make it go to the network.
        found = find_date(
            html.encode("utf-8"),
            original_date=False,
            outputformat="%Y-%m-%d",
            extensive_search=False,
            min_date=datetime.combine(EARLIEST, time.min),
            # Its default upper bound is the end of *today* on the local clock; use the fetch.
            max_date=datetime.combine(fetched_day, time.max),
        )
    except Exception:  # a heuristic that fails just leaves the page undated
        log.debug("htmldate failed", exc_info=True)
        return []
    day = _machine_date(found) if found else None
    return [_candidate(UPDATED, "htmldate", day, found or "")] if day else []


# --- Helpers -------------------------------------------------------------------------------


def _candidate(kind: str, source: str, day: date, evidence: str) -> DateCandidate:
    return DateCandidate(kind, source, day.isoformat(), " ".join(evidence.split())[:MAX_EVIDENCE])


def _plausible(candidates: list[DateCandidate], fetched_day: date) -> list[DateCandidate]:
    # A review-due date is normally ahead of the fetch; any other future date is a mistake.
    latest = fetched_day.isoformat()
    return [
        c
        for c in candidates
        if c.value >= EARLIEST.isoformat() and (c.kind == REVIEW_DUE or c.value <= latest)
    ]


def _dedupe(candidates: list[DateCandidate]) -> list[DateCandidate]:
    seen: set[tuple[str, str, str]] = set()
    unique = []
    for c in candidates:
        if (c.kind, c.source, c.value) not in seen:
            seen.add((c.kind, c.source, c.value))
            unique.append(c)
    return unique


def _as_utc(stamp: datetime) -> datetime:
    # Naive timestamps (HTTP "-0000", careless callers) are taken to be UTC already.
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def _attr(tag: Element, name: str) -> str:
    return tag.get(name) or ""


def _machine_date(raw: str | None) -> date | None:
    """A date from an ISO 8601 / W3C datetime, an RFC 2822 date or a plain written date."""
    text = (raw or "").strip()
    if len(text) > MAX_DATE_CHARS:
        return None  # no way of writing a date is this long
    if not text or re.fullmatch(r"\d{1,4}", text):
        return None  # a year alone is too coarse to judge staleness by
    if re.fullmatch(r"\d{9,10}", text):
        return datetime.fromtimestamp(int(text), UTC).date()  # og:updated_time may be Unix time
    try:
        stamp = isoparse(text)
    except (ValueError, OverflowError):
        pass
    else:
        return _as_utc(stamp).date() if stamp.tzinfo else stamp.date()
    try:
        return _as_utc(parsedate_to_datetime(text)).date()
    except (TypeError, ValueError, IndexError):
        pass
    parsed = _human_date_at(text, 0)
    return parsed[0] if parsed else None


def _human_date_at(text: str, pos: int) -> tuple[date, int] | None:
    """A written date starting exactly at pos, and where it ends; None if there is none."""
    for pattern in DATE_PATTERNS:
        match = pattern.match(text, pos)
        if match is None:
            continue
        fields = match.groupdict()
        month = fields["month"].lower().rstrip(".")
        try:
            day = date(
                int(fields["year"]),
                MONTHS[month] if month in MONTHS else int(month),
                int(fields.get("day") or 1),
            )
        except ValueError:
            return None  # 31/02/2019 and friends: a malformed date, not another shape
        return day, match.end()
    return None


def _label_kind(match: re.Match[str]) -> str:
    return next(kind for kind, group in _GROUP.items() if match.group(group))


class _OverBudget(Exception):
    """The page's budget for reading labels is spent."""


def _label_before(page: HtmlTree, tag: Element, budget: list[int]) -> str | None:
    """The kind named by a label in or just before a <time>, e.g. "Last updated: <time>".

    budget holds what is left of the page's budget for reading labels (elements visited
    and characters read); it is spent here, and once it is gone no more labels are read.
    """

    def read(element: Element) -> str:
        text, cost = page.bounded_text(element, budget[0])
        budget[0] -= cost
        if text is None:
            raise _OverBudget
        return text

    try:
        # A <time> holds a few words; nested ones could each hold the rest of the page.
        own_text, cost = page.bounded_text(tag, min(MAX_OWN_TEXT, budget[0]))
        budget[0] -= cost
        own = LABEL_PATTERN.search(" ".join(own_text.split())) if own_text else None
        if own:
            return _label_kind(own)
        node = tag
        for _ in range(3):  # the label may be beside an ancestor, e.g. a <dt> before the <dd>
            text = _nearest_text_before(page, node, read)
            if text:
                return _label_ending(text)
            parent = node.getparent()
            if parent is None:
                break
            node = parent
    except _OverBudget:
        pass
    return None


def _nearest_text_before(page: HtmlTree, node: Element, read: Callable[[Element], str]) -> str:
    # Each sibling gives its tail and itself: two strings.
    strings = page.strings_before(node, read)
    for text in itertools.islice(strings, 2 * MAX_LABEL_SIBLINGS + 1):
        if text.strip():
            return " ".join(text.split())
    return ""


def _label_ending(text: str) -> str | None:
    """The kind of the last label in text if it introduces what follows the text.

    "Posted by the Waste Team on" introduces the date after it; "We updated the policy. The
    meeting is on" does not: a sentence ended between the label and the date.
    """
    tail = text[-MAX_LABEL_TAIL * 2 :]
    labels = list(LABEL_PATTERN.finditer(tail))
    if not labels:
        return None
    rest = tail[labels[-1].end() :]
    if len(rest) > MAX_LABEL_TAIL or SENTENCE_END.search(rest):
        return None
    return _label_kind(labels[-1])


def _load_json(text: str) -> Any:
    cleaned = _without_comment_markers(text)
    try:
        return json.loads(cleaned, strict=False)
    except (ValueError, RecursionError):
        return None


_OPENERS = ("<!--", "<![CDATA[")
_CLOSERS = ("-->", "]]>")


def _without_comment_markers(text: str) -> str:
    """JSON-LD without the HTML comment or CDATA markers some CMSs wrap it in ("// <!--").

    String methods, not a pattern: one with two runs of optional space (\\s*(?://)?\\s*)
    tries every split of a run of spaces, at every start (20,000 spaces took 5 s).
    """
    rest = text.lstrip()
    after_slashes = rest[2:].lstrip() if rest.startswith("//") else rest
    opener = next((o for o in _OPENERS if after_slashes.startswith(o)), None)
    if opener is not None:
        rest = after_slashes[len(opener) :]
    body = rest.rstrip()
    closer = next((c for c in _CLOSERS if body.endswith(c)), None)
    if closer is None:
        return rest
    body = body[: -len(closer)].rstrip()
    return body[:-2] if body.endswith("//") else body


def _walk_jsonld(data: Any) -> Iterator[tuple[str, str]]:
    """(key, raw value) for every date property anywhere in a JSON-LD document."""
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, dict):
            for key, value in node.items():
                name = key.rsplit("/", 1)[-1].rsplit(":", 1)[-1]  # "schema:dateModified"
                if name in JSONLD_KINDS:
                    yield from ((name, raw) for raw in _jsonld_strings(value))
                elif isinstance(value, dict | list):
                    stack.append(value)


def _jsonld_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict) and isinstance(value.get("@value"), str):
        yield value["@value"]  # {"@value": "2019-03-12", "@type": "Date"}
    elif isinstance(value, list):
        for item in value:
            yield from _jsonld_strings(item)
