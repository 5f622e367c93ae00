"""What the checks across the site read from a page's HTML tree: its links, headings, form
fields, navigation and ways to find pages, each element with a CSS path and its opening tag.

Read once from the tree audits/page.py parsed, from the HTML as the server sent it (so a
--no-browser scan reads the same), within fixed caps: a page may be written by an attacker.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice

from audits.statement_reading import StatementReading, looks_like_statement, read_statement
from audits.tree import Element, HtmlTree, is_element

# Caps per page: far beyond a real page, they bound the time and memory an attacker's page takes.
MAX_LINKS = 2000
MAX_HEADINGS = 500
MAX_FIELDS = 500
MAX_NAME_NODES = 400  # nodes visited to work out one accessible name
MAX_TEXT = 300  # characters kept of a name or a context
MAX_SNIPPET = 250
MAX_PATH = 60  # ancestors named in a CSS path
MAX_ANCESTORS = 200  # ancestors looked through for a link's region or context

HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
NO_NAME_TEXT = {"script", "style", "template", "noscript"}
SKIPPED_INPUTS = {"hidden", "submit", "reset", "button", "image"}
# WCAG's "programmatically determined link context": the enclosing sentence, paragraph, list
# item or table cell (Understanding 2.4.4); aria-describedby is read apart.
CONTEXT_TAGS = ("p", "li", "td", "th", "dd", "dt", "blockquote", "figcaption", "caption")
REGION_TAGS = {"nav": "nav", "header": "header", "footer": "footer", "main": "main"}
REGION_ROLES = {
    "navigation": "nav",
    "banner": "header",
    "contentinfo": "footer",
    "main": "main",
    "search": "search",
}
_CSS_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
SEARCH_NAMES = {"q", "query", "search", "s", "keywords", "keyword", "term", "searchterm"}


@dataclass(frozen=True)
class Located:
    """Where an element is: axe's target (one CSS path) and its opening tag."""

    selector: tuple[str, ...]
    snippet: str


@dataclass(frozen=True)
class PageLink:
    href: str  # as written
    name: str  # its accessible name
    context: str  # the text around it that says where it goes (paragraph, cell, list item)
    heading: str  # the text of the heading before it
    described: str  # its aria-describedby text
    region: str  # nav, header, footer, main, search, or "" (elsewhere)
    region_at: Located | None  # that region's element: two navigation bars differ
    at: Located


@dataclass(frozen=True)
class PageHeading:
    level: int
    name: str
    scripted: bool  # has an id or sits in a live region: a script may fill it in
    at: Located


@dataclass(frozen=True)
class PageField:
    kind: str  # input type, select or textarea
    key: str  # what tells fields apart: its name, else id, else position
    label: str
    group: str  # its fieldset's legend: radios in different groups may share a label
    at: Located


@dataclass(frozen=True)
class PageStructure:
    """Everything the site checks read from one page."""

    site_name: str | None
    links: tuple[PageLink, ...] = ()
    headings: tuple[PageHeading, ...] = ()
    fields: tuple[PageField, ...] = ()
    # Each navigation region, with its links' hrefs (as written, each once) in order.
    navigation: tuple[tuple[Located, tuple[str, ...]], ...] = ()
    search: str | None = None  # the site search's accessible name; None when it has none
    search_at: Located | None = None
    truncated: list[str] = field(default_factory=list)
    # What an accessibility statement says, for a page whose title or first heading speaks
    # of accessibility (audits/statement_reading.py); None for every other page.
    statement: StatementReading | None = None


def read_structure(page: HtmlTree) -> PageStructure:
    """The structure of a page parsed by audits.tree."""
    root = page.root
    # Every element held until the reading ends: see KEEP_WALKED in audits/tree.py (a deep
    # page would otherwise cost its depth for every element let go).
    walked = [e for e in root.iter() if is_element(e)]
    ids = _ids(walked)
    site_name = None
    for meta in root.iter("meta"):
        if (meta.get("property") or "").lower() == "og:site_name" and meta.get("content"):
            site_name = _clean(meta.get("content"))
            break
    truncated: list[str] = []
    memo = PageMemo()
    links = _links(root, ids, truncated, memo)
    headings = _headings(walked, ids, truncated, memo)
    structure = PageStructure(
        site_name=site_name or None,
        links=links,
        headings=headings,
        fields=_fields(root, ids, truncated, memo),
        navigation=_navigation(links),
        search=(search := _search(root, ids))[0],
        search_at=search[1],
        truncated=truncated,
        statement=_statement(page, headings),
    )
    # Let go of the other holds first, while walked still holds every ancestor; a list
    # lets go of its items last first, the deepest before their ancestors.
    del ids, memo
    del walked
    return structure


