"""The prose a spelling check reads: the main content in English, as sentences of words.

The same main content readability reads (audits/readability.py), less what is not English
prose: code, passages and pages in another language (`lang`), and within the text URLs,
email addresses, file names, postcodes, and any word with a digit in it (phone numbers,
reference numbers) or in capitals (abbreviations).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from lxml import etree

from .readability import CODE_TAGS, content_and_prose
from .tree import HtmlTree

# A hostile page cannot make the check slow: at most this many words are read a page, and
# a "word" longer than any English one (a run of 100,000 letters) is not prose.
MAX_WORDS = 50_000
MIN_LETTERS, MAX_LETTERS = 3, 45

# Runs of non-spaces that are not words: an email address or @handle, a URL, a domain or a
# file name (form.pdf) or "e.g." (a letter, a dot and a letter), a #hashtag. Judged a run
# at a time, so a page of one endless run costs linear time.
_DOTTED = re.compile(r"\w\.\w")
# A word: letters with inner apostrophes or hyphens ("council's", "drop-off").
_WORD = re.compile(r"\w+(?:['\-]\w+)*")
# A sentence ends at . ! ? (and the quotes or brackets after them) followed by a space.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


@dataclass(frozen=True)
class Word:
    """One word of prose as written, and whether it begins a sentence (so a capital says
    nothing about it being a name)."""

    text: str
    starts_sentence: bool
    # An inner capital (OxCam, GitHub): a name, never checked, but known as one across the
    # site, so "Oxcam" elsewhere is taken as the same name.
    brand: bool = False


def prose_blocks(page: HtmlTree, lang: str | None) -> list[str]:
    """The page's main content in English, one block per paragraph, item, cell or line,
    with code and passages in other languages left out (a gap in their place): read in
    the same walk as readability's blocks (audits/readability.py, content_and_prose)."""
    return content_and_prose(page, lang)[1]


# Markup that makes the readability text wrong for spelling: code, or a passage that sets its
# language or asks not to be checked. Most pages have none, and reuse readability's blocks.
_MARKED = etree.XPath(
    "boolean(//body//*[@*[local-name() = 'lang'] or @spellcheck or @translate"
    + "".join(f" or self::{tag}" for tag in sorted(CODE_TAGS))
    + "])"
)


def has_marked_passages(page: HtmlTree) -> bool:
    """Whether the page has code, or a passage with its own lang, spellcheck or translate."""
    return bool(_MARKED(page.root))


def sentences(block: str) -> list[str]:
    """A block's sentences, apostrophes made plain."""
    return [s for s in _SENTENCE_END.split(block.translate(_APOSTROPHES)) if s.strip()]


def words_of(sentence: str) -> Iterator[Word]:
    """The words of a sentence worth checking, in order: no digits (phone, reference and
    postcode parts), no capitals-only abbreviations, no words under three letters, nothing in a URL,
    email address, file name or hashtag."""
    for text, starts, brand in word_tuples(sentence):
        yield Word(text, starts, brand)


def word_tuples(sentence: str) -> list[tuple[str, bool, bool]]:
    """words_of as (text, starts_sentence, brand) tuples: the page reader's hot loop, where
    each page reads about a thousand words, so what is decided of a run of characters alone
    (its words, each word's kind, whether it ends in a break) is decided once per process
    for each distinct run (the same runs recur on every page)."""
    found: list[tuple[str, bool, str]] = []  # every word, checkable or not: if it starts, its kind
    starts = True
    for run in sentence.split():
        words, breaks = _run_facts(run) if len(run) <= _LONGEST_KEPT else _facts_of(run)
        if words is None:
            found.append(("", False, _NEITHER))
            starts = False
            continue
        for text, kind in words:
            found.append((text, starts, kind))
            starts = False
        starts = breaks
    words_found = []
    last = len(found) - 1
    for index, (text, starts, kind) in enumerate(found):
        if kind is _CHECKABLE:
            # "Lynsey Bissell": a capital at the start followed by another is a name's.
            named = (
                starts and text[0].isupper() and index < last and found[index + 1][0][:1].isupper()
            )
            words_found.append((text, starts and not named, False))
        elif kind is _BRAND:
            words_found.append((text, False, True))
    return words_found


_CHECKABLE, _BRAND, _NEITHER = "checkable", "brand", "neither"
# Distinct runs and words remembered per process, and the longest remembered (a hostile page
# of endless new runs, or of one endless run, costs what it would without them).
_RUNS_KEPT, _LONGEST_KEPT = 1 << 16, 100


def _words_in(run: str) -> tuple[str, ...] | None:
    """The words of a run of non-spaces, or None when the run is not prose (a URL, ...)."""
    return None if _not_prose(run) else tuple(_WORD.findall(run))


def _kind_of(text: str) -> str:
    if _is_checkable(text):
        return _CHECKABLE
    return _BRAND if _is_brand(text) else _NEITHER


_word_kind = lru_cache(maxsize=_RUNS_KEPT)(_kind_of)


def _facts_of(run: str) -> tuple[tuple[tuple[str, str], ...] | None, bool]:
    """A run's words with their kinds (None when it is not prose), and whether a capital
    after it says nothing: after a colon, semicolon, bullet or dash it begins a list item."""
    texts = _words_in(run)
    if texts is None:
        return None, False
    kinds = tuple((t, _word_kind(t) if len(t) <= _LONGEST_KEPT else _kind_of(t)) for t in texts)
    return kinds, run.endswith((":", ";")) or run in _BREAKS


_run_facts = lru_cache(maxsize=_RUNS_KEPT)(_facts_of)


_BREAKS = frozenset({"\u2022", "-", "\u2013", "\u2014", "|", "/", "*"})


def _not_prose(run: str) -> bool:
    return (
        "@" in run
        or "://" in run
        or run.lower().startswith("www.")
        or run.startswith(("#", "."))  # a hashtag, a file extension (.xls)
        or _DOTTED.search(run) is not None
        or "/" in run.strip("/")  # a path, a date or and/or
        or ":" in run.rstrip(":")  # an identifier (local-authority-eng:DAC), a time
    )


def _is_brand(word: str) -> bool:
    return (
        len(word) >= 3
        and word[0].isupper()
        and not word.isupper()
        and any(c.isupper() for c in word[1:])
        and word.isalpha()
    )


def _is_checkable(word: str) -> bool:
    if not MIN_LETTERS <= len(word) <= MAX_LETTERS or any(c.isdigit() or c == "_" for c in word):
        return False
    letters = [c for c in word if c.isalpha()]
    if len(letters) >= 2 and all(c.isupper() for c in letters):
        return False  # an abbreviation: CCTV, PDF, SEND
    # An inner capital is a brand or a name (iPhone, GitHub, eBay), or two words run together.
    return not any(c.isupper() for c in word[1:])
