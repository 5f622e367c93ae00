"""siteaudit's own accessibility checks beside axe-core: their names and the rules they report.

axe-core decides what one page's DOM shows. The checks here find what it cannot: how a
page behaves in the browser (reflow, text spacing, text size, focus, keyboard, hover) and
what only the whole site shows (titles, link purpose, headings and labels, consistent
navigation, more than one way to find a page). Their findings are stored like axe's
(`kind` accessibility, `wcag` and `level` filled) under rule ids that all begin
"siteaudit-", which no axe-core rule does.
"""

from __future__ import annotations

from dataclasses import dataclass

from vocabulary.wcag import understanding_url

RULE_PREFIX = "siteaudit-"

# Every check a scan can run, in the order a page meets them: axe-core first, on the page as
# loaded; then the browser checks, each leaving the page as it found it (docs/design.md);
# then, after the crawl, the checks across the site's stored pages.
AXE = "axe"
BROWSER_CHECKS = ("focus", "keyboard", "hover", "text-spacing", "resize-text", "reflow")
# Those that change the page's layout (its styles, its viewport): they run after the
# pictures (docs/design.md), so that an audit without their findings never lays the page
# out again at its own size to picture axe's.
LAYOUT_CHECKS = ("text-spacing", "resize-text", "reflow")
# "statement" judges the accessibility statement (audits/statement.py): not a WCAG rule.
SITE_CHECKS = ("titles", "links", "headings", "consistency", "ways", "statement")
CHECKS = (AXE, *BROWSER_CHECKS, *SITE_CHECKS)


@dataclass(frozen=True)
class OwnRule:
    """One rule a check of siteaudit's own reports, with what axe gives for its rules."""

    id: str
    check: str
    criteria: tuple[str, ...]  # WCAG success criteria numbers, the first the main one
    level: str  # "A" or "AA": the lowest level of its criteria
    impact: str  # its usual impact, as axe's: minor, moderate, serious, critical
    help: str  # one line, as axe's `help`

    @property
    def help_url(self) -> str:
        """W3C's Understanding page of the rule's main criterion."""
        return understanding_url(self.criteria[0])


def _rule(
    id: str, check: str, criteria: tuple[str, ...], level: str, impact: str, help: str
) -> OwnRule:
    return OwnRule(RULE_PREFIX + id, check, criteria, level, impact, help)


OWN_RULES: dict[str, OwnRule] = {
    r.id: r
    for r in (
        # --- in the browser, on the page axe-core audited ---
        _rule("focus-visible", "focus", ("2.4.7",), "AA", "serious",
              "Keyboard focus must be visible"),
        _rule("focus-lost", "focus", ("2.1.1", "2.4.7", "3.2.1"), "A", "serious",
              "An element must not remove keyboard focus when it receives it"),
        _rule("keyboard-trap", "focus", ("2.1.2",), "A", "critical",
              "Keyboard focus must be able to leave every element"),
        _rule("no-keyboard", "keyboard", ("2.1.1",), "A", "serious",
              "Elements that respond to a click must take keyboard focus"),
        _rule("mouse-only", "keyboard", ("2.1.1",), "A", "serious",
              "What a mouse can do must be possible with the keyboard"),
        _rule("hover-dismiss", "hover", ("1.4.13",), "AA", "moderate",
              "Content shown on hover or focus must close with Escape"),
        _rule("text-spacing", "text-spacing", ("1.4.12",), "AA", "serious",
              "Text must not be cut off when a reader widens its spacing"),
        _rule("resize-text", "resize-text", ("1.4.4",), "AA", "serious",
              "Text must not be cut off at twice its size"),
        _rule("reflow", "reflow", ("1.4.10",), "AA", "serious",
              "Content must fit 320 CSS pixels wide without scrolling sideways"),
        # --- across the site, after the crawl ---
        _rule("title-missing", "titles", ("2.4.2",), "A", "serious", "Pages must have a title"),
        _rule("title-generic", "titles", ("2.4.2",), "A", "serious",
              "A page's title must say what the page is about"),
        _rule("title-duplicate", "titles", ("2.4.2",), "A", "moderate",
              "Pages with different content must have different titles"),
        _rule("link-purpose", "links", ("2.4.4",), "A", "serious",
              "A link's text, with its context, must say where it goes"),
        _rule("link-ambiguous", "links", ("2.4.4",), "A", "moderate",
              "Links with the same text on a page must go to the same place"),
        _rule("heading-empty", "headings", ("2.4.6", "1.3.1"), "AA", "moderate",
              "Headings must not be empty"),
        _rule("heading-duplicate", "headings", ("2.4.6",), "AA", "minor",
              "Headings on a page must say how their sections differ"),
        _rule("label-duplicate", "headings", ("2.4.6", "3.3.2"), "AA", "moderate",
              "Form fields that ask for different things must have different labels"),
        _rule("navigation-order", "consistency", ("3.2.3",), "AA", "moderate",
              "Shared navigation must keep the same order on every page"),
        _rule("identification", "consistency", ("3.2.4",), "AA", "moderate",
              "The same function must have the same name on every page"),
        _rule("multiple-ways", "ways", ("2.4.5",), "AA", "moderate",
              "A site must offer more than one way to find a page"),
    )
}  # fmt: skip


def rules_of(checks: tuple[str, ...] | list[str]) -> list[str]:
    """The ids of the own rules the given checks report, sorted."""
    return sorted(r.id for r in OWN_RULES.values() if r.check in checks)


def parse_checks(text: str) -> tuple[str, ...]:
    """The checks named in "axe,reflow,focus" (or "all"), in CHECKS order; ValueError naming
    an unknown one and the known ones."""
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    if names == ["all"]:
        return CHECKS
    if not names:
        raise ValueError(f"no checks named: give some of {', '.join(CHECKS)} (or all)")
    if unknown := [n for n in names if n not in CHECKS]:
        raise ValueError(f"unknown check {unknown[0]!r}: the checks are {', '.join(CHECKS)}")
    return tuple(c for c in CHECKS if c in names)
