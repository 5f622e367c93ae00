"""The checks across the site that one page decides: its title, its links' purpose, its
headings and labels; and what it keeps (pages.structure) for the checks of the whole site.

Pure functions: a page's structure (audits/page_structure.py) in, findings out, stored like
axe-core's (kind accessibility, WCAG criteria and level from vocabulary.checks.OWN_RULES). A
violation only when the HTML makes it certain; needs-review, with what was measured, otherwise.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urljoin, urlsplit

from audits.fingerprint import fingerprints
from audits.memo import remembered
from audits.page_structure import Located, PageStructure
from audits.spelling import PageWord
from vocabulary.checks import OWN_RULES, RULE_PREFIX
from vocabulary.findings import Finding
from vocabulary.urls import ROOTED_HREF, origin_of

TITLE_MISSING = RULE_PREFIX + "title-missing"
TITLE_GENERIC = RULE_PREFIX + "title-generic"
TITLE_DUPLICATE = RULE_PREFIX + "title-duplicate"
LINK_PURPOSE = RULE_PREFIX + "link-purpose"
LINK_AMBIGUOUS = RULE_PREFIX + "link-ambiguous"
HEADING_EMPTY = RULE_PREFIX + "heading-empty"
HEADING_DUPLICATE = RULE_PREFIX + "heading-duplicate"
LABEL_DUPLICATE = RULE_PREFIX + "label-duplicate"
NAVIGATION_ORDER = RULE_PREFIX + "navigation-order"
IDENTIFICATION = RULE_PREFIX + "identification"
MULTIPLE_WAYS = RULE_PREFIX + "multiple-ways"
# Decided on each page as it is read (every scan: a reused audit does not copy them), and
# after the crawl from every page's title and pages.structure.
PAGE_RULES = (LINK_PURPOSE, LINK_AMBIGUOUS, HEADING_EMPTY, HEADING_DUPLICATE, LABEL_DUPLICATE)
SITE_RULES = (
    TITLE_MISSING,
    TITLE_GENERIC,
    TITLE_DUPLICATE,
    NAVIGATION_ORDER,
    IDENTIFICATION,
    MULTIPLE_WAYS,
)

# Titles that name no page: authoring tools' defaults and placeholders (WCAG failure F25).
GENERIC_TITLES = {
    "home", "home page", "homepage", "untitled", "untitled document", "untitled page",
    "page", "new page", "new page 1", "document", "index", "title", "no title", "welcome",
    "default", "page title", "enter the title of your document here", "my site",
    "website", "web page", "webpage", "test", "draft",
}  # fmt: skip
EMPTY_FIRST_PART = re.compile("\\s*[|\u2013\u2014:\u00b7\u2022-]\\s")
FILENAME_TITLE = re.compile(r"[\w.-]+\.(?:s?html?|php|aspx?|jsp|cfm|pdf|docx?|txt)", re.I)
# Link names that say nothing of where the link goes without their context.
GENERIC_LINKS = {
    "click here", "click", "here", "read more", "more", "more info", "more information",
    "this page", "this link", "link", "learn more", "find out more", "continue", "details",
    "go", "this", "click this link", "see more", "view more", "more details", "full story",
    "read the rest", "further information", "see here",
}  # fmt: skip
BARE_URL = re.compile(r"(?:https?://|www\.)\S+", re.I)
CONTEXT_WORDS = 3  # fewer words around a link than this is no context


@dataclass(frozen=True)
class Measured:
    """One result before it becomes a finding: the rule, the outcome, the element, what was
    measured."""

    rule_id: str
    outcome: str  # violation or needs-review
    at: Located
    summary: str


def own_findings(results: list[Measured]) -> list[Finding]:
    """Findings as axe-core's are stored, fingerprinted together (twins on a page apart)."""
    prints = fingerprints([(r.rule_id, list(r.at.selector), r.at.snippet) for r in results])
    return [finding(r, p) for r, p in zip(results, prints, strict=True)]


def finding(result: Measured, fingerprint: str, scope: str = "content") -> Finding:
    rule = OWN_RULES[result.rule_id]
    return Finding(
        kind="accessibility",
        rule_id=rule.id,
        outcome=result.outcome,
        impact=rule.impact,
        wcag=",".join(rule.criteria),
        level=rule.level,
        selector=json.dumps(list(result.at.selector)),
        snippet=result.at.snippet,
        summary=result.summary,
        help=rule.help,
        help_url=rule.help_url,
        fingerprint=fingerprint,
        scope=scope,
    )


TITLE_AT = Located(("title",), "<title>")
PAGE_AT = Located(("html",), "<html>")


# Each link's target and name is asked for by several checks, and a site's menus repeat the
# same links on every page: urljoin alone was a quarter of reading a page.
_TARGETS_KEPT = 1 << 14
_LONGEST_KEPT = 2048  # characters of a URL and href (or a name) remembered
_PUNCTUATION = re.compile(r"[^\w\s]")


