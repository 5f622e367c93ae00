"""The page score: the documented worked example, and the promises the docs make."""

from __future__ import annotations

import itertools
from dataclasses import astuple

from audits.score import ScoredFinding, mean_score, page_score
from reports.score_reasons import score_reasons
from vocabulary.costs import problem_costs


def a11y(rule: str, impact: str, level: str | None, n: int = 1) -> list[ScoredFinding]:
    return [ScoredFinding("accessibility", rule, impact, level, "violation")] * n


def test_worked_example_from_the_docs() -> None:
    findings = [
        *a11y("image-alt", "critical", "A", 2),
        *a11y("color-contrast", "serious", "AA"),
        ScoredFinding("readability", "reading-age", "minor", None, "violation"),
        ScoredFinding("stale", "stale", "moderate", None, "violation"),
        ScoredFinding("accessibility", "region", "moderate", None, "needs-review"),
    ]
    assert page_score(findings) == 56.2


def test_layout_example_from_the_docs() -> None:
    def found(kind: str, rule: str, impact: str, scope: str) -> ScoredFinding:
        level = "A" if kind == "accessibility" else None
        return ScoredFinding(kind, rule, impact, level, "violation", scope)

    findings = [
        found("accessibility", "image-alt", "critical", "content"),
        found("broken-link", "broken-link-internal", "serious", "content"),
        found("accessibility", "image-alt", "critical", "template"),
        found("broken-link", "broken-link-internal", "serious", "template"),
    ]
    # The page's own image and the footer's are two problems, as vocabulary/problems.py
    # counts them, each costing in full.
    assert [(p.rule_id, p.scope, p.cost) for p in problem_costs(findings)] == [
        ("image-alt", "content", 10.0),
        ("broken-link-internal", "content", 6.0),
        ("image-alt", "template", 10.0),
        ("broken-link-internal", "template", 6.0),
    ]
    assert page_score(findings) == 52.7
    assert score_reasons([astuple(f) for f in findings], "Web Team") == [
        "2 problems in the shared layout (for Web Team to fix)",
        "1 accessibility problem on this page (1 critical)",
        "1 broken link",
    ]


def test_a_page_without_problems_scores_100() -> None:
    assert page_score([]) == 100.0


def test_critical_costs_more_than_minor() -> None:
    assert page_score(a11y("x", "critical", "A")) < page_score(a11y("x", "minor", "A"))


def test_level_a_costs_more_than_aa() -> None:
    assert page_score(a11y("x", "serious", "A")) < page_score(a11y("x", "serious", "AA"))


def test_adding_any_finding_never_raises_the_score() -> None:
    pool = [
        *a11y("image-alt", "critical", "A"),
        *a11y("color-contrast", "serious", "AA"),
        *a11y("region", "moderate", None),
        ScoredFinding("readability", "reading-age", "minor", None, "violation"),
        ScoredFinding("stale", "stale", "moderate", None, "violation"),
        ScoredFinding("accessibility", "label", "critical", "A", "needs-review"),
        ScoredFinding("accessibility", "image-alt", "critical", "A", "violation", "template"),
    ]
    for size in range(len(pool)):
        for base in itertools.combinations(pool, size):
            for extra in pool:
                assert page_score([*base, extra]) <= page_score(list(base))


def test_team_score_is_the_mean_of_its_pages() -> None:
    assert mean_score([100.0, 50.0, None]) == 75.0
    assert mean_score([]) is None
