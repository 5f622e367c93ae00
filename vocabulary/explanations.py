"""Plain-English explanations of axe-core's rules for page editors, read from explanations.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .wcag import CRITERION_LEVELS, CRITERION_NAMES

EXPLANATIONS_FILE = Path(__file__).with_name("explanations.toml")

# Who usually fixes a problem: an editor in the content system, the team that owns the site's
# shared templates, styles and settings, or a developer changing the code behind them.
WHO_FIXES = ("page editor", "web team", "developer")

# The prose fields, in the order a person reads them; each is one or more plain sentences.
TEXT_FIELDS = ("what_is_wrong", "who_it_affects", "how_to_fix", "tell_the_developer")
FIELDS = (*TEXT_FIELDS, "who_fixes", "criteria")
# The kinds of finding explained here; the statement's rules (audits/statement.py) begin so.
EXPLAINED_KINDS = ("accessibility", "statement")
STATEMENT_PREFIX = "statement-"


@dataclass(frozen=True)
class Criterion:
    """A WCAG success criterion: "1.1.1", "Non-text Content", "A"."""

    number: str
    name: str
    level: str

    def __str__(self) -> str:
        return f"{self.number} {self.name} (Level {self.level})"


@dataclass(frozen=True)
class Explanation:
    """What an axe rule's failure means for an editor, and who fixes it.

    `criteria` is empty for a best-practice rule, which no WCAG criterion requires.
    """

    rule_id: str
    what_is_wrong: str
    who_it_affects: str
    how_to_fix: str
    tell_the_developer: str
    who_fixes: str
    criteria: tuple[Criterion, ...]

    def texts(self) -> list[str]:
        """The prose fields in reading order, as blocks of text."""
        return [getattr(self, name) for name in TEXT_FIELDS]

    def standard(self) -> str:
        """The criteria in words, or a note that the rule is good practice only (or the
        law's, for the accessibility statement)."""
        if self.rule_id.startswith(STATEMENT_PREFIX):
            return "Not a WCAG criterion: the accessibility regulations 2018 (regulation 8)"
        if not self.criteria:
            return "Good practice: not required by WCAG"
        return "; ".join(str(c) for c in self.criteria)


def explanation_for(rule_id: str) -> Explanation | None:
    """The explanation of an axe rule, or None for a rule without one."""
    return all_explanations().get(rule_id)


def explanation_of(kind: str, rule_id: str) -> Explanation | None:
    """A finding's explanation: an accessibility rule's, or the statement's (a content
    check never borrows an axe rule's of the same id)."""
    return explanation_for(rule_id) if kind in EXPLAINED_KINDS else None


@cache
def all_explanations() -> dict[str, Explanation]:
    """Every explanation in explanations.toml, by rule id."""
    data = tomllib.loads(EXPLANATIONS_FILE.read_text(encoding="utf-8"))
    return {rule_id: _explanation(rule_id, entry) for rule_id, entry in data.items()}


def _explanation(rule_id: str, entry: dict[str, Any]) -> Explanation:
    where = f"{EXPLANATIONS_FILE.name}: [{rule_id}]"
    if missing := [f for f in FIELDS if f not in entry]:
        raise ValueError(f"{where} is missing {', '.join(missing)}")
    if extra := sorted(set(entry) - set(FIELDS)):
        raise ValueError(f"{where} has unknown keys {', '.join(extra)}")
    if entry["who_fixes"] not in WHO_FIXES:
        raise ValueError(f"{where}.who_fixes must be one of {', '.join(WHO_FIXES)}")
    texts = {name: " ".join(str(entry[name]).split()) for name in TEXT_FIELDS}
    criteria = tuple(_criterion(where, number) for number in entry["criteria"])
    return Explanation(rule_id, **texts, who_fixes=entry["who_fixes"], criteria=criteria)


def _criterion(where: str, number: str) -> Criterion:
    if number not in CRITERION_NAMES:
        raise ValueError(f"{where}.criteria names {number!r}, which is not a WCAG criterion")
    return Criterion(number, CRITERION_NAMES[number], CRITERION_LEVELS[number])
