"""The checks only the whole site decides, after the crawl, from each page's pages.structure:
titles shared or naming only the site, navigation in another order, the same function named
differently, and whether the site gives more than one way to find a page.

Pages are judged with the other pages of their own site (host). Pure functions: stored page
rows in, findings out (placed on their pages; teams are the caller's).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from audits.memo import remembered
from audits.page_structure import Located
from audits.site_checks import (
    IDENTIFICATION,
    MULTIPLE_WAYS,
    NAVIGATION_ORDER,
    TITLE_AT,
    TITLE_DUPLICATE,
    TITLE_GENERIC,
    WAYS,
    Measured,
    own_findings,
    plain,
)
from audits.site_checks import (
    title_results as page_title_results,
)
from vocabulary.findings import Finding

TITLE_SEPARATORS = re.compile("\\s+[-|\u2013\u2014:\u00b7\u2022]\\s+|\\s*\\|\\s*")
GREETING = re.compile(r"^\s*welcome\b(?:\s+to\b)?", re.I)
HOME_NAMES = {"", "index", "home", "default", "welcome"}
MIN_NAV_LINKS = 3  # fewer links than this is not a navigation bar to compare
MIN_SITE_PAGES = 2  # a lone page is no set of pages
# A site this small is found from its home page's own links and menus (W3C's technique G126,
# a list of links to all pages); below it, multiple ways is not asked about.
MIN_PAGES_FOR_WAYS = 30


@dataclass(frozen=True)
class SitePage:
    """A stored page as the site checks read it."""

    url: str
    title: str | None
    content_hash: str | None
    structure: dict[str, Any]


def site_findings(
    pages: Iterable[SitePage], start_url: str | None, checks: tuple[str, ...]
) -> list[Finding]:
    """The findings across the site of the chosen checks (titles, consistency, ways),
    each placed on its page; multiple-ways is the shared layout's (scope template)."""
    by_site: dict[str, list[SitePage]] = defaultdict(list)
    for page in pages:
        by_site[urlsplit(page.url).netloc].append(page)
    found: list[Finding] = []
    for site in by_site.values():
        results: dict[str, list[Measured]] = defaultdict(list)
        if "titles" in checks:
            for page in site:
                results[page.url] += page_title_results(page.title)
        if len(site) >= MIN_SITE_PAGES and "titles" in checks:
            for url, result in title_results(site, start_url):
                results[url].append(result)
        if len(site) >= MIN_SITE_PAGES and "consistency" in checks:
            for url, result in [*navigation_results(site), *identification_results(site)]:
                results[url].append(result)
        for url, measured in results.items():
            found += [f.placed(url, None) for f in own_findings(measured)]
        ways = ways_result(site, start_url) if len(site) >= MIN_PAGES_FOR_WAYS else None
        if "ways" in checks and ways is not None:
            url, measured = ways
            found += [
                replace(f, scope="template").placed(url, None) for f in own_findings([measured])
            ]
    return found


def is_home(url: str, start_url: str | None, section: bool = False) -> bool:
    """The site's home page: the start URL, the root or an index/home page at the root;
    with section, a section's too (/libraries/, /after/home.html)."""
    if start_url and url.split("#")[0] == start_url.split("#")[0]:
        return True
    path = urlsplit(url).path or "/"
    if path.count("/") > 1 and not section:
        return False
    return path.rsplit("/", 1)[-1].split(".")[0].lower() in HOME_NAMES


def site_name(site: list[SitePage]) -> str | None:
    """The site's name: its og:site_name, else the part of the title most pages share."""
    named = Counter(p.structure.get("site_name") for p in site if p.structure.get("site_name"))
    if named:
        return named.most_common(1)[0][0]
    parts: Counter[str] = Counter()
    for page in site:
        if page.title:
            parts.update({plain(s) for s in TITLE_SEPARATORS.split(page.title) if plain(s)})
    if not parts:
        return None
    name, count = parts.most_common(1)[0]
    return name if count >= max(3, math.ceil(len(site) / 2)) else None


