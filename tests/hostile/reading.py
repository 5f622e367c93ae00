"""Pages that are slow to read: patterns that backtrack, label searches that repeat, deep trees.

Each of these froze the scan's reactor thread on the old code (times measured there): the
readability word pattern on commas after a word (200 KB: about 25 minutes), the JSON-LD
clean-up on spaces (50,000: about 30 s), the label search on 8,000 empty <time>s (45 s),
reading text through an XPath in a deep page (50 s), walking 20,000 nested <time>s (74 s),
and more found while fixing those.
`/reading/slow/` links to a page that is simply big (linear, but seconds to read) for the
tests of the time budget; it is not in INDEX, so a crawl of the whole site does not meet it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from urllib.parse import SplitResult

from tests.hostile import HTML, Handler, HostileHandler, link_list, page, send_page

DATED_TIME = '<time datetime="2020-01-01"></time>'


def _commas() -> str:
    return page("Commas", "<p>word " + "," * 200_000 + "</p>")


def _jsonld_spaces() -> str:
    script = '<script type="application/ld+json">{"a": 1}' + " " * 50_000 + "x</script>\n"
    return page("JSON-LD spaces", "<p>Structured data.</p>", head=script)


def _empty_times() -> str:
    return page("Empty times", "<p>Updated</p>" + DATED_TIME * 8_000)


def _deep_text() -> str:
    return page("Deep text", "<div>" * 3_000 + "<b>x</b>" * 8_000 + "<script></script>")


def _deep_links() -> str:
    return page("Deep links", "<div>" * 1_000 + '<a href="#x">x<script></script></a>' * 8_000)


def _deep_scripts() -> str:
    return page("Deep scripts", "<div>" * 1_900 + "<script></script>" * 20_000)


def _nested_times() -> str:
    return page("Nested times", "<p>Updated</p>" + DATED_TIME[:-7] * 8_000 + "x" * 100_000)


def _deep_times() -> str:
    # Each <time> holds all the others: reading its text walked 40,000 elements, and lxml
    # climbs the whole depth whenever it lets go of one (74 s).
    return page("Deep times", "<p>Updated</p>" + ("<div>" + DATED_TIME[:-7]) * 20_000 + "x")


def _long_word() -> str:
    return page("A long word", "<p>" + "a" * 1_000_000 + "</p>")


def _long_label() -> str:
    # Each <time> looks back past the others to the long paragraph, and reads all of it.
    return page("A long label", "<p>Updated " + "word " * 40_000 + "</p>" + DATED_TIME * 8_000)


def _big() -> str:
    # Nothing hostile, just big: about 6 MB of ordinary paragraphs, seconds to read.
    return page("A big page", "<p>Council tax bands and payments.</p>\n" * 150_000)


PAGES: dict[str, Callable[[], str]] = {
    "/reading/commas.html": _commas,
    "/reading/jsonld-spaces.html": _jsonld_spaces,
    "/reading/empty-times.html": _empty_times,
    "/reading/deep-text.html": _deep_text,
    "/reading/deep-links.html": _deep_links,
    "/reading/deep-scripts.html": _deep_scripts,
    "/reading/nested-times.html": _nested_times,
    "/reading/deep-times.html": _deep_times,
    "/reading/long-word.html": _long_word,
    "/reading/long-label.html": _long_label,
}
BIG = "/reading/big.html"
BIG_TOO = "/reading/big-too.html"  # the same again: two pages to read at once
ORDINARY = "/reading/ordinary.html"


@cache
def html_of(path: str) -> bytes:
    """The page at path, made once."""
    if path in (BIG, BIG_TOO):
        return _big().encode()
    if path == ORDINARY:
        return page("An ordinary page", "<p>Nothing is wrong with this page.</p>").encode()
    return PAGES[path]().encode()


def _serve(h: HostileHandler, url: SplitResult) -> None:
    h.send_body(200, html_of(url.path), HTML)


def _slow_index(h: HostileHandler, url: SplitResult) -> None:
    send_page(h, "Slow pages", link_list([BIG, BIG_TOO, ORDINARY]))


ROUTES: dict[str, Handler] = {
    **{path: _serve for path in [*PAGES, BIG, BIG_TOO, ORDINARY]},
    "/reading/slow/": _slow_index,
}
INDEX = [*PAGES, ORDINARY]
