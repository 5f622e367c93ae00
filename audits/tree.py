"""A page's HTML parsed once with lxml, and its text read the way BeautifulSoup reads it."""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

Element = etree._Element

# BeautifulSoup files the text inside these elements as other kinds of string (Script,
# Stylesheet, TemplateString, ruby text) that its get_text() leaves out. Figures were
# measured that way before siteaudit read pages with lxml, so Document.text_of keeps to it.
HIDDEN_TEXT = ("script", "style", "template", "rt", "rp")
_NEAREST_HIDDEN = "ancestor::*[" + " or ".join(f"self::{t}" for t in HIDDEN_TEXT) + "][1]"
# Text nodes of the same kind as the element read: for most elements, those with no hidden
# ancestor at all ($kind = "", the name of no node); for a <script>, the script's own text.
_STRINGS = etree.XPath(f".//text()[name({_NEAREST_HIDDEN}) = $kind]", smart_strings=False)
# libxml2 stops building its tree about 2,048 elements deep and silently drops the rest of
# the page; BeautifulSoup, which builds its own tree from the same parser's events, has no
# such limit. Nearly that deep (only possible with thousands of tags), parse again that way.
_DEEP = 2000
_NEAR_DEPTH_LIMIT = etree.XPath("boolean(/*" + "/*" * (_DEEP - 1) + ")")


class Document:
    """A parsed page: its root element, and its elements' text as BeautifulSoup reads it."""

    def __init__(self, root: Element) -> None:
        self.root = root
        # Elements with a hidden element around or inside them. Only their text needs the
        # careful reading; any other element's text is all of its text, which is faster.
        self.near_hidden: set[Element] = set()
        for hidden in root.iter(*HIDDEN_TEXT):
            self.near_hidden.add(hidden)
            self.near_hidden.update(hidden.iterancestors())
            self.near_hidden.update(hidden.iterdescendants())

    def first(self, tag: str) -> Element | None:
        """The first element of that name in document order, the root included."""
        return next(self.root.iter(tag), None)

    def text_of(self, element: Element, separator: str = " ") -> str:
        """What BeautifulSoup's element.get_text(separator) returns."""
        if element not in self.near_hidden:
            if len(element) == 0:  # most links: no iterator needed
                return element.text or ""
            return separator.join(element.itertext())  # leaves out comments
        kind = element.tag if element.tag in HIDDEN_TEXT else ""
        return separator.join(_STRINGS(element, kind=kind))

    def strings_before(self, node: Element) -> Iterator[str]:
        """What BeautifulSoup's node.previous_siblings yields, nearest first, read as text.

        An element gives its text; a comment or processing instruction gives "", as does a
        string inside a hidden element (BeautifulSoup does not count it as a plain string).
        """
        parent = node.getparent()
        plain = parent is None or not (
            parent.tag in HIDDEN_TEXT or next(parent.iterancestors(*HIDDEN_TEXT), None) is not None
        )
        sibling = node.getprevious()
        while sibling is not None:
            if sibling.tail:
                yield sibling.tail if plain else ""
            yield self.text_of(sibling) if is_element(sibling) else ""
            sibling = sibling.getprevious()
        if parent is not None and parent.text:
            yield parent.text if plain else ""


def parse_html(html: str) -> Document:
    """Parse a page as BeautifulSoup(html, "lxml") does; no element at all gives an empty <html>."""
    root = _parse(html, etree.HTMLParser(huge_tree=True))
    if html.count("<") > _DEEP and _NEAR_DEPTH_LIMIT(root):
        root = _parse(html, etree.HTMLParser(target=etree.TreeBuilder()))
    return Document(root)


def _parse(html: str, parser: etree.HTMLParser) -> Element:
    parser.feed(html)
    root = parser.close()
    return root if root is not None else etree.Element("html")


def is_element(node: object) -> bool:
    """True for elements; False for comments and processing instructions."""
    return isinstance(node, etree._Element) and isinstance(node.tag, str)
