"""What lowered a page's score, in plain words, from the very costs the score was made of."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from vocabulary.costs import ProblemCost, ScoredFinding, problem_costs
from vocabulary.problems import plural

STALE_WORDS = {
    "stale": "out of date",
    "review-overdue": "its review date has passed",
    "archive-candidate": "due for the archive",
}


def score_reasons(rows: Iterable[tuple], layout_owner: str | None) -> list[str]:
    """Each kind of problem that lowered a page's score, the costliest first, from the page's
    stored findings as the score read them (store/scores.py findings_by_page): for example
    "2 accessibility problems on this page (1 critical)", "1 broken link",
    "1 problem in the shared layout (for Web Team to fix)"."""
    parts: dict[str, list[ProblemCost]] = defaultdict(list)
    for problem in problem_costs(ScoredFinding(*row) for row in rows):
        parts[part_of(problem)].append(problem)
    costliest = sorted(parts.items(), key=lambda part: (-sum(p.cost for p in part[1]), part[0]))
    return [words(name, problems, layout_owner) for name, problems in costliest]


def part_of(problem: ProblemCost) -> str:
    """Which words a problem goes under: the layout's, whatever their kind, are together."""
    if problem.scope == "template":
        return "layout"
    return problem.rule_id if problem.kind == "stale" else problem.kind


def words(part: str, problems: list[ProblemCost], layout_owner: str | None) -> str:
    count = len(problems)
    if part == "layout":
        fixer = f" (for {layout_owner} to fix)" if layout_owner else ""
        return f"{plural(count)} in the shared layout{fixer}"
    if part == "accessibility":
        impacts = [
            f"{n} {impact}"
            for impact in ("critical", "serious")
            if (n := sum(1 for p in problems if p.impact == impact))
        ]
        detail = f" ({', '.join(impacts)})" if impacts else ""
        return f"{plural(count, 'accessibility problem')} on this page{detail}"
    if part == "broken-link":
        return plural(sum(p.elements for p in problems), "broken link")
    if part == "readability":
        return "hard to read"
    if part == "spelling":
        return plural(sum(p.elements for p in problems), "spelling mistake")
    if part in STALE_WORDS:
        return STALE_WORDS[part]
    if part == "document":
        return f"{plural(count)} in the documents it links to"
    return f"{plural(count)} ({part})"


def sentence(reasons: list[str]) -> str:
    """ "Lowered by: a, b and c." (empty when nothing lowered the score)."""
    if not reasons:
        return ""
    listed = reasons[0] if len(reasons) == 1 else f"{', '.join(reasons[:-1])} and {reasons[-1]}"
    return f"Lowered by: {listed}."
