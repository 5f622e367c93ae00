"""Read a page too big to hold as a tree: its text, title, language and size, in one pass."""

from __future__ import annotations

from typing import Any

from lxml import etree

from audits.readability import _BLOCK_TAGS, Readability, measure, skipped_by_name_or_role

# A title longer than this is a hostile page's, not a title: the rest is not kept.
TITLE_LIMIT = 1000


def element_estimate(html: str) -> int:
    """Roughly how many elements the page has, without parsing it: start tags, comments and
    stray "<" in text are counted too, so it errs high. Runs at C speed with no copies."""
    return html.count("<") - html.count("</")


class TextCollector:
    """An lxml parser target: keeps the text blocks a reader sees, and counts elements,
    without building the tree (a tree of 250,000 elements takes a reader ~300 MB)."""

    def __init__(self) -> None:
        self.elements = 0
        self.deepest = 0
        self.open: list[bool] = []  # for each open element: is its content skipped?
        self.skipped = 0  # open elements whose content is boilerplate
        self.lang: str | None = None
        self.seen_html = False
        self.in_title = False
        self.title: list[str] = []
        self.title_chars = 0
        self.line: list[str] = []
        self.blocks: list[str] = []

    def start(self, tag: Any, attrib: Any) -> None:
        self.elements += 1
        self.deepest = max(self.deepest, len(self.open) + 1)
        tag = tag if isinstance(tag, str) else ""
        if tag == "html" and not self.seen_html:
            self.seen_html = True
            lang = attrib.get("lang") or attrib.get("xml:lang")
            self.lang = lang.strip() or None if isinstance(lang, str) else None
        skip = is_boilerplate(tag, attrib)
        self.open.append(skip)
        self.skipped += skip
        self.in_title = tag == "title" and not self.title
        if tag in _BLOCK_TAGS or tag == "br":
            self.flush()

    def end(self, tag: Any) -> None:
        if self.open:
            self.skipped -= self.open.pop()
        self.in_title = False
        if tag in _BLOCK_TAGS:
            self.flush()

    def data(self, text: str) -> None:
        if self.in_title and self.title_chars < TITLE_LIMIT:
            self.title.append(text)
            self.title_chars += len(text)
        if not self.skipped:
            self.line.append(text)

    def comment(self, text: str) -> None:
        """Comments are neither text nor elements."""

    def flush(self) -> None:
        text = " ".join("".join(self.line).split())
        self.line.clear()
        if text:
            self.blocks.append(text)

    def close(self) -> None:
        self.flush()


def is_boilerplate(tag: str, attrib: Any) -> bool:
    """What audits/readability.py leaves out by name or role, and the head (whose title is
    kept apart). Search forms and cookie banners, which it finds from their content and
    classes, are read here as text."""
    return tag in ("head", "title") or skipped_by_name_or_role(tag, attrib)


def read_text_only(html: str) -> TextCollector:
    """The page's text blocks, title, language and element count, from one streamed parse."""
    collector = TextCollector()
    parser = etree.HTMLParser(target=collector, huge_tree=True)
    parser.feed(html)
    parser.close()
    return collector


def title_of(collector: TextCollector) -> str | None:
    return " ".join("".join(collector.title).split())[:TITLE_LIMIT] or None


def readability_of(collector: TextCollector) -> Readability:
    return measure(collector.blocks, collector.lang)
