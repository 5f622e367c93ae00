"""Spelling in British English: which words of a page's prose the dictionary does not know.

The dictionary is Debian's `hunspell-en-gb` (with `hunspell-en-us`, to tell a US spelling
from a mistake), read through Enchant (`libenchant-2-2`) with pyenchant. Reading a page only
notes its unknown words (audits/spelling_text.py says which words are read); whether each
is a mistake is decided once the whole site is known (audits/spelling_findings.py): a word
the site uses on many pages, or as a name, is the council's own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from vocabulary.spelling import MISSPELLING, US_SPELLING

from .readability import _is_english
from .spelling_text import MAX_WORDS, has_marked_passages, prose_blocks, sentences, word_tuples
from .tree import HtmlTree

BRITISH, AMERICAN = "en_GB", "en_US"
MAX_SENTENCE = 300  # characters of the sentence kept with each word
MAX_PAGE_WORDS = 200  # unknown words kept a page: a page of gibberish is bounded
SETUP_HINT = (
    "install Debian's dictionaries and Enchant (apt-get install hunspell-en-gb hunspell-en-us "
    "libenchant-2-2) and pyenchant (pip install pyenchant==3.3.0): scripts/setup.sh does both"
)
# Prefixes written with a hyphen that the dictionary does not list alone ("pre-application").
HYPHEN_PREFIXES = frozenset(
    {"pre", "non", "re", "co", "anti", "sub", "multi", "inter", "post", "eco", "cyber", "micro"}
    | {"macro", "mini", "semi", "self", "ex", "bio", "geo", "tele", "socio", "agri", "e"}
)
# Endings that make a new word of any word (centric: centricity, cash: cashable), the
# dictionary listing only some of them.
SUFFIXES = ("ity", "ness", "able", "ible", "less", "ship", "ism", "ist", "ists", "wise")
MAX_SLIPS = 2  # edits from a misspelling to the word meant
MAX_ABBREVIATION = 4  # letters of an abbreviation written in lower case (url, pdfs)
DOUBLED = frozenset("bdgmnpt")  # consonants doubled before an ending (tab: tabbable)
MIN_PART = 3  # letters in each part of two words written as one
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
        if not isinstance(uses, int) or isinstance(uses, bool):
            return None
        return cls(word, max(1, uses), bool(name), bool(capital), bool(us), str(sentence))


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
    capital too), or that is not a matter of spelling (below); US_SPELLING for a US form
    of a British word (color, center, traveling, organize); else MISSPELLING."""
    found = _dictionaries()
    if found is None:
        return None
    british, american = found
    if british.check(word):
        return US_SPELLING if _ize_spelling(word, british) else None
    if word.lower().endswith("'s"):
        return verdict(word[:-2])  # a possessive: the word's own verdict
    if "-" in word:
        return _worst(verdict(p) for p in word.split("-") if _checked_part(p))
    if british_form(word):
        return US_SPELLING
    if american.check(word):
        return None  # American English with no British form: a term (kickoff), dept, etc
    if _not_a_spelling_matter(word, british, american):
        return None
    return MISSPELLING


# The US endings and letters that British spelling writes otherwise, as (US, British).
_US_FORMS = tuple(
    (re.compile(us), british)
    for us, british in (
        (r"or(s|ed|ing|ful|ite|ites|able)?$", r"our\1"),  # color, favorite, honorable
        (r"(?<=[^aeiou])er(s|ed)?$", r"re\1"),  # center, theater, fiber
        (r"iz(e|es|ed|ing|ation|ations|er|ers)$", r"is\1"),  # organize, realization
        (r"yz(e|es|ed|ing)$", r"ys\1"),  # analyze, paralyze
        (r"([aeiou])l(ed|ing|er|ers)$", r"\1ll\2"),  # traveling, labeled, modeling
        (r"og$", r"ogue"),  # catalog, dialog
        (r"ense$", r"ence"),  # defense, offense
        (r"(ag|judg|acknowledg)(ing|ment|ments)$", r"\1e\2"),  # aging, judgment
        (r"(^|[^l])l(ment|ful)$", r"\1l\2"),
        (r"ill(s|ed|ing|ment)?$", r"il\1"),  # fulfill, enroll: fulfil, enrol
        (r"^(an|p)e", r"\1ae"),  # anemia, pediatric
        (r"^(e|f)e", r"o\1e"),  # estrogen, fetus
        (r"^(gr)ay", r"\1ey"),  # gray
        (r"ti(re|res)$", r"ty\1"),  # tire
        (r"um$", r"ium"),  # aluminum
        (r"if(act|acts)$", r"ef\1"),  # artifact
    )
)