def _statement(page: HtmlTree, headings: tuple[PageHeading, ...]) -> StatementReading | None:
    """The statement's reading, for a page that may be one."""
    title = page.first("title")
    first = next((h.name for h in headings if h.level == 1), None)
    if not looks_like_statement(page.text_of(title) if title is not None else None, first):
        return None
    html = page.first("html")
    return read_statement(page, html.get("lang") if html is not None else None)


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())[:MAX_TEXT]


def _ids(walked: list[Element]) -> dict[str, Element]:
    found: dict[str, Element] = {}
    for element in walked:
        if value := element.get("id"):
            found.setdefault(value, element)
    return found


def _hidden(element: Element) -> bool:
    style = (element.get("style") or "").replace(" ", "").lower()
    return (
        element.get("hidden") is not None
        or (element.get("aria-hidden") or "").strip().lower() == "true"
        or "display:none" in style
    )


def text_name(element: Element, budget: list[int], names: Names | None = None) -> str:
    """The name an element's content gives it: its text, with images' alt text, leaving out
    what is hidden from everyone; nested aria-labels stand for their element's content.

    names keeps each element's name and the nodes it cost, worked out once a page (a link's
    name is part of its list item's, read again as its context)."""
    known = names.get(element) if names is not None else None
    if known is not None and budget[0] >= known[1]:  # the budget it took: it reads the same
        budget[0] -= known[1]
        return known[0]
    start = budget[0]
    parts: list[str] = []
    if element.text:
        parts.append(element.text)
    for child in element:
        budget[0] -= 1
        if budget[0] < 0:
            break
        if is_element(child) and child.tag not in NO_NAME_TEXT and not _hidden(child):
            if child.get("aria-label"):
                parts.append(child.get("aria-label"))
            elif child.tag in ("img", "area") or (
                child.tag == "input" and (child.get("type") or "").lower() == "image"
            ):
                parts.append(child.get("alt") or "")
            elif child.tag == "svg":
                title = next((t for t in child.iter("title")), None)
                parts.append(title.text or "" if title is not None else "")
            else:
                parts.append(text_name(child, budget, names))
        if child.tail:
            parts.append(child.tail)
    name = " ".join(" ".join(parts).split())
    # Below zero, the budget ran out and the name was cut short: not kept.
    if names is not None and budget[0] >= 0:
        names[element] = (name, start - budget[0])
    return name


def accessible_name(element: Element, ids: dict[str, Element], names: Names | None = None) -> str:
    """aria-labelledby, aria-label, the content (text and images' alt), then title."""
    budget = [MAX_NAME_NODES]
    if labelledby := element.get("aria-labelledby"):
        named = [ids[i] for i in labelledby.split()[:10] if i in ids]
        text = " ".join(text_name(e, budget, names) for e in named)
        if text.strip():
            return _clean(text)
    if label := _clean(element.get("aria-label")):
        return label
    if text := _clean(text_name(element, budget, names)):
        return text
    return _clean(element.get("title"))


# Each parent's element children's positions, worked out once per parent: counting a link's
# preceding siblings afresh for each of thousands of links in one paragraph is quadratic.
Positions = dict[Element, dict[Element, int]]
# Each element's text name and the nodes it cost (text_name).
Names = dict[Element, tuple[str, int]]


class PageMemo:
    """What reading one page works out once and reuses: each parent's children's positions,
    each element's CSS path steps (nearest first) and each element's text name."""

    __slots__ = ("names", "positions", "steps")

    def __init__(self) -> None:
        self.positions: Positions = {}
        self.steps: dict[Element, tuple[str, ...]] = {}
        self.names: Names = {}


def located(element: Element, memo: PageMemo | None = None) -> Located:
    return Located(css_path(element, memo), opening_tag(element))


def _position(node: Element, parent: Element, positions: Positions) -> int:
    if parent not in positions:
        children = (c for c in parent if is_element(c))
        positions[parent] = {c: i for i, c in enumerate(children, 1)}
    return positions[parent][node]


def css_path(element: Element, memo: PageMemo | None = None) -> tuple[str, ...]:
    """A CSS path to the element, from its nearest ancestor with an id (or html), as axe's
    target: a list of one selector (the page has no frames here). `memo`: the page's, so
    that what is worked out for one element serves the next; a one-off without it."""
    return (" > ".join(reversed(_steps_up(element, memo or PageMemo()))),)


