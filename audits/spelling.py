"""Spelling in British English: which words of a page's prose the dictionary does not know.

The dictionary is Debian's `hunspell-en-gb` (with `hunspell-en-us`, to tell a US spelling
from a mistake), read through Enchant (`libenchant-2-2`) with pyenchant. Reading a page only
notes its unknown words (audits/spelling_text.py says which words are read); whether each
is a mistake is decided once the whole site is known (audits/spelling_findings.py), as a
word the site uses on many pages, or as a name, is the council's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from vocabulary.spelling import MISSPELLING, US_SPELLING

from .spelling_text import MAX_WORDS, prose_blocks, sentences, words_of
from .tree import HtmlTree

BRITISH, AMERICAN = "en_GB", "en_US"
MAX_SENTENCE = 300  # characters of the sentence kept with each word
MAX_PAGE_WORDS = 200  # unknown words kept a page: a page of gibberish is bounded
SETUP_HINT = (
    "install Debian's dictionaries and Enchant (apt-get install hunspell-en-gb hunspell-en-us "
    "libenchant-2-2) and pyenchant (pip install pyenchant==3.3.0): scripts/setup.sh does both"
)
# Prefixes written with a hyphen that the dictionary does not list alone ("pre-application").
HYPHEN_PREFIXES = frozenset({"pre", "non", "re", "co", "anti", "sub", "multi", "inter", "post"})
# -ize, -yze and their endings: GOV.UK style writes -ise, though the British dictionary
# (Oxford spelling) accepts both. At least three letters before, so not size, prize, seize.
_IZE = re.compile(r"^(\w{3,})(iz|yz)(e|es|ed|ing|ation|ations|er|ers|able)$")


class SpellingDataError(RuntimeError):
    """The dictionaries or Enchant are missing."""


@dataclass(frozen=True)
class PageWord:
    """A word of a page's prose that the British dictionary does not accept.

    name: written with a capital in mid-sentence, and never without, on this page.
    capital: every use on the page begins with a capital. us: a US spelling ("color").
    """

    word: str  # as first written
    uses: int
    name: bool
    capital: bool
    us: bool
    sentence: str  # the first sentence it is in

    def as_json(self) -> list[Any]:
        return [self.word, self.uses, self.name, self.capital, self.us, self.sentence]

    @classmethod
    def from_json(cls, value: Any) -> PageWord | None:
        """A stored word, or None for a value that is not one (a hand-edited database)."""
        if not isinstance(value, list) or len(value) != 6 or not isinstance(value[0], str):
            return None
        word, uses, name, capital, us, sentence = value
        return cls(word, int(uses or 1), bool(name), bool(capital), bool(us), str(sentence))


@cache
def _dictionaries() -> tuple[Any, Any] | None:
    """The British and American Hunspell dictionaries, or None when either is missing."""
    try:
        import enchant
    except ImportError:  # pyenchant raises ImportError when libenchant is missing, too
        return None
    broker = enchant.Broker()
    for tag in (BRITISH, AMERICAN):
        broker.set_ordering(tag, "hunspell")
    try:
        found = broker.request_dict(BRITISH), broker.request_dict(AMERICAN)
    except enchant.errors.DictNotFoundError:
        return None
    if any(d.provider.name != "hunspell" for d in found):
        return None
    return found


def ensure_dictionaries() -> None:
    """Stop a scan before it starts when spelling cannot be checked, saying what to install."""
    if _dictionaries() is None:
        raise SpellingDataError(f"spelling cannot be checked: {SETUP_HINT}")


def available() -> bool:
    return _dictionaries() is not None


@lru_cache(maxsize=1 << 16)
def verdict(word: str) -> str | None:
    """None for a word the British dictionary accepts as written (a lower-case entry with a
    capital too), else MISSPELLING, or US_SPELLING for a word only the American one knows,
    or an -ize spelling whose -ise form is British."""
    found = _dictionaries()
    if found is None:
        return None
    british, american = found
    if british.check(word):
        return US_SPELLING if _ize_spelling(word, british) else None
    if "-" in word and all(_part_known(part, british) for part in word.split("-")):
        return None
    if word.endswith("'s") and british.check(word[:-2]):
        return None  # a possessive the dictionary does not list
    if word.islower() and british.check(word.capitalize()):
        return None  # listed with a capital (Braille, Jacuzzi): a matter of style
    return US_SPELLING if american.check(word) else MISSPELLING


def _part_known(part: str, british: Any) -> bool:
    return len(part) < 2 or part.lower() in HYPHEN_PREFIXES or british.check(part)


def _ize_spelling(word: str, british: Any) -> bool:
    match = _IZE.match(word.lower())
    if match is None:
        return False
    stem, ending = match.group(1), match.group(3)
    return bool(british.check(f"{stem}{'is' if match.group(2) == 'iz' else 'ys'}{ending}"))


@lru_cache(maxsize=4096)
def suggestions(word: str, us: bool = False) -> tuple[str, ...]:
    """Up to three British spellings for a word the dictionary does not accept; an -ize
    word's -ise form first."""
    found = _dictionaries()
    if found is None:
        return ()
    british = found[0]
    offered: list[str] = []
    if us and (match := _IZE.match(word.lower())):
        ise = f"{match.group(1)}{'is' if match.group(2) == 'iz' else 'ys'}{match.group(3)}"
        offered.append(word[0] + ise[1:] if word[0].isupper() else ise)
    # Not two words for one: "re processors" says less than "reprocessors" is unknown.
    offered += [s for s in british.suggest(word) if s != word and " " not in s and s not in offered]
    return tuple(offered[:3])


def page_words(page: HtmlTree, lang: str | None) -> tuple[PageWord, ...]:
    """The words of the page's English prose that the British dictionary does not accept,
    each once, in the order they first appear (none when there is no dictionary)."""
    if not available():
        return ()
    seen: dict[str, dict[str, Any]] = {}
    read = 0
    for block in prose_blocks(page, lang):
        for sentence in sentences(block):
            for word in words_of(sentence):
                read += 1
                if read > MAX_WORDS:
                    return _as_words(seen)
                kind = verdict(word.text)
                if kind is not None:
                    _note(seen, word.text, word.starts_sentence, kind, sentence)
    return _as_words(seen)


def _note(seen: dict[str, dict[str, Any]], text: str, starts: bool, kind: str, line: str) -> None:
    key = text.lower()
    entry = seen.get(key)
    if entry is None:
        if len(seen) >= MAX_PAGE_WORDS:
            return
        entry = seen[key] = {
            "word": text,
            "uses": 0,
            "mid_capital": False,
            "lower": False,
            "us": kind == US_SPELLING,
            "sentence": " ".join(line.split())[:MAX_SENTENCE],
        }
    entry["uses"] += 1
    if text[0].isupper():
        entry["mid_capital"] |= not starts
    else:
        entry["lower"] = True


def _as_words(seen: dict[str, dict[str, Any]]) -> tuple[PageWord, ...]:
    return tuple(
        PageWord(
            word=e["word"],
            uses=e["uses"],
            name=e["mid_capital"] and not e["lower"],
            capital=not e["lower"],
            us=e["us"],
            sentence=e["sentence"],
        )
        for e in seen.values()
    )
