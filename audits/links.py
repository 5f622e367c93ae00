"""Broken links: a link whose target answered an error, or could not be reached."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from vocabulary.findings import Finding

# Why a link was not followed, rather than broken: not a fault of the page.
NOT_BROKEN_ERRORS = ("disallowed by robots.txt",)
LINKS_GUIDE = "https://www.gov.uk/guidance/content-design/links"


@dataclass(frozen=True)
class CheckedLink:
    """A link from a page, with what its target answered once the crawl fetched it."""

    source: str
    target: str
    text: str | None
    internal: bool
    status: int | None
    error: str | None


def broken_link_finding(link: CheckedLink) -> Finding | None:
    """A finding on the linking page if the link is broken: its target answered 400 or
    more, or could not be reached for a reason other than the site's robots.txt."""
    if link.error in NOT_BROKEN_ERRORS:
        return None
    if link.error is None and (link.status is None or link.status < 400):
        return None
    where = "on this site" if link.internal else "on another site"
    outcome = f"answered {link.status}" if link.status else f"could not be reached ({link.error})"
    label = f"“{link.text}”" if link.text else "A link with no text"
    return Finding(
        kind="broken-link",
        rule_id="broken-link-internal" if link.internal else "broken-link-external",
        impact="serious" if link.internal else "moderate",
        snippet=link.target,
        summary=f"{label} goes to a page {where} that {outcome}.\nUpdate the link to the "
        "page's new address, or remove it.",
        help="Broken link",
        help_url=LINKS_GUIDE,
        fingerprint="broken-link:" + hashlib.sha256(link.target.encode()).hexdigest()[:16],
    )
