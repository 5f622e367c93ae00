"""What each problem on a page costs its score: the terms of the one score formula.

They live here, below both the scorer (audits/score.py) and the report, so that the score
and the words saying what lowered it (reports/score_reasons.py) come from the same costs.
docs/scoring.md explains the figures.
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


@dataclass(frozen=True)
class ScoredFinding:
    kind: str
    rule_id: str
    impact: str | None
    level: str | None
    outcome: str
    scope: str = "content"  # "template": in the shared layout, a problem apart from the page's


@dataclass(frozen=True)
class ProblemCost:
    """One problem on a page (one rule, in the page's own content or in the shared layout)
    and what it costs the page's score."""

    kind: str
    rule_id: str
    scope: str
    impact: str | None  # its worst element's
    elements: int
    cost: float


def weight(impact: str | None) -> float:
    """An impact's weight; no impact, or one axe-core does not have, weighs as minor."""
    return IMPACT_WEIGHTS.get(impact or LEAST, IMPACT_WEIGHTS[LEAST])


def group_penalty(impact: str | None, level_factor: float, elements: int) -> float:
    """One problem group: its worst impact, scaled by level, growing slowly with repeats."""
    return weight(impact) * level_factor * (1 + math.log2(elements))


def problem_costs(findings: Iterable[ScoredFinding]) -> list[ProblemCost]:
    """A page's violations grouped as problems, (kind, rule) in its own content and apart
    in the shared layout (as vocabulary/problems.py counts them), each with its cost."""
    groups: dict[tuple[str, str, str], list[ScoredFinding]] = defaultdict(list)
    for finding in findings:
        if finding.outcome == "violation":
            groups[(finding.kind, finding.rule_id, finding.scope)].append(finding)
    costs = []
    for (kind, rule_id, scope), members in groups.items():
        worst = max(members, key=lambda f: weight(f.impact))
        factor = (
            LEVEL_FACTORS.get(worst.level, 0.5) if kind == "accessibility" else CONTENT_LEVEL_FACTOR
        )
        cost = group_penalty(worst.impact, factor, len(members))
        costs.append(ProblemCost(kind, rule_id, scope, worst.impact, len(members), cost))
    return costs
