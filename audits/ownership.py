"""Decide which team owns a page: meta tag, then regex rules, then the longest path prefix."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from vocabulary.teams import DEFAULT_TEAM, team_name


@dataclass(frozen=True)
class OwnershipRules:
    """Compiled ownership rules: (regex, team) in file order and (prefix, team)."""

    patterns: tuple[tuple[re.Pattern[str], str], ...]
    prefixes: tuple[tuple[str, str], ...]
    meta_teams: frozenset[str]
    default_team: str = DEFAULT_TEAM


def compile_rules(teams: Sequence, default_team: str = DEFAULT_TEAM) -> OwnershipRules:
    """Build rules from configured teams (objects with name, paths and patterns)."""
    patterns = tuple((re.compile(p), t.name) for t in teams for p in t.patterns)
    prefixes = tuple(
        sorted(
            ((p, t.name) for t in teams for p in t.paths),
            key=lambda item: len(item[0]),
            reverse=True,
        )
    )
    return OwnershipRules(patterns, prefixes, frozenset(t.name for t in teams), default_team)


def owner_for(path: str, meta_value: str | None, rules: OwnershipRules) -> str:
    """The owning team of a page, given its URL path and the configured meta tag's value.

    A meta value names its team directly, so an editor's CMS field wins over URL rules;
    an unknown team name in the meta tag is still honoured, because the CMS knows best.
    The page wrote that name, so it is kept to one line of printable text, 80 characters.
    """
    if meta_value and (name := team_name(meta_value)):
        return name
    for pattern, team in rules.patterns:
        if pattern.search(path):
            return team
    for prefix, team in rules.prefixes:
        if path.startswith(prefix):
            return team
    return rules.default_team
