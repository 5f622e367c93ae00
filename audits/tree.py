"""A page's HTML parsed once with lxml, and its text read the way BeautifulSoup reads it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from lxml import etree

Element = etree._Element

# BeautifulSoup files the text inside these elements as other kinds of string (Script,
# Stylesheet, TemplateString, ruby text) that its get_text() leaves out. Figures were
# measured that way before siteaudit read pages with lxml, so HtmlTree.text_of keeps to it.
HIDDEN_TEXT = ("script", "style", "template", "rt", "rp")
# KEEP_WALKED: when lxml lets go of an element's Python object, it looks up through the
# element's ancestors for one still held (to know what it may free), so a walk that drops
# each element as it goes costs the page's depth per element: quadratic on a deep page
# (20,000 nested elements took 100 s). Walks keep what they visited until they end.
# libxml2 stops building its tree about 2,048 elements deep and silently drops the rest of
# the page; BeautifulSoup, which builds its own tree from the same parser's events, has no
# such limit. Nearly that deep (only possible with thousands of tags), parse again that way.
_DEEP = 2000
_NEAR_DEPTH_LIMIT = etree.XPath("boolean(/*" + "/*" * (_DEEP - 1) + ")")


class HtmlTree:
    """A page's parsed HTML: its root element, and its elements' text as BeautifulSoup reads it."""

    def __init__(self, root: Element) -> None:
        self.root = root
        # Elements with a hidden element around or inside them. Only their text needs the
        # careful reading; any other element's text is all of its text, which is faster.
        self.near_hidden: set[Element] = set()
        for hidden in root.iter(*HIDDEN_TEXT):
            if hidden in self.near_hidden:
                continue  # inside an earlier hidden element: all of these are in already
            self.near_hidden.add(hidden)
            self.near_hidden.update(hidden.iterdescendants())
            # Ancestors from the first one already in: the rest above it are in too. Each
            # element is added once, so a deep page with many scripts stays linear.
            for ancestor in hidden.iterancestors():
                if ancestor in self.near_hidden:
                    break
                self.near_hidden.add(ancestor)

    def first(self, tag: str) -> Element | None:
        """The first element of that name in document order, the root included."""
        return next(self.root.iter(tag), None)

    def text_of(self, element: Element, separator: str = " ") -> str:
        """What BeautifulSoup's element.get_text(separator) returns."""
        if element not in self.near_hidden:
            if len(element) == 0:  # most links: no iterator needed
                return element.text or ""
            return separator.join(element.itertext())  # leaves out comments
        return separator.join(_plain_strings(element, plain=False))

    def bounded_text(self, element: Element, limit: int) -> tuple[str | None, int]:
        """(text_of(element), its cost), or (None, cost) once the cost passes limit.

        The cost is the elements visited plus the characters read: a deep chain of empty
        elements costs as much as a long text, so a caller with a budget stays linear.
        """
        visits = [0]
        strings, read = [], 0
        walk = _plain_strings(element, element not in self.near_hidden, visits, limit)
        for text in walk:
            strings.append(text)
            read += len(text)
            if visits[0] + read > limit:
                return None, visits[0] + read
        cost = visits[0] + read
        return (" ".join(strings) if cost <= limit else None), cost

    def strings_before(
        self, node: Element, read: Callable[[Element], str] | None = None
    ) -> Iterator[str]:
        """What BeautifulSoup's node.previous_siblings yields, nearest first, read as text.

        An element gives its text (as read() reads it: text_of by default); a comment or
        processing instruction gives "", as does a string inside a hidden element
        (BeautifulSoup does not count it as a plain string).
        """
        read = read or self.text_of
        parent = node.getparent()
        # An element outside near_hidden has no hidden element around it: no need to look.
        plain = (
            parent is None
            or parent not in self.near_hidden
            or not (
                parent.tag in HIDDEN_TEXT
                or next(parent.iterancestors(*HIDDEN_TEXT), None) is not None
            )
        )
        sibling = node.getprevious()
        while sibling is not None:
            if sibling.tail:
                yield sibling.tail if plain else ""
            yield read(sibling) if is_element(sibling) else ""
            sibling = sibling.getprevious()
        if parent is not None and parent.text:
            yield parent.text if plain else ""


def _plain_strings(
    element: Element, plain: bool, visits: list[int] | None = None, limit: int | None = None
) -> Iterator[str]:
    """The text nodes in element of the same kind as element, in document order.

    For most elements, those with no hidden element around them; for a hidden element (a
    <script>), those whose nearest hidden element is of its kind. One walk of the subtree:
    asking each text node for its nearest hidden ancestor (an XPath) costs the page's depth
    for every string, which a deeply nested page makes quadratic. plain says that no hidden
    element is around or inside element (it is not in HtmlTree.near_hidden). visits, if
    given, counts the nodes walked; the walk stops once it passes limit.
    """
    if element.tag in HIDDEN_TEXT:
        kind = element.tag
    else:
        kind = ""
        if not plain and next(element.iterancestors(*HIDDEN_TEXT), None) is not None:
            return  # every string in it is inside that hidden element
    # (node, name of the nearest hidden element around it or itself) or (string, None).
    stack: list[tuple[Any, str | None]] = [(element, kind)]
    walked = []  # see KEEP_WALKED
    while stack:
        node, around = stack.pop()
        if around is None:
            yield node
            continue
        walked.append(node)
        if visits is not None:
            visits[0] += 1
            if limit is not None and visits[0] > limit:
                return
        nearest = node.tag if node.tag in HIDDEN_TEXT else around
        if node.text and nearest == kind and is_element(node):
            yield node.text
        for child in reversed(node):
            if child.tail and nearest == kind:
                stack.append((child.tail, None))
            stack.append((child, nearest))


def size_of(root: Element) -> tuple[int, int]:
    """How many elements the tree has, and how deeply they nest: one walk (see KEEP_WALKED)."""
    walked = []
    stack = [(root, 1)]
    deepest = 0
    while stack:
        node, depth = stack.pop()
        walked.append(node)
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node if is_element(child))
    return len(walked), deepest


def parse_html(html: str) -> HtmlTree:
    """Parse a page as BeautifulSoup(html, "lxml") does; no element at all gives an empty <html>."""
    root = _parse(html, etree.HTMLParser(huge_tree=True))
    if html.count("<") > _DEEP and _NEAR_DEPTH_LIMIT(root):
        root = _parse(html, etree.HTMLParser(target=etree.TreeBuilder()))
    return HtmlTree(root)


def _parse(html: str, parser: etree.HTMLParser) -> Element:
    parser.feed(html)
    root = parser.close()
    return root if root is not None else etree.Element("html")


def is_element(node: object) -> bool:
    """True for elements; False for comments and processing instructions."""
    return isinstance(node, etree._Element) and isinstance(node.tag, str)
