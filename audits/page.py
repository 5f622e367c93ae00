"""Everything siteaudit reads from a page's HTML, parsed once: the one source of page facts.

Readability, dates, links, title, language and ownership hints all come from the HTML
body exactly as the server sent it (the crawler's response), never from the browser's
rendered DOM, so a scan without the browser gives the same figures as a full one.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from audits.dates import DateCandidate, date_candidates
from audits.page_structure import PageStructure, read_structure
from audits.readability import Readability, content_and_prose, content_blocks, measure
from audits.site_checks import page_findings, structure_json
from audits.spelling import PageWord, page_words
from audits.spelling_text import has_marked_passages
from audits.streamed_page import (
    TextCollector,
    element_estimate,
    read_text_only,
    readability_of,
    title_of,
)
from audits.tree import HtmlTree, parse_html, size_of
from vocabulary.findings import Finding


@dataclass(frozen=True)
class Link:
    href: str
    text: str


@dataclass(frozen=True)
class Refresh:
    """A declared refresh: after `delay` whole seconds, go to `url` ("" is the page itself)."""

    delay: int
    url: str


@dataclass(frozen=True)
class PageFacts:
    title: str | None
    lang: str | None
    meta: dict[str, str]
    links: list[Link]
    readability: Readability
    content_hash: str
    frames: list[str] = field(default_factory=list)
    dates: list[DateCandidate] = field(default_factory=list)
    stylesheets: list[str] = field(default_factory=list)
    # How many elements the page has: the browser's memory for a page (and axe-core's time)
    # grows with it, so a page far beyond any real one is not sent to the browser.
    elements: int = 0
    # How deeply its elements nest (Chromium keeps up to 512 levels): a tab's memory for a
    # deeply nested page grows far faster than for the same elements side by side.
    depth: int = 0
    # The page's own <meta http-equiv="refresh">: a timed one (delay above 0) leaves the page
    # to be audited, and its target is still a link to follow.
    refresh: Refresh | None = None
    # Its links, headings, form fields and navigation, for siteaudit's checks across the site.
    structure: PageStructure | None = None
    # What settle_structure makes of it, where the page was read (the structure is large, and
    # judging it costs as much again as reading the page): pages.structure's JSON, and the
    # links and headings findings on this page.
    stored_structure: str | None = None
    structure_findings: list[Finding] = field(default_factory=list)
    # The words of its English prose the British dictionary does not accept (audits/spelling.py).
    spelling: tuple[PageWord, ...] = ()


def parse_page(
    html: str,
    *,
    last_modified_header: str | None = None,
    sitemap_lastmod: str | None = None,
    fetched_at: datetime | None = None,
    known_readability: dict[str, Readability] | None = None,
    max_elements: int | None = None,
    spelling: bool = True,
) -> PageFacts:
    """Read a page's facts from its HTML (and the date evidence that came with it).

    known_readability maps content hashes to figures measured before: the same HTML reads
    the same, so a rescan skips measuring them again for unchanged pages. A page with more
    than max_elements elements is read as a stream of text, never held as a tree. Without
    spelling (spelling.check = false) its words are not looked up.
    """
    content_hash = hashlib.sha256(html.encode("utf-8", "replace")).hexdigest()
    if max_elements is not None and element_estimate(html) > max_elements:
        streamed = read_text_only(html)
        if streamed.elements > max_elements:
            # Too many elements to hold as a tree within the reader's memory: judged on its
            # text alone (no links followed, no dates), and never sent to the browser.
            return text_only_facts(streamed, content_hash)
    page = parse_html(html)
    dates = date_candidates(
        page,
        html,
        last_modified_header=last_modified_header,
        sitemap_lastmod=sitemap_lastmod,
        fetched_at=fetched_at or datetime.now(UTC),
    )
    lang = _lang(page)
    elements, depth = size_of(page.root)
    known = (known_readability or {}).get(content_hash)
    # Spelling reads the same text unless the page marks code or passages of its own: then
    # its prose comes from the same walk of the tree as readability's blocks.
    prose = None
    if spelling and has_marked_passages(page):
        blocks, prose = content_and_prose(page, lang)
    else:
        blocks = content_blocks(page)
    return PageFacts(
        title=_title(page),
        lang=lang,
        meta=_meta(page),
        links=_links(page),
        readability=known or measure(blocks, lang),
        content_hash=content_hash,
        frames=[
            f.get("src") for f in page.root.iter("iframe", "frame") if f.get("src") is not None
        ],
        dates=dates,
        stylesheets=_stylesheets(page),
        elements=elements,
        depth=depth,
        refresh=_refresh(page),
        structure=read_structure(page),
        spelling=page_words(page, lang, blocks, prose) if spelling else (),
    )


def settle_structure(facts: PageFacts, url: str, checks: tuple[str, ...]) -> PageFacts:
    """The facts with their structure judged (the links and headings checks) and written as
    the store keeps it, then let go: done in the page reader, not on the crawler's thread."""
    if facts.structure is None:
        return facts
    return replace(
        facts,
        stored_structure=structure_json(url, facts.structure, facts.spelling),
        structure_findings=page_findings(url, facts.structure, checks),
        structure=None,
    )