def _steps_up(element: Element, memo: PageMemo) -> tuple[str, ...]:
    """css_path's steps, nearest first, at most MAX_PATH: each element's worked out once a
    page, as a link's path shares all but its last steps with its neighbours'."""
    chain: list[tuple[Element, str]] = []
    above: tuple[str, ...] | None = None
    node = element
    while len(chain) < MAX_PATH:
        if (known := memo.steps.get(node)) is not None:
            above = known
            break
        node_id = node.get("id")
        if node_id and _CSS_ID.fullmatch(node_id):
            above = memo.steps[node] = (f"#{node_id}",)
            break
        parent = node.getparent()
        if parent is None:
            above = memo.steps[node] = (str(node.tag),)
            break
        chain.append((node, f"{node.tag}:nth-child({_position(node, parent, memo.positions)})"))
        node = parent
    if above is None:
        # MAX_PATH steps with no end: the element's path is whole, its ancestors' are not.
        return tuple(step for _, step in chain)
    for node, step in reversed(chain):
        above = memo.steps[node] = (step, *above[: MAX_PATH - 1])
    return above


def opening_tag(element: Element) -> str:
    """The element's opening tag, as axe's node.html begins."""
    attributes = "".join(
        f' {key}="{html.escape(str(value), quote=True)}"' for key, value in element.attrib.items()
    )
    tag = f"<{element.tag}{attributes}>"
    return tag if len(tag) <= MAX_SNIPPET else tag[: MAX_SNIPPET - 4] + "...>"


def _ancestors(element: Element) -> Iterator[Element]:
    """The element's ancestors, nearest first, at most MAX_ANCESTORS of them."""
    return islice(element.iterancestors(), MAX_ANCESTORS)


def _region(element: Element) -> tuple[str, Element | None]:
    """The nearest region around an element (nav, header, footer, main, search or ""), and
    the region's element."""
    for ancestor in _ancestors(element):
        role = (ancestor.get("role") or "").strip().lower()
        if role in REGION_ROLES:
            return REGION_ROLES[role], ancestor
        if ancestor.tag in REGION_TAGS:
            return REGION_TAGS[ancestor.tag], ancestor
    return "", None


def _context(element: Element, name: str, texts: dict[Element, str], names: Names) -> str:
    """The text of the paragraph, list item or table cell around a link, without the
    link's own text; "" when it has none. texts keeps each one's text, read once."""
    for ancestor in _ancestors(element):
        if ancestor.tag in CONTEXT_TAGS:
            if ancestor not in texts:
                texts[ancestor] = _clean(text_name(ancestor, [MAX_NAME_NODES], names))
            text = texts[ancestor]
            return _clean(text.replace(name, " ", 1)) if name else text
        if ancestor.tag in ("body", "html", "nav", "main", "header", "footer", "form"):
            break
    return ""


def _links(
    root: Element, ids: dict[str, Element], truncated: list[str], memo: PageMemo
) -> tuple[PageLink, ...]:
    found: list[PageLink] = []
    texts: dict[Element, str] = {}
    regions: dict[Element, Located] = {}  # each region located once: most links share a few
    heading = ""  # the text of the last heading before the link: its context too (H80)
    for element in root.iter("a", "area", *HEADINGS):
        if element.tag in HEADINGS:
            heading = _clean(text_name(element, [MAX_NAME_NODES]))
            continue
        href = element.get("href")
        if href is None or _hidden(element):
            continue
        if len(found) >= MAX_LINKS:
            truncated.append(f"links after the first {MAX_LINKS}")
            break
        name = accessible_name(element, ids, memo.names)
        described = " ".join(
            text_name(ids[i], [MAX_NAME_NODES])
            for i in (element.get("aria-describedby") or "").split()[:10]
            if i in ids
        )
        region, region_element = _region(element)
        if region_element is not None and region_element not in regions:
            regions[region_element] = located(region_element, memo)
        found.append(
            PageLink(
                href=href.strip(),
                name=name,
                context=_context(element, name, texts, memo.names),
                heading="" if heading == name else heading,
                described=_clean(described),
                region=region,
                region_at=None if region_element is None else regions[region_element],
                at=located(element, memo),
            )
        )
    return tuple(found)


