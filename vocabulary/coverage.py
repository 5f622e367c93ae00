"""Which WCAG 2.1 AA success criteria the rules a scan ran can decide, and which need a person."""

from __future__ import annotations

from collections.abc import Iterable

from vocabulary.checks import OWN_RULES
from vocabulary.explanations import all_explanations
from vocabulary.wcag import CRITERION_LEVELS, CRITERION_NAMES

# Added in WCAG 2.2: not part of the 2.1 AA standard the regulations and the monitoring use.
WCAG22_ONLY = frozenset(("2.4.11", "2.5.7", "2.5.8", "3.2.6", "3.3.7", "3.3.8"))

# Every WCAG 2.1 level A and AA success criterion, in the standard's order.
WCAG21_AA = tuple(
    number
    for number in CRITERION_NAMES
    if CRITERION_LEVELS[number] in ("A", "AA") and number not in WCAG22_ONLY
)


def criteria_of_rule(rule_id: str) -> tuple[str, ...]:
    """The success criteria a rule checks (one of siteaudit's own, or an axe rule explained
    in vocabulary/explanations.toml); none for a best-practice or unknown rule."""
    if rule_id in OWN_RULES:
        return OWN_RULES[rule_id].criteria
    explanation = all_explanations().get(rule_id)
    return tuple(c.number for c in explanation.criteria) if explanation else ()


def covered_criteria(rule_ids: Iterable[str], level: str | None) -> set[str]:
    """The WCAG 2.1 AA criteria some rule that ran checks, at or below the scan's level
    ("2.1-AA", "2.0-A"...): an A-level scan's rules say nothing about AA criteria."""
    only_a = bool(level) and str(level).endswith("-A")
    allowed = {"A"} if only_a else {"A", "AA"}
    return {
        number
        for rule in rule_ids
        for number in criteria_of_rule(rule)
        if number in WCAG21_AA and CRITERION_LEVELS[number] in allowed
    }


def criterion_title(number: str) -> str:
    """ "1.4.3 Contrast (Minimum) (Level AA)", or the number alone if it is unknown."""
    if number not in CRITERION_NAMES:
        return number
    return f"{number} {CRITERION_NAMES[number]} (Level {CRITERION_LEVELS[number]})"


def criterion_order(number: str) -> tuple[int, ...]:
    """A key that sorts "1.4.10" after "1.4.3", as the standard lists them."""
    return tuple(int(part) if part.isdigit() else 0 for part in number.split("."))
