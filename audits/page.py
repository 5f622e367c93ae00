"""Everything siteaudit reads from a page's HTML, parsed once: the one source of page facts.

Readability, dates, links, title, language and ownership hints all come from the HTML
body exactly as the server sent it (the crawler's response), never from the browser's
rendered DOM, so a scan without the browser gives the same figures as a full one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bs4 import BeautifulSoup

from audits.dates import DateCandidate, date_candidates
from audits.readability import Readability, content_blocks, measure


@dataclass(frozen=True)
class Link:
    href: str
    text: str


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


def parse_page(
    html: str,
    *,
    last_modified_header: str | None = None,
    sitemap_lastmod: str | None = None,
    fetched_at: datetime | None = None,
    known_readability: dict[str, Readability] | None = None,
) -> PageFacts:
    """Read a page's facts from its HTML (and the date evidence that came with it).

    known_readability maps content hashes to figures measured before: the same HTML reads
    the same, so a rescan skips textstat, the costliest step, for unchanged pages.
    """
    content_hash = hashlib.sha256(html.encode("utf-8", "replace")).hexdigest()
    soup = BeautifulSoup(html, "lxml")
    dates = date_candidates(
        soup,
        html,
        last_modified_header=last_modified_header,
        sitemap_lastmod=sitemap_lastmod,
        fetched_at=fetched_at or datetime.now(UTC),
    )
    return PageFacts(
        title=_title(soup),
        lang=_lang(soup),
        meta=_meta(soup),
        links=_links(soup),
        readability=(known_readability or {}).get(content_hash)
        or measure(content_blocks(soup), _lang(soup)),
        content_hash=content_hash,
        frames=[f["src"] for f in soup.find_all(["iframe", "frame"], src=True)],
        dates=dates,
        stylesheets=_stylesheets(soup),
    )


def _title(soup: BeautifulSoup) -> str | None:
    tag = soup.find("title")
    text = " ".join(tag.get_text().split()) if tag else ""
    return text or None


def _lang(soup: BeautifulSoup) -> str | None:
    html = soup.find("html")
    lang = html.get("lang") or html.get("xml:lang") if html else None
    return lang.strip() if isinstance(lang, str) and lang.strip() else None


def _meta(soup: BeautifulSoup) -> dict[str, str]:
    """Meta tags by name or property, lower-cased keys; the first of a name wins."""
    found: dict[str, str] = {}
    for tag in soup.find_all("meta"):
        key = tag.get("name") or tag.get("property") or tag.get("itemprop")
        value = tag.get("content")
        if isinstance(key, str) and isinstance(value, str):
            found.setdefault(key.strip().lower(), value.strip())
    return found


def _links(soup: BeautifulSoup) -> list[Link]:
    links = []
    for tag in soup.find_all(["a", "area"], href=True):
        text = " ".join(tag.get_text(" ").split()) or (tag.get("aria-label") or "")
        links.append(Link(href=tag["href"], text=text[:500]))
    return links


def _stylesheets(soup: BeautifulSoup) -> list[str]:
    """Hrefs of linked stylesheets, in order: with the HTML, they decide how a page renders."""
    found = []
    for tag in soup.find_all("link", href=True):
        rel = tag.get("rel") or []
        if "stylesheet" in [r.lower() for r in (rel if isinstance(rel, list) else [rel])]:
            found.append(tag["href"])
    return found