def text_only_facts(streamed: TextCollector, content_hash: str) -> PageFacts:
    """The facts of a page read as a stream of text, without its tree."""
    return PageFacts(
        title=title_of(streamed),
        lang=streamed.lang,
        meta={},
        links=[],
        readability=readability_of(streamed),
        content_hash=content_hash,
        elements=streamed.elements,
        depth=streamed.deepest,
    )


def _title(page: HtmlTree) -> str | None:
    tag = page.first("title")
    text = " ".join(page.text_of(tag, "").split()) if tag is not None else ""
    return text or None


def _lang(page: HtmlTree) -> str | None:
    html = page.first("html")
    lang = html.get("lang") or html.get("xml:lang") if html is not None else None
    return lang.strip() if isinstance(lang, str) and lang.strip() else None


def _meta(page: HtmlTree) -> dict[str, str]:
    """Meta tags by name or property, lower-cased keys; the first of a name wins."""
    found: dict[str, str] = {}
    for tag in page.root.iter("meta"):
        key = tag.get("name") or tag.get("property") or tag.get("itemprop")
        value = tag.get("content")
        if isinstance(key, str) and isinstance(value, str):
            found.setdefault(key.strip().lower(), value.strip())
    return found


def _links(page: HtmlTree) -> list[Link]:
    links = []
    for tag in page.root.iter("a", "area"):
        href = tag.get("href")
        if href is None:
            continue
        text = " ".join(page.text_of(tag).split()) or (tag.get("aria-label") or "")
        links.append(Link(href=href, text=text[:500]))
    return links


def _stylesheets(page: HtmlTree) -> list[str]:
    """Hrefs of linked stylesheets, in order: with the HTML, they decide how a page renders."""
    found = []
    for tag in page.root.iter("link"):
        href = tag.get("href")
        if href is not None and "stylesheet" in (tag.get("rel") or "").lower().split():
            found.append(href)
    return found


# The HTML standard's "shared declarative refresh steps": whole seconds (a browser reads
# "0.5" as 0), then an optional separator, "url=" and a quoted or bare URL.
_REFRESH = re.compile(
    r"[\t\n\f\r ]*(?P<delay>\d*)(?P<rest>[\d.]*)"
    r"(?:[;,\t\n\f\r ][\t\n\f\r ]*[;,]?[\t\n\f\r ]*(?P<url>.*))?$",
    re.DOTALL,
)
_URL_PREFIX = re.compile(r"url[\t\n\f\r ]*=[\t\n\f\r ]*", re.IGNORECASE)
# A browser ignores these for a refresh: script text, and noscript's content when scripts run.
_NOT_DECLARED_IN = ("script", "noscript", "template")


def parse_refresh(content: str) -> Refresh | None:
    """A meta refresh's content as a browser reads it, or None where it would ignore it."""
    match = _REFRESH.match(content[:2000])
    if match is None or not (match["delay"] or match["rest"].startswith(".")):
        return None
    url = _URL_PREFIX.sub("", match["url"] or "", count=1) if match["url"] else ""
    if url[:1] in ("'", '"'):
        url = url[1:].split(url[0], 1)[0]
    return Refresh(delay=min(int(match["delay"] or 0), 10**9), url=url.strip()[:2000])


def _refresh(page: HtmlTree) -> Refresh | None:
    """The first meta refresh the browser would act on (it acts on one only)."""
    for tag in page.root.iter("meta"):
        if (tag.get("http-equiv") or "").strip().lower() != "refresh":
            continue
        content = tag.get("content")
        if not isinstance(content, str) or any(
            ancestor.tag in _NOT_DECLARED_IN for ancestor in tag.iterancestors()
        ):
            continue
        if refresh := parse_refresh(content):
            return refresh
    return None