def title_results(site: list[SitePage], start_url: str | None) -> list[tuple[str, Measured]]:
    """Inner pages titled with the site's name or a greeting alone; titles shared by pages
    of different content."""
    found = []
    name = site_name(site)
    for page in site:
        if not page.title or is_home(page.url, start_url) or page_title_results(page.title):
            continue  # no title, or one generic on any site: judged on the page alone
        greeting = GREETING.match(page.title)
        rest = plain(page.title[greeting.end() :]) if greeting else plain(page.title)
        if name and rest.replace(name, " ", 1).strip() == "":
            found.append((page.url, Measured(
                TITLE_GENERIC, "violation", TITLE_AT,
                f'The title is "{page.title}": the site\'s name'
                + (" in a greeting" if greeting else "")
                + ", on a page that is not the home page. It does not say what this page is.",
            )))  # fmt: skip
        elif greeting and not is_home(page.url, start_url, section=True):
            found.append((page.url, Measured(
                TITLE_GENERIC, "needs-review", TITLE_AT,
                f'The title "{page.title}" greets the reader to the site on a page that is not '
                "the home page. Check it says what this page is about, first.",
            )))  # fmt: skip
    found += _duplicate_titles(site)
    return found


def _duplicate_titles(site: list[SitePage]) -> list[tuple[str, Measured]]:
    by_title: dict[str, list[SitePage]] = defaultdict(list)
    for page in site:
        if page.title and plain(page.title):
            by_title[plain(page.title)].append(page)
    found = []
    for pages in by_title.values():
        if len({p.content_hash for p in pages}) < 2:
            continue  # the same content at two addresses: one page
        for page in pages:
            others = [p.url for p in pages if p.url != page.url]
            found.append((page.url, Measured(
                TITLE_DUPLICATE, "needs-review", TITLE_AT,
                f'{len(pages)} pages with different content are titled "{page.title}", such as '
                f"{', '.join(others[:3])}. Check the title says how this page differs.",
            )))  # fmt: skip
    return found


def navigation_results(site: list[SitePage]) -> list[tuple[str, Measured]]:
    """Navigation bars whose shared links come in another order than on most pages."""
    regions = [
        (page.url, region)
        for page in site
        for region in page.structure.get("navigation", [])
        if len(region.get("links", [])) >= MIN_NAV_LINKS
    ]
    orders = Counter(tuple(region["links"]) for _, region in regions)
    by_set: dict[frozenset[str], Counter[tuple[str, ...]]] = defaultdict(Counter)
    for order, count in orders.items():
        by_set[frozenset(order)][order] += count
    # The order most pages with those links give them, where most do (3 pages at least).
    usual = []
    for counts in by_set.values():
        order, count = counts.most_common(1)[0]
        if count >= 3 and count * 2 > sum(counts.values()):
            usual.append(order)
    found = []
    for url, region in regions:
        order = tuple(region["links"])
        for reference in usual:
            common = set(order) & set(reference)
            # The same bar, perhaps without the link to the page itself.
            if len(common) < MIN_NAV_LINKS or len(set(order) ^ set(reference)) > 2:
                continue
            mine = [h for h in order if h in common]
            theirs = [h for h in reference if h in common]
            if mine != theirs:
                found.append((url, Measured(
                    NAVIGATION_ORDER, "violation",
                    Located(tuple(region["selector"]), region["snippet"]),
                    f"This navigation has {len(common)} links that {orders[reference]} other "
                    "pages give in another order. Here: "
                    f"{', '.join(_short(h) for h in mine[:8])}; usually: "
                    f"{', '.join(_short(h) for h in theirs[:8])}.",
                )))  # fmt: skip
                break
    return found


def _short(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"#{parts.fragment}" if parts.fragment else "")


