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
   ``jsonld:lastReviewed``, ``microdata:dateModified``, ``meta:article:modified_time``,
   ``meta:dcterms.modified``, ...).
3. The sitemap's ``lastmod`` (``sitemap-lastmod``).
4. The HTTP ``Last-Modified`` header (``http-last-modified``), unless it is the server's
   time rather than the content's (level 7).
5. Any "published" date the page states (its text, ``<time>``, structured data or meta
   tags): a page never updated since it was published.
6. htmldate's guesses (``htmldate``): its extensive search for the page's original date
   (kind "published") and for its latest one (kind "updated"); the later of the two.
7. A ``Last-Modified`` judged to be the server's time: one later than every date the page
   states (``server-time:later``, decided here), or one that many pages of the site share
   within minutes (``server-time:shared``, decided after the crawl by
   audits/server_time.py): the time of a deployment or a cache fill, not of an edit.

"review-due" candidates are never chosen as the last update; ``review_due`` reports them.

The day a page was first published is its earliest "published" candidate. Where htmldate's
original date is one of the days the page states, published days earlier than it are left
out: they date other articles the page lists (related links, teasers), which the page's
markup does not tell from its own.

Dates are calendar dates (ISO ``YYYY-MM-DD``), the day a page writes: "2020-02-15T00:30
+09:00" is 15 February, the day its readers saw, not the UTC day before. The HTTP header,
always in GMT, gives its GMT day. Dates before 1995 and dates after the day of the fetch
are ignored (except review-due dates, which are normally in the future), as is a
``Last-Modified`` within 60 seconds of the fetch: dynamic pages stamp every response with
"now".
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import NamedTuple

from dateutil.parser import isoparse
from lxml import etree

from vocabulary.labels import HEADER_SOURCE, SERVER_TIME_LATER

from . import jsonld
from .date_guess import guess_dates
from .phrases import PhraseFinder
from .tree import Element, HtmlTree

UPDATED = "updated"
PUBLISHED = "published"
REVIEWED = "reviewed"
REVIEW_DUE = "review-due"

HEADER = HEADER_SOURCE
SITEMAP = "sitemap-lastmod"
HTMLDATE = "htmldate"
SERVER_TIME = "server-time:"  # SERVER_TIME_LATER, or SERVER_TIME_SHARED (server_time.py)

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