def _headings(
    walked: list[Element], ids: dict[str, Element], truncated: list[str], memo: PageMemo
) -> tuple[PageHeading, ...]:
    found = []
    for element in walked:
        role = (element.get("role") or "").strip().lower()
        if element.tag in HEADINGS and role in ("", "heading"):
            level = int(element.tag[1])
        elif role == "heading":
            level = (
                int(element.get("aria-level") or 2)
                if (element.get("aria-level") or "").isdigit()
                else 2
            )
        else:
            continue
        if _hidden(element) or any(_hidden(a) for a in _ancestors(element)):
            continue
        if len(found) >= MAX_HEADINGS:
            truncated.append(f"headings after the first {MAX_HEADINGS}")
            break
        live = any(a.get("aria-live") for a in _ancestors(element)) or element.get("aria-live")
        found.append(
            PageHeading(
                level=level,
                name=accessible_name(element, ids),
                scripted=bool(element.get("id") or live),
                at=located(element, memo),
            )
        )
    return tuple(found)


def _fields(
    root: Element, ids: dict[str, Element], truncated: list[str], memo: PageMemo
) -> tuple[PageField, ...]:
    labels_for: dict[str, Element] = {}
    for label in root.iter("label"):
        if target := label.get("for"):
            labels_for.setdefault(target, label)
    found = []
    for position, element in enumerate(root.iter("input", "select", "textarea")):
        kind = (
            (element.get("type") or "text").strip().lower()
            if element.tag == "input"
            else str(element.tag)
        )
        if kind in SKIPPED_INPUTS or _hidden(element):
            continue
        if len(found) >= MAX_FIELDS:
            truncated.append(f"form fields after the first {MAX_FIELDS}")
            break
        found.append(
            PageField(
                kind=kind,
                key=element.get("name") or element.get("id") or f"#{position}",
                label=_field_label(element, ids, labels_for),
                group=_legend(element),
                at=located(element, memo),
            )
        )
    return tuple(found)


def _field_label(element: Element, ids: dict[str, Element], labels_for: dict[str, Element]) -> str:
    budget = [MAX_NAME_NODES]
    if labelledby := element.get("aria-labelledby"):
        text = " ".join(text_name(ids[i], budget) for i in labelledby.split()[:10] if i in ids)
        if text.strip():
            return _clean(text)
    if label := _clean(element.get("aria-label")):
        return label
    field_id = element.get("id")
    if field_id and field_id in labels_for:
        return _clean(text_name(labels_for[field_id], budget))
    wrapping = next((a for a in _ancestors(element) if a.tag == "label"), None)
    if wrapping is not None:
        return _clean(text_name(wrapping, budget))
    return _clean(element.get("title"))


def _legend(element: Element) -> str:
    fieldset = next((a for a in _ancestors(element) if a.tag == "fieldset"), None)
    if fieldset is None:
        return ""
    legend = next(fieldset.iter("legend"), None)
    return _clean(text_name(legend, [MAX_NAME_NODES])) if legend is not None else ""


def _navigation(links: tuple[PageLink, ...]) -> tuple[tuple[Located, tuple[str, ...]], ...]:
    """Each navigation region, with its links' hrefs in order, each once."""
    regions: dict[Located, list[str]] = {}
    for link in links:
        if link.region == "nav" and link.region_at is not None:
            hrefs = regions.setdefault(link.region_at, [])
            if link.href not in hrefs:
                hrefs.append(link.href)
    return tuple((at, tuple(hrefs)) for at, hrefs in regions.items() if hrefs)


def _search(root: Element, ids: dict[str, Element]) -> tuple[str | None, Located | None]:
    """The site search form's name (its button's or its field's), or (None, None)."""
    for form in root.iter("form"):
        role = (form.get("role") or "").lower()
        action = (form.get("action") or "").lower()
        fields = list(form.iter("input"))[:50]
        searchy = [
            f
            for f in fields
            if (f.get("type") or "").lower() == "search"
            or (f.get("name") or "").lower() in SEARCH_NAMES
        ]
        if not (role == "search" or "search" in action or searchy):
            continue
        if not searchy and not any(
            (f.get("type") or "text").lower() in ("text", "search") for f in fields
        ):
            continue
        labels_for = {label.get("for"): label for label in form.iter("label") if label.get("for")}
        names = [_field_label(f, ids, labels_for) for f in searchy or fields]
        for button in list(form.iter("button", "input"))[:20]:
            if button.tag == "button" or (button.get("type") or "").lower() in (
                "submit",
                "image",
            ):
                names.append(
                    accessible_name(button, ids) or _clean(button.get("value") or button.get("alt"))
                )
        name = " / ".join(n for n in names if n)
        return name, located(form)
    return None, None
