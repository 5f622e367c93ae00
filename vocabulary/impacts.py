"""axe-core's four impacts, most severe first: the one order every stage and report uses."""

from __future__ import annotations

IMPACTS = ("critical", "serious", "moderate", "minor")
# A result without an impact (a needs-review one, a content finding) is judged as minor.
LEAST = IMPACTS[-1]


def impact_rank(impact: str | None) -> int:
    """For sorting, most severe first: no impact next, and an impact axe-core does not
    have last."""
    if impact in IMPACTS:
        return IMPACTS.index(impact)
    return len(IMPACTS) if impact is None else len(IMPACTS) + 1


def severity(impact: str | None) -> int:
    """For comparing, higher is worse: minor 0 to critical 3; no impact, or one axe-core
    does not have, counts as minor."""
    return len(IMPACTS) - 1 - IMPACTS.index(impact if impact in IMPACTS else LEAST)


def at_least(impact: str | None, threshold: str) -> bool:
    """Whether an impact is as severe as the threshold, or more."""
    return severity(impact) >= severity(threshold)