def identification_results(site: list[SitePage]) -> list[tuple[str, Measured]]:
    """Links repeated on most pages (the layout's) named differently, or not at all."""
    by_target: dict[str, dict[str, list[list[Any]]]] = defaultdict(lambda: defaultdict(list))
    for page in site:
        for link in page.structure.get("links", []):
            by_target[link[0]][page.url].append(link)
    enough = max(2, math.ceil(len(site) / 2))
    # Each distinct name made singular once: the layout's links repeat a few names on every
    # page, and a dict lookup costs less than a call to the bounded cache (47,000 links).
    singular = {
        name: _singular(name)
        for on_pages in by_target.values()
        if len(on_pages) >= enough
        for links in on_pages.values()
        for name in {link[1] for link in links}
    }
    found = []
    for place, on_pages in by_target.items():
        if len(on_pages) < enough:
            continue
        names = {url: {singular[link[1]] for link in links} for url, links in on_pages.items()}
        usual = Counter(frozenset(n - {""}) for n in names.values() if n - {""})
        usual_names = set(usual.most_common(1)[0][0]) if usual else set()
        # The usual name as the pages write it, for the summary.
        written = next(
            (lk[1] for lks in on_pages.values() for lk in lks if singular[lk[1]] in usual_names),
            "",
        )
        for url, links in on_pages.items():
            named = names[url] - {""}
            for link in links:
                if singular[link[1]]:
                    continue
                elsewhere = (
                    f'On other pages it is named "{written}".'
                    if usual_names
                    else f"It has no name on any of the {len(on_pages)} pages that have it."
                )
                found.append((url, Measured(
                    IDENTIFICATION, "violation", Located(tuple(link[3]), link[4]),
                    f"This link to {_short(place)} is on {len(on_pages)} pages of the site, but "
                    f"here it has no name at all. {elsewhere}",
                )))  # fmt: skip
            if named and usual_names and named.isdisjoint(usual_names):
                link = next(lk for lk in links if singular[lk[1]])
                found.append((url, Measured(
                    IDENTIFICATION, "needs-review", Located(tuple(link[3]), link[4]),
                    f'This link to {_short(place)} is named "{link[1]}" here, but '
                    f'"{written}" on {usual.most_common(1)[0][1]} other pages. '
                    "Check the same thing has the same name on every page.",
                )))  # fmt: skip
    return found + _search_names(site)


@remembered(1 << 14, 2048)  # the layout's links: the same few names on every page
def _singular(name: str) -> str:
    """A name for comparing: "Weeknotes" and "weeknote" are the same name."""
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") else w for w in plain(name).split())


def _search_names(site: list[SitePage]) -> list[tuple[str, Measured]]:
    searches = [(p.url, p.structure["search"]) for p in site if p.structure.get("search")]
    usual = Counter(plain(s.get("name") or "") for _, s in searches)
    if len(usual) < 2:
        return []
    name, count = usual.most_common(1)[0]
    found = []
    for url, search in searches:
        if plain(search.get("name") or "") != name and count >= 2:
            found.append((url, Measured(
                IDENTIFICATION, "needs-review",
                Located(tuple(search["selector"]), search["snippet"]),
                f'The site search is named "{search.get("name") or ""}" here but '
                f'"{name}" on {count} other pages. Check it has the same name everywhere.',
            )))  # fmt: skip
    return found


def ways_result(site: list[SitePage], start_url: str | None) -> tuple[str, Measured] | None:
    """One result for the site when it shows fewer than two of a site search, a site map
    and an A to Z: needs-review, as menus and links between pages are ways too."""
    ways = {w for page in site for w in page.structure.get("ways", [])}
    if len(ways) >= 2:
        return None
    homes = [p.url for p in site if is_home(p.url, start_url)]
    home = min(homes or [p.url for p in site], key=lambda u: (len(urlsplit(u).path), u))
    seen = ", ".join(w for w in WAYS if w in ways) or "none of them"
    return home, Measured(
        MULTIPLE_WAYS, "needs-review", Located(("html",), "<html>"),
        f"Across the {len(site)} pages read of {urlsplit(home).netloc}, siteaudit found "
        f"{seen} (of a site search, a site map and an A to Z). Check there are two ways to "
        "reach each page: menus and links between related pages count too.",
    )  # fmt: skip
