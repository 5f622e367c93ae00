"""A 0-100 score for each page from its findings; team and site scores derive from it.

The formula (docs/scoring.md explains why, with a worked example that is also a test):

    penalty = sum over each problem group (kind, rule) of
              impact weight * level factor * (1 + log2(number of elements))
    score   = 100 * exp(-penalty / 50), rounded to one decimal

Needs-review results do not count: nobody knows yet whether they are problems.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from vocabulary.impacts import LEAST

# A weight for each of the vocabulary's impacts (vocabulary/impacts.py).
IMPACT_WEIGHTS = {"critical": 10.0, "serious": 6.0, "moderate": 3.0, "minor": 1.0}
# WCAG level A failures block people outright; AA ones hinder; best practice is advice.
LEVEL_FACTORS = {"A": 1.0, "AA": 0.8, None: 0.5}
# Content findings (readability, stale, broken links, documents) have no WCAG level.
CONTENT_LEVEL_FACTOR = 1.0
SCALE = 50.0


@dataclass(frozen=True)
class ScoredFinding:
    kind: str
    rule_id: str
    impact: str | None
    level: str | None
    outcome: str


def weight(impact: str | None) -> float:
    """An impact's weight; no impact, or one axe-core does not have, weighs as minor."""
    return IMPACT_WEIGHTS.get(impact or LEAST, IMPACT_WEIGHTS[LEAST])


def group_penalty(impact: str | None, level_factor: float, elements: int) -> float:
    """One problem group: its worst impact, scaled by level, growing slowly with repeats."""
    return weight(impact) * level_factor * (1 + math.log2(elements))


def penalty(findings: Iterable[ScoredFinding]) -> float:
    groups: dict[tuple[str, str], list[ScoredFinding]] = defaultdict(list)
    for finding in findings:
        if finding.outcome == "violation":
            groups[(finding.kind, finding.rule_id)].append(finding)
    total = 0.0
    for (kind, _), members in groups.items():
        worst = max(members, key=lambda f: weight(f.impact))
        factor = (
            LEVEL_FACTORS.get(worst.level, 0.5) if kind == "accessibility" else CONTENT_LEVEL_FACTOR
        )
        total += group_penalty(worst.impact, factor, len(members))
    return total


def page_score(findings: Iterable[ScoredFinding]) -> float:
    """100 for a page with no problems; never higher after a problem is added."""
    return round(100 * math.exp(-penalty(findings) / SCALE), 1)


def mean_score(scores: Iterable[float | None]) -> float | None:
    """A team's or the site's score: the mean of its pages' scores."""
    known = [s for s in scores if s is not None]
    return round(sum(known) / len(known), 1) if known else None
