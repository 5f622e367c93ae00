"""Pages are parsed with lxml, but their text is read as BeautifulSoup reads it: the figures
were first measured with BeautifulSoup(html, "lxml"), and beautifulsoup4 stays their definition."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from audits.tree import is_element, parse_html

DEMO_SITE = Path(__file__).resolve().parent.parent / "app" / "demo_site"
TRICKY = """<!doctype html><html lang="en"><head><title>A <b>title</b></title>
<style>p { color: red }</style><script>var s = "<p>not text</p>";</script></head>
<body><p>One <!-- a comment --> two<template><p>inside a template</p></template> three</p>
<ruby>漢<rp>(</rp><rt>kan</rt><rp>)</rp></ruby><div>a<span>b<script>x</script></span>c</div>
<table><tr><td>cell</td></tr></table><noscript>no script</noscript></body></html>"""


def pages() -> list[tuple[str, str]]:
    found = [
        (p.relative_to(DEMO_SITE).as_posix(), p.read_text()) for p in DEMO_SITE.rglob("*.html")
    ]
    return [*sorted(found), ("tricky", TRICKY)]


@pytest.mark.parametrize(("name", "html"), pages(), ids=[name for name, _ in pages()])
def test_every_elements_text_is_what_beautifulsoup_reads(name: str, html: str) -> None:
    tree = parse_html(html)
    ours = [element for element in tree.root.iter() if is_element(element)]
    theirs = BeautifulSoup(html, "lxml").find_all(True)
    assert [element.tag for element in ours] == [tag.name for tag in theirs]
    for element, tag in zip(ours, theirs, strict=True):
        # Every reader of the text splits it into words: spacing between them is not compared.
        assert words(tree.text_of(element)) == words(tag.get_text(" ")), (name, element.tag)


def words(text: str) -> list[str]:
    return text.split()
