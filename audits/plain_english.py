"""The GOV.UK style guide's "words to avoid" and a matcher that counts them in page text."""

from __future__ import annotations

import re
from collections import Counter
from functools import cache

from .phrases import PhraseFinder

# GOV.UK style guide, "Words to avoid" (plain English section), as word or phrase -> what to
# write instead. Keys keep the guide's own wording ("tackling", "countering") so a report reads
# like the guide; their other forms are listed in _EXTRA_FORMS. Advice is ASCII on purpose.
WORDS_TO_AVOID: dict[str, str] = {
    "advance": "say what you are actually doing, for example 'improve' or 'move forward'",
    "agenda": "plan or priorities (unless it's for a meeting)",
    "collaborate": "work with",
    "combat": "solve, stop or reduce (unless it's military)",
    "commit": "say what you will do - we're either doing something or we're not",
    "countering": "say what you are doing, for example 'preventing' or 'reducing'",
    "deliver": "make, give or provide (pizzas, post and services are delivered, not ideas)",
    "deploy": "use or put in place (unless it's military or software)",
    "dialogue": "talk or discussion - we speak to people",
    "disincentivise": "discourage",
    "drive out": "remove or stop (unless it's cattle)",
    "empower": "allow, let or give someone the power to",
    "facilitate": "help - say how you are helping",
    "focus": "say what you are working on or concentrating on",
    "foster": "encourage or support (unless it's children)",
    "going forward": "from now on or in future (we're not giving travel directions)",
    "impact": "affect or change (as a verb)",
    "in order to": "to",
    "incentivise": "encourage",
    "initiate": "start or begin",
    "key": "important, main or essential (unless it unlocks something)",
    "land": "get, win or achieve (as a verb only use it for aircraft)",
    "leverage": "use or make the most of (unless it's in the financial sense)",
    "liaise": "work with or talk to",
    "one-stop shop": "say what the service does - we're government, not a retail outlet",
    "overarching": "overall or main, or leave it out",
    "pledge": "say what you will do - we're either doing something or we're not",
    "progress": "say what you are actually doing (as a verb)",
    "promote": "recommend or support (unless it's a marketing campaign or a job)",
    "ring fencing": "set aside, keep or protect",
    "robust": "strong, reliable or well thought out",
    "slimming down": "cutting or reducing - processes don't diet",
    "streamline": "simplify or make simpler",
    "strengthening": "improving (unless it's bridges or other structures)",
    "tackling": "solving, dealing with or stopping (unless it's sport)",
    "transforming": "changing - say how you are changing it",
    "utilise": "use",
    # Not on the GOV.UK list but common council wordiness with a clear plain alternative.
    "in conjunction with": "with",
}

# Forms the regular inflection rules in _inflections cannot produce from the key.
_EXTRA_FORMS: dict[str, tuple[str, ...]] = {
    "countering": ("countered",),
    "drive out": ("drives out", "driving out", "drove out", "driven out"),
    "ring fencing": ("ring fence", "ring fenced", "ring fences"),
    "slimming down": ("slim down", "slims down", "slimmed down"),
    "strengthening": ("strengthen", "strengthens", "strengthened"),
    "tackling": ("tackle", "tackles", "tackled"),
    "transforming": ("transform", "transforms", "transformed"),
}

# The guide objects to these only as verbs; their noun forms ("local land charges",
# "the impact of", "track your progress") are everyday council English, so only match
# forms that can only be verbs.
_VERB_ONLY = {"impact", "land", "progress"}

# Plain phrases that contain a word on the list but are fine in context: "pay in advance",
# and a key safe really does unlock something. Masked out before matching.
_FINE_PHRASES = re.compile(r"(?<![\w-])(?:in\s+advance|key\s+safes?)(?![\w-])", re.IGNORECASE)

# A phrase may be written with spaces or hyphens ("ring-fencing", "one stop shop").
_SEPARATOR = r"(?:\s+|\s*-\s*)"


def _inflections(word: str) -> set[str]:
    """Regular English inflections of a single word: -s/-es, -d/-ed, -ing, -ise/-ize."""
    stems = {word}
    if word.endswith("ise"):
        stems.add(word[:-3] + "ize")  # US spelling is as much jargon as the UK one
    forms: set[str] = set()
    for stem in stems:
        forms.add(stem)
        forms.add(stem + ("es" if stem.endswith(("s", "sh", "ch", "x", "z")) else "s"))
        if stem.endswith("e"):
            forms.update({stem + "d", stem[:-1] + "ing"})
        else:
            forms.update({stem + "ed", stem + "ing"})
            if re.search(r"[^aeiou][aeiou][b-df-hj-np-tv]$", stem):
                # UK spelling doubles the final consonant: committed, combatting, focussed.
                forms.update({stem + stem[-1] + "ed", stem + stem[-1] + "ing"})
    return forms


def _forms(entry: str) -> set[str]:
    """Every spelling of an entry to match; phrases are matched as written."""
    forms = set(_EXTRA_FORMS.get(entry, ()))
    if " " in entry or "-" in entry:
        forms.add(entry)
    elif entry in _VERB_ONLY:
        forms.update(f for f in _inflections(entry) if f.endswith(("ed", "ing")))
    else:
        forms.update(_inflections(entry))
    return forms


def _normalise(phrase: str) -> str:
    """One spelling for a matched phrase so it can be looked up: lower case, single spaces."""
    return " ".join(re.split(_SEPARATOR, phrase.strip().lower()))


@cache
def _matcher() -> tuple[PhraseFinder, dict[str, str]]:
    """One regex for the whole list, and a map from each normalised form to its entry."""
    entry_for: dict[str, str] = {}
    for entry in WORDS_TO_AVOID:
        for form in _forms(entry):
            entry_for.setdefault(_normalise(form), entry)
    # Longest first, so "drive out" wins over any shorter entry at the same position.
    alternatives = sorted(entry_for, key=len, reverse=True)
    body = "|".join(_SEPARATOR.join(map(re.escape, f.split(" "))) for f in alternatives)
    # Hyphens count as part of a word: "land-use" is not "land", "non-key" is not "key".
    pattern = re.compile(rf"(?<![\w-])(?:{body})(?![\w-])", re.IGNORECASE)
    first_words = {re.split(r"[ -]", form, maxsplit=1)[0] for form in entry_for}
    return PhraseFinder(pattern, first_words), entry_for


def find_words_to_avoid(text: str) -> list[tuple[str, int]]:
    """Count words to avoid in text, as (entry, count), most frequent first then A to Z."""
    finder, entry_for = _matcher()
    if "advance" in text.lower() or "safe" in text.lower():  # else there is nothing to mask
        text = _FINE_PHRASES.sub(lambda m: " " * len(m.group(0)), text)
    counts = Counter(entry_for[_normalise(m.group(0))] for m in finder.finditer(text))
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))