@lru_cache(maxsize=1 << 14)
def british_form(word: str) -> str:
    """The British spelling of a US form (colour for color), or "" when there is none."""
    found = _dictionaries()
    if found is None or len(word) < 4 or not found[1].check(word):
        return ""  # a US form is American English
    british = found[0]
    lower = word.lower()
    for pattern, replacement in _US_FORMS:
        changed = pattern.sub(replacement, lower, count=1)
        if changed != lower and british.check(changed):
            return word[0] + changed[1:] if word[0].isupper() else changed
    return ""


def _checked_part(part: str) -> bool:
    return len(part) >= 2 and part.lower() not in HYPHEN_PREFIXES


def _worst(verdicts: Iterable[str | None]) -> str | None:
    found = set(verdicts)
    return next((v for v in (MISSPELLING, US_SPELLING) if v in found), None)


def _not_a_spelling_matter(word: str, british: Any, american: Any) -> bool:
    """Words the dictionary does not list that are still spelt right: a word listed with a
    capital (Braille) or in capitals (url); an abbreviation listed with its full stop (etc);
    the -ise form of a word American
    lists with -ize (incentivising); two words written as one (stylesheet, wellbeing); a
    word with a new ending (cashable)."""
    lower = word.lower()
    if word.islower() and british.check(word.capitalize()):
        return True
    stem = word[:-1] if lower.endswith("s") else word
    if len(stem) <= MAX_ABBREVIATION and british.check(stem.upper()):
        return True  # an abbreviation the dictionary lists in capitals: url, pdfs
    if british.check(word + "."):
        return True
    return _ise_of_ize(lower, american) or _two_words(lower, british) or _derived(lower, british)


def _two_words(word: str, british: Any) -> bool:
    """A closed compound of two dictionary words of three letters or more (backend, plural
    stylesheets): a choice of style, where a typo rarely makes two real words."""
    return any(
        british.check(word[:cut]) and british.check(word[cut:])
        for cut in range(MIN_PART, len(word) - MIN_PART + 1)
    )


def _derived(word: str, british: Any) -> bool:
    """A dictionary word of four letters or more with an ending from SUFFIXES, its last
    letter doubled or not (tab: tabbable); not -ible for a word listed with -able, nor the
    other way round (availible)."""
    for other in (("ible", "able"), ("able", "ible")):
        if word.endswith(other[0]) and british.check(word[: -len(other[0])] + other[1]):
            return False
    for suffix in SUFFIXES:
        stem = word[: -len(suffix)]
        if not word.endswith(suffix) or len(stem) < 4:
            continue
        doubled = stem[-1] == stem[-2] and stem[-1] in DOUBLED
        if british.check(stem) or (doubled and british.check(stem[:-1])):
            return True
    return False


def _ise_of_ize(word: str, american: Any) -> bool:
    swapped = re.sub(r"is(e|es|ed|ing|ation|ations|er|ers)$", r"iz\1", word)
    return swapped != word and bool(american.check(swapped))


def _ize_spelling(word: str, british: Any) -> bool:
    match = _IZE.match(word.lower())
    if match is None:
        return False
    stem, ending = match.group(1), match.group(3)
    return bool(british.check(f"{stem}{'is' if match.group(2) == 'iz' else 'ys'}{ending}"))


@lru_cache(maxsize=4096)
def suggestions(word: str, us: bool = False) -> tuple[str, ...]:
    """Up to three British spellings for a word the dictionary does not accept (a US
    spelling's British form first)."""
    found = _dictionaries()
    if found is None:
        return ()
    offered = [form] if us and (form := british_form(word) or _ise_form(word)) else []
    # Not two words for one: "re processors" says less than "reprocessors" is unknown.
    offered += [
        s for s in found[0].suggest(word) if s != word and " " not in s and s not in offered
    ]
    return tuple(offered[:3])


