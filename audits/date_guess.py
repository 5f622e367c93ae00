"""htmldate's guesses at when a page was first published and last changed, within a budget.

htmldate's extensive search reads the whole page: its markup, its free text and, for text
that looks like a date in any language, the dateparser library. That last step is slow
(a millisecond a string, up to a second for a language's first string) and a page chooses
how many such strings it holds: 20,000 of them took htmldate more than ten minutes. So each
page gets a budget of slow parses (MAX_SLOW_PARSES, MAX_SLOW_SECONDS); a page that spends
it gets htmldate's fast search instead, which never calls dateparser. Real pages need at
most a handful (6 on htmldate's own evaluation set of 1,000 news pages).

The bounds the rest of a page's reading has hold here too: it runs in the page reader's
worker within the page's time budget (crawler/page_reader.py), only on pages small enough
to hold as a tree (audit.max_elements), and its parse of the page (one, for both searches)
is freed when it returns. What it keeps between pages is bounded: its cache of parsed date
strings (8,192 entries of at most 52 characters) and dateparser's language data, loaded a
language at a time as pages need them.

The budget is kept by standing in for the dateparser parser htmldate asks for
(``htmldate.extractors.get_external_parser``, htmldate 1.11): tests/test_date_guess.py
checks that a hostile page meets it, so an htmldate that stopped asking would be noticed.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as clock
from typing import Any

log = logging.getLogger(__name__)

MAX_SLOW_PARSES = 20
MAX_SLOW_SECONDS = 2.0
EARLIEST = date(1995, 1, 1)


class SlowParsesSpent(Exception):
    """The page's budget of slow date parses is spent."""


class _Budget(threading.local):
    """What is left of the page being read's budget; None outside a guess (no limit)."""

    parses: int | None = None
    deadline: float = 0.0


class BoundedParser:
    """dateparser's parser as htmldate's extensive search calls it, refusing once the page's
    budget is spent. Made once per process, in place of htmldate's own."""

    def __init__(self, parser_of: Any) -> None:
        self.parser_of = parser_of  # htmldate's own get_external_parser: made on first use
        self.budget = _Budget()

    def start(self, parses: int, seconds: float) -> None:
        self.budget.parses, self.budget.deadline = parses, time.monotonic() + seconds

    def stop(self) -> None:
        self.budget.parses = None

    def get_date_data(self, text: str) -> Any:
        left = self.budget.parses
        if left is not None:
            if left <= 0 or time.monotonic() > self.budget.deadline:
                raise SlowParsesSpent
            self.budget.parses = left - 1
        return self.parser_of().get_date_data(text)


_PARSER: BoundedParser | None = None


def bounded_parser() -> BoundedParser:
    """The process's BoundedParser, put in htmldate's place the first time it is asked for."""
    global _PARSER
    if _PARSER is None:
        from htmldate import extractors

        _PARSER = BoundedParser(extractors.get_external_parser)
        extractors.get_external_parser = lambda: _PARSER
    return _PARSER


def warm() -> None:
    """Load dateparser and its month names now (a worker fork then starts with them)."""
    from htmldate import extractors

    bounded_parser().parser_of()
    extractors.month_words()
    plain_element_classes()


@functools.cache  # once a process: the lookup stays set on htmldate's parser
def plain_element_classes() -> None:
    """Make htmldate's parser give every element lxml.html's HtmlElement, chosen in C.

    lxml.html's parser picks each element's class (a form's FormElement, an input's
    InputElement...) by calling back into Python for every element object it makes, and
    htmldate's walks make one for every element of the page: about a third of its time.
    htmldate uses none of those classes' own methods, only HtmlElement's (text_content,
    drop_tree, xpath), so the same parse with one class for all finds the same dates.
    """
    from htmldate import utils
    from lxml import etree
    from lxml import html as lxml_html

    classes = etree.ElementDefaultClassLookup(
        element=lxml_html.HtmlElement,
        comment=lxml_html.HtmlComment,
        pi=lxml_html.HtmlProcessingInstruction,
        entity=lxml_html.HtmlEntity,
    )
    utils.HTML_PARSER.set_element_class_lookup(classes)


@dataclass(frozen=True)
class Guesses:
    """htmldate's days, ISO dates or None: the first publication and the last change."""

    published: str | None = None
    updated: str | None = None
    spent: bool = False  # the slow parses ran out: the fast search's days


def guess_dates(
    html: str,
    fetched_day: date,
    parses: int = MAX_SLOW_PARSES,
    seconds: float = MAX_SLOW_SECONDS,
) -> Guesses:
    """htmldate's extensive search for the page's original date and its latest one."""
    if not html.strip():
        return Guesses()
    tree = _page_tree(html.encode("utf-8"))
    if tree is None:
        return Guesses()  # htmldate reads no page there: both its searches give None
    parser = bounded_parser()
    parser.start(parses, seconds)
    try:
        published, spent_first = _guess(tree, fetched_day, original=True)
        updated, spent_second = _guess(tree, fetched_day, original=False)
    finally:
        parser.stop()
    return Guesses(published, updated, spent_first or spent_second)


def _page_tree(data: bytes) -> Any:
    """htmldate's own parse of the page (its load_html), made once for its searches.

    Bytes, never a str: load_html downloads any str that starts with "http" and has no
    space, so a bare-URL response body would make it go to the network. Given a tree,
    find_date prunes a copy of it (lxml's, a tenth of a parse), so each search sees the
    page as parsed, as when each parsed the page itself.
    """
    # Imported here: htmldate pulls in lxml.html and urllib3, and many runs never need it.
    from htmldate.utils import load_html

    plain_element_classes()
    try:
        return load_html(data)
    except Exception:  # as find_date failing on it: the page is left without guesses
        log.debug("htmldate could not parse the page", exc_info=True)
        return None


def _guess(tree: Any, fetched_day: date, original: bool) -> tuple[str | None, bool]:
    """A day from the extensive search, else from the fast one once the budget is spent."""
    try:
        return _find_date(tree, fetched_day, original, extensive=True), False
    except SlowParsesSpent:
        log.debug("htmldate's slow parses ran out: its fast search instead")
    try:
        return _find_date(tree, fetched_day, original, extensive=False), True
    except SlowParsesSpent:
        return None, True


def _find_date(tree: Any, fetched_day: date, original: bool, extensive: bool) -> str | None:
    from htmldate import find_date

    try:
        found = find_date(
            tree,
            original_date=original,
            outputformat="%Y-%m-%d",
            extensive_search=extensive,
            min_date=datetime.combine(EARLIEST, clock.min),
            # Its default upper bound is the end of *today* on the local clock; use the fetch.
            max_date=datetime.combine(fetched_day, clock.max),
        )
    except SlowParsesSpent:
        raise
    except Exception:  # a heuristic that fails just leaves the page without its guess
        log.debug("htmldate failed", exc_info=True)
        return None
    return found
