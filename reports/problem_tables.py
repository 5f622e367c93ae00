"""The index's tables of accessibility problems by WCAG success criterion and by rule."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from vocabulary.decisions import is_decided
from vocabulary.problems import Countable, ProblemCounts, count_problems
from vocabulary.wcag import CRITERION_LEVELS, CRITERION_NAMES

# Rules axe-core ties to no success criterion (best practice) are listed under this.
NO_CRITERION = ""


class Grouped(Countable, Protocol):
    """A finding as the tables need it: countable, with its criteria, rule help and team."""

    @property
    def wcag(self) -> str: ...
    @property
    def help(self) -> str: ...
    @property
    def team(self) -> str | None: ...


@dataclass(frozen=True)
class ProblemRow:
    """One criterion's or rule's problems, counted as every output counts them."""

    key: str  # the criterion's number ("" for none) or the rule id
    name: str  # the criterion's name, or the rule's help text
    level: str | None  # the criterion's WCAG level
    counts: ProblemCounts
    teams: list[str]


def by_criterion(findings: Iterable[Grouped]) -> list[ProblemRow]:
    """A row for each success criterion the violations fail (a rule can fail several)."""
    return rows(findings, criteria_of, criterion_row)


def by_rule(findings: Iterable[Grouped]) -> list[ProblemRow]:
    """A row for each rule; their problems add up to the site's."""
    return rows(findings, lambda f: [f.rule_id], rule_row)


def criteria_of(finding: Grouped) -> list[str]:
    return [n for n in finding.wcag.split(",") if n] or [NO_CRITERION]


def criterion_row(key: str, found: list[Grouped], counts: ProblemCounts) -> ProblemRow:
    name = CRITERION_NAMES.get(key, "") if key else "No success criterion (best practice)"
    return ProblemRow(key, name, CRITERION_LEVELS.get(key), counts, teams_of(found))


def rule_row(key: str, found: list[Grouped], counts: ProblemCounts) -> ProblemRow:
    return ProblemRow(key, found[0].help, None, counts, teams_of(found))


def rows(
    findings: Iterable[Grouped],
    keys: Callable[[Grouped], list[str]],
    make: Callable[[str, list[Grouped], ProblemCounts], ProblemRow],
) -> list[ProblemRow]:
    """Violations grouped by key, each group counted by count_problems, the rows sorted by
    pages affected (then problems, elements, key)."""
    grouped: dict[str, list[Grouped]] = defaultdict(list)
    for finding in findings:
        counts = finding.kind == "accessibility" and finding.outcome == "violation"
        if counts and not is_decided(finding.decision):  # decided: counted nowhere
            for key in keys(finding):
                grouped[key].append(finding)
    made = [make(key, found, count_problems(found)) for key, found in grouped.items()]
    return sorted(
        made, key=lambda r: (-r.counts.pages, -r.counts.problems, -r.counts.elements, r.key)
    )


def teams_of(found: list[Grouped]) -> list[str]:
    return sorted({f.team for f in found if f.team})