# What the page itself states: its words, and the markup it gives machines.
STATED_TEXT = ("visible-text", "time-element")
STRUCTURED = ("jsonld:", "microdata:", "meta:")
PRECEDENCE: tuple[Level, ...] = (
    Level("page text", STATED_TEXT, frozenset({UPDATED, REVIEWED})),
    Level("structured data", STRUCTURED, frozenset({UPDATED, REVIEWED})),
    Level("sitemap", (SITEMAP,), frozenset({UPDATED})),
    Level("http header", (HEADER,), frozenset({UPDATED})),
    Level("published", (*STATED_TEXT, *STRUCTURED), frozenset({PUBLISHED})),
    Level("htmldate", (HTMLDATE,), frozenset({UPDATED, PUBLISHED})),
    Level("server time", (SERVER_TIME,), frozenset({UPDATED})),
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
# schema.org microdata on elements other than <meta> (<time itemprop="datePublished">): the
# same names, matched without case as the meta tags are.
MICRODATA_NAMES = {key.lower(): key for key in JSONLD_KINDS}

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
    found += _from_microdata(page)
    found += _from_time_elements(page)
    found += _from_visible_text(page)
    found += _from_htmldate(html, fetched.date(), {c.value for c in found if _is_stated(c)})
    found = _without_other_articles(_plausible(found, fetched.date()))
    return _dedupe(_with_header_judged(found))


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


def header_instant(value: str | None) -> datetime | None:
    """A Last-Modified header's instant, in UTC; None if it is not a date."""
    if not value or len(value) > MAX_DATE_CHARS:
        return None
    try:
        return _as_utc(parsedate_to_datetime(value.strip()))  # RFC 7231 and older formats
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _from_header(value: str | None, fetched: datetime) -> list[DateCandidate]:
    stamp = header_instant(value)
    if stamp is None or abs(stamp - fetched) <= DYNAMIC_WINDOW:
        return []  # not a date, or generated on request: says nothing about the content
    return [_candidate(UPDATED, HEADER, stamp.date(), value or "")]


def _from_sitemap(value: str | None) -> list[DateCandidate]:
    day = _machine_date(value) if value else None
    return [_candidate(UPDATED, SITEMAP, day, value or "")] if day else []


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
        data = jsonld.load_json(script.text or "")
        for key, raw in jsonld.walk(data, JSONLD_KINDS):
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


def _from_microdata(page: HtmlTree) -> list[DateCandidate]:
    found = []
    budget = MAX_LABEL_CHARS  # a date in an element's text is short; a hostile one is not
    for element, name in itertools.islice(_microdata_dates(page.root), MAX_TIME_ELEMENTS):
        raw = element.get("datetime") or element.get("content")
        if raw is None:
            raw, cost = page.bounded_text(element, min(MAX_OWN_TEXT, budget))
            budget -= cost
        day = _machine_date(raw)
        if day:
            found.append(_candidate(JSONLD_KINDS[name], f"microdata:{name}", day, raw or ""))
    return found


_WITH_ITEMPROP = etree.XPath("//*[@itemprop]")


def _microdata_dates(root: Element) -> Iterator[tuple[Element, str]]:
    """(element, schema.org name) for each element but <meta> whose itemprop names a date."""
    # Only elements with an itemprop get a Python object (see KEEP_WALKED in audits/tree.py:
    # walking every element of a deep page cost it 30 s).
    for element in _WITH_ITEMPROP(root):
        if element.tag == "meta":
            continue  # <meta> is read with the tags
        names = (element.get("itemprop") or "").lower().split()
        name = next((MICRODATA_NAMES[n] for n in names if n in MICRODATA_NAMES), None)
        if name is not None:
            yield element, name


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


def _from_htmldate(html: str, fetched_day: date, stated: set[str]) -> list[DateCandidate]:
    guesses = guess_dates(html, fetched_day)
    found = []
    for kind, value in ((PUBLISHED, guesses.published), (UPDATED, guesses.updated)):
        day = _machine_date(value) if value else None
        # htmldate's last resorts, a copyright line or a year alone, come back as 1 January:
        # a year is too coarse to judge staleness by, unless the page states that very day.
        if day and (day.timetuple().tm_yday > 1 or day.isoformat() in stated):
            found.append(_candidate(kind, HTMLDATE, day, value or ""))
    return found


# --- Combining the evidence ----------------------------------------------------------------


def _without_other_articles(candidates: list[DateCandidate]) -> list[DateCandidate]:
    """Published days earlier than the one htmldate and the page agree on left out: where a
    page states several, the earlier ones date other articles it lists."""
    guess = next((c.value for c in candidates if _is_guess(c) and c.kind == PUBLISHED), None)
    stated = {c.value for c in candidates if c.kind == PUBLISHED and _is_stated(c)}
    if guess is None or guess not in stated:
        return candidates
    return [c for c in candidates if c.kind != PUBLISHED or c.value >= guess]


def _with_header_judged(candidates: list[DateCandidate]) -> list[DateCandidate]:
    """The Last-Modified as the server's time when it is later than every date the page
    states: a page dated 2019 and served as changed today was deployed today, not edited.
    htmldate's guesses do not count here: a date a page merely mentions (an event, "since
    2012") must not overturn the header alone; many pages sharing it can (server_time.py)."""
    header = next((c for c in candidates if c.source == HEADER), None)
    stated = [c.value for c in candidates if c.kind != REVIEW_DUE and _is_stated(c)]
    if header is None or not stated or header.value <= max(stated):
        return candidates
    weak = DateCandidate(header.kind, SERVER_TIME_LATER, header.value, header.evidence)
    return [weak if c is header else c for c in candidates]


def _is_stated(candidate: DateCandidate) -> bool:
    """Whether the page itself states the date: in its words or its markup."""
    return candidate.source.startswith((*STATED_TEXT, *STRUCTURED))


def _is_guess(candidate: DateCandidate) -> bool:
    return candidate.source == HTMLDATE


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
        return stamp.date()
    try:
        return parsedate_to_datetime(text).date()
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
