"""Spelling findings, decided once the whole site is read: which unknown words are the
council's own (its word list, names, words it uses on many pages) and which are mistakes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from vocabulary.findings import Finding
from vocabulary.spelling import (
    MISSPELLING,
    STYLE_GUIDE,
    TITLES,
    US_SPELLING,
    spelling_summary,
)

from .spelling import PageWord, near_miss, suggestions, word_key

# Why a word outside the dictionary is not flagged (`siteaudit words` says).
NAME, MANY_PAGES = "a name", "on many pages"
FAR = "no dictionary word is close to it"


@dataclass
class SiteWord:
    """One word outside the dictionary, across the site's pages."""

    word: str  # as first written
    pages: int = 0
    uses: int = 0
    name_pages: int = 0  # pages where it is written as a name
    us: bool = False
    urls: list[str] = field(default_factory=list)

    def why_not_flagged(self, many: int) -> str:
        """Why the site's use of it is not a mistake; "" when it may be one."""
        if self.name_pages:
            return NAME
        if self.pages >= many and not self.us:
            return MANY_PAGES
        return ""


def site_words(pages: Iterable[tuple[str, tuple[PageWord, ...]]]) -> dict[str, SiteWord]:
    """Each unknown word of the site, keyed by its lower-case form."""
    found: dict[str, SiteWord] = {}
    for url, words in pages:
        for word in words:
            entry = found.setdefault(word_key(word.word), SiteWord(word.word))
            entry.pages += 1
            entry.uses += word.uses
            entry.name_pages += word.name
            entry.us |= word.us
            entry.urls.append(url)
    return found


def spelling_findings(
    pages: list[tuple[str, tuple[PageWord, ...]]], own_words: frozenset[str], many_pages: int
) -> list[Finding]:
    """One finding per mistaken word per page (its url set; its team is the caller's)."""
    site = site_words(pages)
    found = []
    for url, words in pages:
        for word in words:
            if _flagged(word, site[word_key(word.word)], own_words, many_pages):
                finding = spelling_finding(word)
                if finding is not None:
                    found.append(finding.placed(url, None))
    return found


def _flagged(word: PageWord, site: SiteWord, own_words: frozenset[str], many: int) -> bool:
    if word_key(word.word) in own_words or word.name:
        return False
    if site.name_pages and word.capital:
        return False  # written as a name elsewhere on the site, and with its capital here
    return word.us or site.pages < many


def spelling_finding(word: PageWord) -> Finding | None:
    """The finding for a word, or None for an unknown word that no dictionary word is close
    to: a name or a term more likely than a typo."""
    rule_id = US_SPELLING if word.us else MISSPELLING
    offered = suggestions(word.word, word.us)
    if not word.us and not near_miss(word.word, offered):
        return None
    return Finding(
        kind="spelling",
        rule_id=rule_id,
        impact="minor",
        snippet=word.sentence,
        summary=spelling_summary(word.word, offered, rule_id),
        help=TITLES[rule_id],
        help_url=STYLE_GUIDE,
        fingerprint=f"spelling:{rule_id}:{word_key(word.word)}",
    )


def candidates(
    pages: Iterable[tuple[str, tuple[PageWord, ...]]], own_words: frozenset[str], many: int
) -> list[tuple[SiteWord, str]]:
    """Words for the council's list, on the most pages first, each with why it is not
    flagged ("" when it is): those already listed are left out."""
    site = site_words(pages)
    listed = [w for key, w in site.items() if key not in own_words]
    ranked = sorted(listed, key=lambda w: (-w.pages, -w.uses, w.word.lower()))
    return [(w, w.why_not_flagged(many) or _far(w)) for w in ranked]


def _far(word: SiteWord) -> str:
    """FAR for a word no suggestion is close to (taken for a name or a term), else ""."""
    return "" if word.us or near_miss(word.word, suggestions(word.word)) else FAR


def by_page(rows: Iterable[tuple[str, list[object]]]) -> list[tuple[str, tuple[PageWord, ...]]]:
    """Stored words ((url, JSON list) pairs) as PageWords, a malformed entry skipped."""
    pages: dict[str, list[PageWord]] = defaultdict(list)
    for url, values in rows:
        for value in values:
            if (word := PageWord.from_json(value)) is not None:
                pages[url].append(word)
    return [(url, tuple(words)) for url, words in pages.items()]
