"""A 0-100 score for each page from its findings; team and site scores derive from it.

The formula (docs/scoring.md explains why, with a worked example that is also a test):

    penalty = sum over each problem (kind, rule; in the page or in the shared layout) of
              impact weight * level factor * (1 + log2(number of elements))
    score   = 100 * exp(-penalty / 50), rounded to one decimal

Needs-review results do not count: nobody knows yet whether they are problems.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

# The formula's terms (weights, level factors, each problem's cost) are shared with the
# report's words on what lowered a score.
from vocabulary.costs import ScoredFinding, problem_costs

__all__ = ["SCALE", "ScoredFinding", "mean_score", "page_score", "penalty"]

SCALE = 50.0


def penalty(findings: Iterable[ScoredFinding]) -> float:
    """The sum of the page's problems' costs (vocabulary/costs.py)."""
    return sum(problem.cost for problem in problem_costs(findings))


def page_score(findings: Iterable[ScoredFinding]) -> float:
    """100 for a page with no problems; never higher after a problem is added."""
    return round(100 * math.exp(-penalty(findings) / SCALE), 1)


def mean_score(scores: Iterable[float | None]) -> float | None:
    """A team's or the site's score: the mean of its pages' scores."""
    known = [s for s in scores if s is not None]
    return round(sum(known) / len(known), 1) if known else None
