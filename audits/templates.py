"""Template scope: the same problem on the same element of many pages is the shared layout's."""

from __future__ import annotations

from collections.abc import Mapping

# The kinds of finding whose fingerprint names one thing on a page that the layout can carry:
# an element (axe-core's findings) or a link's target (a broken link: the same target has the
# same fingerprint on every page). Readability and freshness describe a page's own words (their
# fingerprint is just the rule, the same on every page), and a document is one address, listed
# once already: the layout gives documents their owner instead (store/links.py). A statement
# finding is on one page, but a missing link to the statement is the same on every page
# without it: a footer without the link is the layout's (audits/statement.py).
LAYOUT_KINDS = ("accessibility", "broken-link", "statement")


def template_threshold(audited_pages: int, min_pages: int, min_share: float) -> int:
    """How many pages must share a problem for it to live in the template: at least
    templates.min_pages, and at least templates.min_share of the pages audited."""
    return max(min_pages, int(min_share * audited_pages + 0.999999))


def template_fingerprints(pages_with: Mapping[str, int], threshold: int) -> set[str]:
    """The fingerprints found on at least `threshold` pages (pages_with maps
    each fingerprint to the number of pages it is on)."""
    return {fingerprint for fingerprint, pages in pages_with.items() if pages >= threshold}
