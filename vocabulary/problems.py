"""What one problem is, so that the summary, the report, the CSV and the email count alike.

A problem is one rule failing on one page, however many elements on that page fail it; a
problem in the shared layout (scope "template") is one rule failing in the layout, counted
once for the whole site however many pages show it. Its impact is its worst element's.
Elements are counted too, apart. A finding a person has decided on (a live decision, see
vocabulary/decisions.py) is not counted; one whose decision has expired is. docs/scoring.md
explains why.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from vocabulary.decisions import is_decided
from vocabulary.impacts import IMPACTS, severity

WORD = "problem"


class Countable(Protocol):
    """What counting needs of a finding (a stored Finding and a report's Issue both have it)."""

    @property
    def kind(self) -> str: ...
    @property
    def rule_id(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def scope(self) -> str: ...
    @property
    def impact(self) -> str | None: ...
    @property
    def outcome(self) -> str: ...
    @property
    def fingerprint(self) -> str | None: ...
    @property
    def decision(self) -> str | None: ...


@dataclass(frozen=True)
class ProblemCounts:
    """Problems of one kind, by impact (each of IMPACTS, unknown counted as minor), the
    elements they cover and the pages they are on (a layout problem is on every page that
    shows it)."""

    problems: int = 0
    elements: int = 0
    by_impact: dict[str, int] = field(default_factory=lambda: dict.fromkeys(IMPACTS, 0))
    pages: int = 0

    def impact(self, name: str) -> int:
        return self.by_impact.get(name, 0)


def problem_key(finding: Countable) -> tuple[str, str, str]:
    """(kind, rule, page) of the problem a finding belongs to; the page is "" in the layout."""
    page = "" if finding.scope == "template" else finding.url
    return (finding.kind or "", finding.rule_id or "", page)


def element_key(finding: Countable, row: int) -> tuple[str, str | int]:
    """One element: each finding on a page is one; a layout element (one fingerprint) is
    one, whichever pages show it."""
    if finding.scope == "template":
        return ("", finding.fingerprint or "")
    return (finding.url, row)


def count_problems(findings: Iterable[Countable], kind: str = "accessibility") -> ProblemCounts:
    """Violations of one kind counted as problems (see the module docstring)."""
    worst: dict[tuple[str, str, str], int] = {}
    elements: dict[tuple[str, str, str], set[tuple[str, str | int]]] = defaultdict(set)
    pages: set[str] = set()
    for row, finding in enumerate(findings):
        if finding.outcome != "violation" or finding.kind != kind or is_decided(finding.decision):
            continue
        key = problem_key(finding)
        worst[key] = max(worst.get(key, 0), severity(finding.impact))
        elements[key].add(element_key(finding, row))
        pages.add(finding.url)
    by_impact = dict.fromkeys(IMPACTS, 0)
    for level in worst.values():
        by_impact[IMPACTS[len(IMPACTS) - 1 - level]] += 1
    return ProblemCounts(len(worst), sum(len(e) for e in elements.values()), by_impact, len(pages))


def plural(count: int, word: str = WORD) -> str:
    """A count and its word: 1 problem, 2 problems."""
    return f"{count} {word}{'' if count == 1 else 's'}"