@remembered(_TARGETS_KEPT, _LONGEST_KEPT)
def plain(text: str) -> str:
    """Lower case, punctuation and spacing gone: for comparing names and titles."""
    return " ".join(_PUNCTUATION.sub(" ", text.lower()).split())


def title_results(title: str | None) -> list[Measured]:
    """A title missing, or one any site would call generic (pages.title: None when empty)."""
    if not title or not title.strip():
        return [
            Measured(
                TITLE_MISSING, "violation", PAGE_AT, "The page has no <title>, or it is empty."
            )
        ]
    words = plain(title)
    if EMPTY_FIRST_PART.match(title):
        return [
            Measured(
                TITLE_GENERIC,
                "violation",
                TITLE_AT,
                f'The title "{title}" begins with a separator: the part that names this page '
                "is missing (the template was given no page name).",
            )
        ]
    if words in GENERIC_TITLES or FILENAME_TITLE.fullmatch(title.strip()):
        return [
            Measured(
                TITLE_GENERIC,
                "violation",
                TITLE_AT,
                f'The title is "{title}": it names no page (a default, placeholder or file name).',
            )
        ]
    return []


def link_results(url: str, structure: PageStructure) -> list[Measured]:
    """Links whose name says nothing, and one name for different places."""
    found = []
    for link in structure.links:
        name = plain(link.name)
        bare_url = BARE_URL.fullmatch(link.name) is not None
        if link.href.startswith("#") or not name or not (name in GENERIC_LINKS or bare_url):
            continue  # a place on this page is named by its section
        context = " ".join(filter(None, (link.context, link.heading, link.described)))
        # A heading above is context however short (WCAG technique H80); a few words around
        # a link are not. An address does say where a link goes: a person judges what is there.
        no_context = not link.heading and len(context.split()) < CONTEXT_WORDS
        if no_context and not bare_url:
            found.append(
                Measured(
                    LINK_PURPOSE,
                    "violation",
                    link.at,
                    f'The link\'s name is "{link.name}", which says nothing of where it goes, and '
                    "no sentence, paragraph, list item, table cell or aria-describedby around it "
                    "says either.",
                )
            )
        else:
            found.append(
                Measured(
                    LINK_PURPOSE,
                    "needs-review",
                    link.at,
                    f'The link\'s name is "{link.name}", which says little alone. Check that '
                    f"the text around it (or the heading above it) says where it goes: "
                    f'"{context[:200]}".',
                )
            )
    found += _ambiguous(url, structure)
    return found


def _ambiguous(url: str, structure: PageStructure) -> list[Measured]:
    """One result per name that leads to different places, on the first link of that name
    (a list of 80 "Read more" cards is one thing to look at, not 80)."""
    places: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for position, link in enumerate(structure.links):
        if (name := plain(link.name)) and not link.href.startswith("#"):
            places[name][same_place(target(url, link.href))].append((position, link))
    found = []
    for by_place in places.values():
        if len(by_place) < 2:
            continue
        links = sorted(lk for lks in by_place.values() for lk in lks)
        first = links[0][1]
        shown = ", ".join(sorted(by_place)[:4]) + (", ..." if len(by_place) > 4 else "")
        found.append(
            Measured(
                LINK_AMBIGUOUS,
                "needs-review",
                first.at,
                f'{len(links)} links on this page are named "{first.name}" but go to '
                f"{len(by_place)} places ({shown}). Check the text around each tells them "
                "apart, or give each a name of its own.",
            )
        )
    return found


# The layout's links (vocabulary.urls.ROOTED_HREF) are worked out once a site, not once a page.
def target(url: str, href: str) -> str:
    """Where a link goes, absolute; a javascript: or mailto: one as written."""
    if ROOTED_HREF.match(href):
        # A page URL no parser reads stays as it is: urljoin meets it, as it always did.
        with contextlib.suppress(ValueError):
            url = _origin(url)
    return _target(url, href)


@remembered(_TARGETS_KEPT, _LONGEST_KEPT)
def _origin(url: str) -> str:
    return origin_of(url)


@remembered(_TARGETS_KEPT, _LONGEST_KEPT)
def _target(url: str, href: str) -> str:
    try:
        return urljoin(url, href)
    except ValueError:
        # A bracketed host that is no IP address (`http://[menu]`): kept, its brackets
        # escaped so that every later reading of it as a URL succeeds.
        return href.replace("[", "%5B").replace("]", "%5D")


@remembered(_TARGETS_KEPT, _LONGEST_KEPT)
def same_place(url: str) -> str:
    """A URL as the place it leads to: /about and /about/ are one place."""
    return url.rstrip("/") if _split(url).path.count("/") > 1 else url


@remembered(_TARGETS_KEPT, _LONGEST_KEPT)
def _split(url: str) -> SplitResult:
    return urlsplit(url)


