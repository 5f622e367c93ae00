"""WCAG levels to axe-core tags, and axe tags back to success-criterion numbers."""

from __future__ import annotations

import re

# axe tags each rule with the levels it belongs to; a level includes every lower one.
LEVEL_TAGS = {
    "2.0-A": ("wcag2a",),
    "2.0-AA": ("wcag2a", "wcag2aa"),
    "2.1-A": ("wcag2a", "wcag21a"),
    "2.1-AA": ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa"),
    "2.2-A": ("wcag2a", "wcag21a", "wcag22a"),
    "2.2-AA": ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"),
}

# A criterion tag is "wcag" + principle + guideline + criterion digits (wcag1410 is 1.4.10);
# level tags such as wcag21aa end in letters and never match.
CRITERION_TAG = re.compile(r"^wcag(\d)(\d)(\d+)$")


def run_only_tags(level: str, best_practices: bool = False) -> list[str]:
    """The axe `runOnly` tags for a WCAG level such as "2.1-AA"."""
    tags = list(LEVEL_TAGS[level])
    if best_practices:
        tags.append("best-practice")
    return tags


def criteria_from_tags(tags: list[str]) -> list[str]:
    """Success criteria such as "1.1.1" named by a rule's axe tags, in tag order."""
    criteria = []
    for tag in tags:
        match = CRITERION_TAG.match(tag)
        if match and (number := ".".join(match.groups())) not in criteria:
            criteria.append(number)
    return criteria


def level_of(tags: list[str]) -> str | None:
    """The WCAG conformance level ("A" or "AA") a rule's tags place it at, if any."""
    levels = {t for t in tags if t.startswith("wcag") and t.endswith("a") and t[4:5].isdigit()}
    if any(t.endswith("aa") for t in levels):
        return "AA"
    return "A" if levels else None
