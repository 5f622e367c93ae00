"""Team names: the default owner, and a name read from a page made fit to show."""

from __future__ import annotations

from vocabulary.text import one_line

# Who owns what no rule gives to another team, unless ownership.default_team says otherwise.
DEFAULT_TEAM = "Unassigned"
TEAM_NAME_LIMIT = 80


def team_name(value: str | None) -> str:
    """A team name read from a page: one line of at most TEAM_NAME_LIMIT characters."""
    return one_line(value, TEAM_NAME_LIMIT)
