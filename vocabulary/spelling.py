"""The words of a spelling finding: its title, its summary, and the word and suggestions
read back from that summary for the report's table."""

from __future__ import annotations

import re

MISSPELLING, US_SPELLING = "misspelling", "us-spelling"
TITLES = {MISSPELLING: "Spelling mistake", US_SPELLING: "US spelling"}
# GOV.UK's style guide asks for British spelling (and -ise, not -ize).
STYLE_GUIDE = "https://www.gov.uk/guidance/style-guide/a-to-z-of-gov-uk-style"
ADD_TO_LIST = (
    "If it is right (a name, a place or a service), add it to the council's word list "
    "(spelling.words in the configuration) and it will not be flagged again."
)
# The word is quoted with typographic quotes: a word as read has only straight apostrophes.
_SUMMARY = re.compile(
    r"^\u2018(?P<word>[^\u2019]*)\u2019[^\n]*(?:\n(?:Did you mean|Write): (?P<offer>[^\n?]*))?"
)


def spelling_summary(word: str, offered: tuple[str, ...], rule_id: str) -> str:
    """What is wrong and what to write instead, in plain words."""
    if rule_id == US_SPELLING:
        first = f"\u2018{word}\u2019 is the US spelling: GOV.UK style asks for British spelling."
        offer = f"Write: {', '.join(offered)}" if offered else ""
        return "\n".join(filter(None, [first, offer]))
    first = f"\u2018{word}\u2019 is not in the British English dictionary."
    offer = f"Did you mean: {', '.join(offered)}?" if offered else ""
    return "\n".join(filter(None, [first, offer, ADD_TO_LIST]))


def read_summary(summary: str) -> tuple[str, list[str]]:
    """(word, suggestions) from a spelling finding's summary; ("", []) if it is not one."""
    match = _SUMMARY.match(summary or "")
    if match is None:
        return "", []
    offer = match.group("offer") or ""
    return match.group("word"), [s.strip() for s in offer.split(",") if s.strip()]
