"""htmldate's extensive search within a budget: a page cannot make it parse dates for minutes."""

from __future__ import annotations

import time
from datetime import date

import htmldate.extractors
import htmldate.utils
import lxml.html

from audits.date_guess import (
    MAX_SLOW_PARSES,
    BoundedParser,
    Guesses,
    bounded_parser,
    guess_dates,
)
from audits.page import parse_page

FETCHED = date(2026, 12, 2)


def slow_strings_page(count: int) -> str:
    """Strings that pass every cheap test htmldate makes and go to dateparser, each in a
    word it has to look up in every language (20,000 of them took more than ten minutes)."""
    paragraphs = "".join(
        f"<p>{i % 28 + 1} Márz{i % 7} {1996 + i % 29} zz{i}</p>" for i in range(count)
    )
    return f"<!doctype html><html><head><title>Dates</title></head><body>{paragraphs}</body></html>"


def test_htmldate_asks_siteaudits_parser() -> None:
    bounded_parser()
    assert isinstance(htmldate.extractors.get_external_parser(), BoundedParser)


def test_a_page_of_slow_strings_spends_its_budget_and_gets_the_fast_search() -> None:
    parser = bounded_parser()
    calls: list[str] = []
    real = parser.parser_of

    class Counting:
        def get_date_data(self, text: str) -> object:
            calls.append(text)
            return real().get_date_data(text)

    parser.parser_of = Counting
    try:
        started = time.perf_counter()
        guesses = guess_dates(slow_strings_page(2_000), FETCHED, parses=5, seconds=60)
        elapsed = time.perf_counter() - started
    finally:
        parser.parser_of = real
    assert guesses.spent
    assert len(calls) == 5  # then refused: the rest of the page was not sent to dateparser
    assert elapsed < 60  # far from the minutes of a page read without the budget


def test_the_default_budget_bounds_a_hostile_page_read_whole() -> None:
    started = time.perf_counter()
    facts = parse_page(slow_strings_page(20_000))
    # More than ten minutes without the budget; about a second on an idle machine.
    assert time.perf_counter() - started < 60
    assert facts.readability.word_count > 0


def test_the_budget_is_only_for_the_page_being_read() -> None:
    parser = bounded_parser()
    assert parser.budget.parses is None  # outside a guess nothing is refused
    byline = "<html><body><article><p>By the Waste Team, 12 March 2019</p></article></body></html>"
    assert guess_dates(byline, FETCHED) == Guesses("2019-03-12", "2019-03-12", spent=False)
    assert parser.budget.parses is None
    assert MAX_SLOW_PARSES >= 6  # the most any page of htmldate's evaluation set needs


FORM_PAGE = """<!doctype html><html><head><title>Bins</title></head><body>
<form action="/search"><label for="q">Search</label><input id="q" name="q">
<select name="s"><option>All</option></select><textarea name="t"></textarea></form>
<main><article><h1>Bin collections</h1>
<p class="byline">Published 4 May 2020</p><p>Text.</p>
<div class="updated">Last updated: 12 March 2021</div></article></main></body></html>"""


def test_htmldate_finds_the_same_days_with_one_element_class_for_all() -> None:
    """htmldate's parser gives every element HtmlElement, not a form's FormElement and so
    on (chosen in C, not through Python for each element): the days it finds are the same
    as with lxml.html's own classes, a form's elements and the page parsed once for both
    searches included."""
    guessed = guess_dates(FORM_PAGE, FETCHED)
    tree = htmldate.utils.load_html(FORM_PAGE.encode())
    assert {type(element).__name__ for element in tree.iter("form", "input", "p")} == {
        "HtmlElement"
    }
    own_classes = lxml.html.HTMLParser(
        collect_ids=False, default_doctype=False, encoding="utf-8", remove_pis=True
    )
    page = lxml.html.fromstring(FORM_PAGE.encode(), parser=own_classes)
    assert type(page.find(".//form")).__name__ == "FormElement"
    with_own_classes = [
        htmldate.find_date(
            page,
            original_date=original,
            outputformat="%Y-%m-%d",
            extensive_search=True,
            max_date="2026-12-02",
        )
        for original in (True, False)
    ]
    assert [guessed.published, guessed.updated] == with_own_classes
    assert guessed.published == "2020-05-04"