def heading_results(structure: PageStructure) -> list[Measured]:
    found = []
    seen: dict[tuple[int, str], int] = defaultdict(int)
    for heading in structure.headings:
        name = plain(heading.name)
        if not name:
            scripted = heading.scripted
            found.append(
                Measured(
                    HEADING_EMPTY,
                    "needs-review" if scripted else "violation",
                    heading.at,
                    f"The h{heading.level} heading has no text, image text or label"
                    + (
                        " in the HTML as sent; it has an id or is in a live region, so a script "
                        "may fill it in. Check it in the browser."
                        if scripted
                        else "."
                    ),
                )
            )
            continue
        seen[(heading.level, name)] += 1
        if seen[(heading.level, name)] == 2:
            found.append(
                Measured(
                    HEADING_DUPLICATE,
                    "needs-review",
                    heading.at,
                    f'Another h{heading.level} heading on this page says "{heading.name}" too. '
                    "Check each says how its section differs.",
                )
            )
    return found


def label_results(structure: PageStructure) -> list[Measured]:
    """Fields that ask for different things under the same label."""
    by_label: dict[str, list[Any]] = defaultdict(list)
    for field in structure.fields:
        if name := plain(field.label):
            # Radios and checkboxes in different fieldsets are told apart by their legend.
            group = plain(field.group) if field.kind in ("radio", "checkbox") else ""
            by_label[f"{group}|{name}"].append(field)
    found = []
    for fields in by_label.values():
        if len({f.key for f in fields}) < 2:
            continue
        for field in fields[1:]:
            found.append(
                Measured(
                    LABEL_DUPLICATE,
                    "needs-review",
                    field.at,
                    f'{len(fields)} form fields on this page are labelled "{field.label}" but '
                    f"are different fields ({', '.join(sorted({f.key for f in fields})[:4])}). "
                    "Check each label says what that field is for.",
                )
            )
    return found


def page_findings(
    url: str, structure: PageStructure | None, checks: tuple[str, ...]
) -> list[Finding]:
    """The findings of the chosen checks (links, headings) on one page."""
    if structure is None:
        return []
    results: list[Measured] = []
    if "links" in checks:
        results += link_results(url, structure)
    if "headings" in checks:
        results += heading_results(structure) + label_results(structure)
    return own_findings(results)


# What pages.structure keeps: what the checks across the site need, within caps.
STORED_LINKS = 400
WAYS = ("search", "sitemap", "a-z")
SITEMAP = re.compile(r"\bsite ?map\b", re.I)
A_TO_Z = re.compile("\\ba ?(?:to|-|\u2013|\u2014) ?z\\b", re.I)


def ways_of(url: str, structure: PageStructure) -> list[str]:
    """The ways to find pages this page offers: a site search, a site map, an A to Z."""
    host = urlsplit(url).netloc
    found = {"search"} if structure.search is not None else set()
    for link in structure.links:
        place = target(url, link.href)
        parts = _split(place)
        if parts.netloc != host:
            continue  # another site's map finds that site's pages
        words = f"{link.name} {parts.path.replace('-', ' ').replace('_', ' ')}"
        if SITEMAP.search(words):
            found.add("sitemap")
        if A_TO_Z.search(link.name) or re.search(r"/a-?(?:to-?)?z\b", place, re.I):
            found.add("a-z")
    return [w for w in WAYS if w in found]


def structure_json(
    url: str, structure: PageStructure | None, spelling: tuple[PageWord, ...] = ()
) -> str | None:
    """pages.structure: docs/checks.md ("Across the site") describes its shape; spelling
    is the words of its prose the dictionary does not accept (audits/spelling.py)."""
    if structure is None:
        return None
    links, seen = [], set()
    for link in structure.links:
        if link.region == "main" or link.href.startswith("#"):
            continue  # content, or a place on this page: not a shared component
        key = (target(url, link.href), link.name)
        if key in seen:
            continue
        seen.add(key)
        links.append([key[0], link.name, link.region, list(link.at.selector), link.at.snippet])
        if len(links) >= STORED_LINKS:
            break
    return json.dumps(
        {
            "site_name": structure.site_name,
            "navigation": [
                {
                    "selector": list(at.selector),
                    "snippet": at.snippet,
                    "links": [target(url, h) for h in hrefs],
                }
                for at, hrefs in structure.navigation
            ],
            "links": links,
            "search": None
            if structure.search_at is None
            else {
                "name": structure.search,
                "selector": list(structure.search_at.selector),
                "snippet": structure.search_at.snippet,
            },
            "ways": ways_of(url, structure),
            **(
                {"statement": structure.statement.as_json()}
                if structure.statement is not None
                else {}
            ),
            "spelling": [word.as_json() for word in spelling],
        },
        ensure_ascii=False,
    )