def _ise_form(word: str) -> str:
    match = _IZE.match(word.lower())
    if match is None:
        return ""
    ise = f"{match.group(1)}{'is' if match.group(2) == 'iz' else 'ys'}{match.group(3)}"
    return word[0] + ise[1:] if word[0].isupper() else ise


def is_english_page(lang: str | None, page: HtmlTree) -> bool:
    """An English page, or one in another language with a passage marked as English."""
    return _is_english(lang) or has_marked_passages(page)


def word_key(word: str) -> str:
    """A word as the site's counts and the word list know it: lower case, no possessive."""
    lower = word.lower()
    return lower[:-2] if lower.endswith("'s") else lower.rstrip("'")


def near_miss(word: str, offered: tuple[str, ...]) -> bool:
    """Whether a one-word suggestion is at most two slips away (a letter missed, added,
    changed, or two swapped): a typo's are; a name's or a term's rarely are."""
    word = word.lower()
    return any(slips(word, s.lower()) <= MAX_SLIPS for s in offered if "-" not in s)


def slips(a: str, b: str) -> int:
    """Edits from a to b (optimal string alignment distance), stopping early past MAX_SLIPS."""
    if abs(len(a) - len(b)) > MAX_SLIPS:
        return MAX_SLIPS + 1
    before: list[int] = []
    row = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], before[j - 2] + 1)
        before, row = row, current
    return row[-1]


def page_words(
    page: HtmlTree,
    lang: str | None,
    blocks: list[str] | None = None,
    prose: list[str] | None = None,
) -> tuple[PageWord, ...]:
    """The words of the page's English prose that the British dictionary does not accept,
    each once, in the order they first appear (none when there is no dictionary). blocks
    are readability's (audits/readability.py content_blocks): the same text when the page
    marks no code or passage of its own, so it is not walked again; prose, its prose blocks
    read in the same walk (content_and_prose) where it does."""
    if not available() or not is_english_page(lang, page):
        return ()
    if prose is None and (blocks is None or has_marked_passages(page)):
        prose = prose_blocks(page, lang)
    blocks = prose if prose is not None else blocks or []
    seen: dict[str, dict[str, Any]] = {}
    read = 0
    for block in blocks:
        for sentence in sentences(block):
            for text, starts, brand in word_tuples(sentence):
                read += 1
                if read > MAX_WORDS:
                    return _as_words(seen)
                if brand:
                    # Written as a name: noted only when the dictionary lacks it in any case.
                    if verdict(text.capitalize()) is not None:
                        _note(seen, text.capitalize(), False, MISSPELLING, sentence)
                    continue
                for part, first, kind in _unknown_parts(text):
                    _note(seen, part, starts and first, kind, sentence)
    return _as_words(seen)


@lru_cache(maxsize=1 << 16)
def _unknown_parts(text: str) -> tuple[tuple[str, bool, str], ...]:
    """The parts of a word (_parts) the dictionary does not accept, each with whether it is
    the word's first part and its verdict: decided once per word per process."""
    found = ((part, first, verdict(part)) for part, first in _parts(text, True))
    return tuple((part, first, kind) for part, first, kind in found if kind is not None)


def _parts(text: str, starts: bool) -> list[tuple[str, bool]]:
    """The word itself when the dictionary knows it whole; else its own parts, so that a
    mistake is named alone (priviledge in priviledge-making; councill in councill's)."""
    if text.lower().endswith("'s"):
        text = text[:-2]
    if "-" not in text or verdict(text) is None:
        return [(text, starts)]
    parts = [p for p in text.split("-") if _checked_part(p)]
    return [(part, starts and i == 0) for i, part in enumerate(parts)]


def _note(seen: dict[str, dict[str, Any]], text: str, starts: bool, kind: str, line: str) -> None:
    key = word_key(text)
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
            "sentence": _shortened(" ".join(line.split())),
        }
    entry["uses"] += 1
    if text[0].isupper():
        entry["mid_capital"] |= not starts
    else:
        entry["lower"] = True


def _shortened(sentence: str) -> str:
    """A sentence of at most MAX_SENTENCE characters, cut between words."""
    if len(sentence) <= MAX_SENTENCE:
        return sentence
    return sentence[: MAX_SENTENCE - 2].rsplit(" ", 1)[0] + " \u2026"


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
