"""What the team report shows of a page's spelling findings: a table of words, and a few
words for the page's other problems."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from vocabulary.problems import plural
from vocabulary.spelling import US_SPELLING, read_summary


class SpellingIssue(Protocol):
    rule_id: str
    summary: str
    snippet: str


@dataclass(frozen=True)
class SpellingRow:
    """One word on one page: as written, what to write instead, and its sentence."""

    word: str
    suggestions: list[str]
    sentence: str
    us: bool


def spelling_rows(issues: Iterable[SpellingIssue]) -> list[SpellingRow]:
    """The table's rows, in the order found; every value still the page's own text, for the
    template to escape."""
    rows = []
    for issue in issues:
        word, offered = read_summary(issue.summary)
        rows.append(SpellingRow(word, offered, issue.snippet, issue.rule_id == US_SPELLING))
    return rows


def spelling_problems(issues: list[SpellingIssue]) -> list[str]:
    """ "2 spelling mistakes", "1 US spelling": for the list of a page's other problems."""
    us = sum(1 for i in issues if i.rule_id == US_SPELLING)
    found = [plural(len(issues) - us, "spelling mistake")] if len(issues) > us else []
    return found + ([plural(us, "US spelling")] if us else [])
