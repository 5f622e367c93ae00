"""Tests for audits.tree and audits.page: lxml reads a page exactly as BeautifulSoup did."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup, NavigableString, Tag

from audits.page import Link, parse_page
from audits.tree import HtmlTree, is_element, parse_html

# Markup where BeautifulSoup's reading is easy to get wrong: strings it files as script,
# style, template or ruby text, comments, text around <br>, and labels beside <time>.
TRICKY = [
    "<p>a &amp; b<!--c-->d<b>e</b>f<?pi x?>g</p>",
    "<template><a href='/t'>tmpl <b>link</b></a><p>Updated 1 May 2020</p></template><p>x</p>",
    "<ruby>漢<rt>kan</rt><rp>(</rp></ruby><main><p>Hello <rt>ruby <i>it</i></rt> world.</p></main>",
    "<dl><dt>Last updated</dt><dd><time datetime='2020-01-02'>2 Jan</time></dd></dl>",
    "<p>Reviewed <script>var x = 1</script><time datetime='2021-02-03'>x</time></p>",
    "<p><!-- Last updated --><time datetime='2021-03-03'>x</time> tail</p>",
    "<template><p>Published on <time datetime='2019-02-03'>x</time></p></template>",
    "<title>T<b>x</b>y</title><style>p {}</style><a href='/a'><span>One</span> two</a>",
    "<table><tr><td>Updated</td><td><time datetime='2020-07-08'>8 July</time></td></tr></table>",
]


def both(body: str) -> tuple[HtmlTree, BeautifulSoup]:
    html = f"<!doctype html><html lang='en'><body>{body}</body></html>"
    return parse_html(html), BeautifulSoup(html, "lxml")


def pairs(body: str) -> list[tuple[HtmlTree, object, Tag]]:
    page, soup = both(body)
    elements = [e for e in page.root.iter() if is_element(e)]
    tags = soup.find_all(True)
    assert [e.tag for e in elements] == [t.name for t in tags]  # the same tree
    return [(page, e, t) for e, t in zip(elements, tags, strict=True)]


@pytest.mark.parametrize("body", TRICKY)
def test_text_of_is_beautifulsoups_get_text(body: str) -> None:
    for page, element, tag in pairs(body):
        assert page.text_of(element) == tag.get_text(" "), tag.name
        assert page.text_of(element, "") == tag.get_text(), tag.name


def soup_strings_before(tag: Tag) -> list[str]:
    found = [
        s.get_text(" ") if isinstance(s, Tag) else (str(s) if type(s) is NavigableString else "")
        for s in tag.previous_siblings
    ]
    return [s for s in found if s.strip()]


@pytest.mark.parametrize("body", TRICKY)
def test_strings_before_are_beautifulsoups_previous_siblings(body: str) -> None:
    # Blank strings are left out: the doctype is a sibling of <html> only in BeautifulSoup,
    # and dates.py looks for the nearest string that is not blank.
    for page, element, tag in pairs(body):
        found = [s for s in page.strings_before(element) if s.strip()]
        assert found == soup_strings_before(tag), tag.name


def test_a_page_nested_deeper_than_libxml2_allows_is_read_to_the_end() -> None:
    # libxml2 drops everything past about 2,048 levels; BeautifulSoup did not.
    deep = "<div>" * 3000 + "deep text" + "</div>" * 3000
    page = parse_html(f"<body>{deep}<p>After</p></body>")
    text = " ".join(page.text_of(page.root).split())
    assert text == "deep text After"


@pytest.mark.parametrize("html", ["", "   ", "<!-- only a comment -->"])
def test_a_page_with_no_elements_has_no_facts(html: str) -> None:
    facts = parse_page(html)
    assert (facts.title, facts.lang, facts.links, facts.meta) == (None, None, [], {})
    assert facts.readability.reason == "no text"


def test_page_facts() -> None:
    facts = parse_page(
        """<!doctype html><html xml:lang="cy"><head><title> Bins
        and  recycling </title><meta name="Owner" content=" waste "><meta property="owner"
        content="second"><link rel="Alternate Stylesheet" href="/alt.css"><link rel="icon"
        href="/i.png"><link rel="stylesheet" href="/site.css"></head><body>
        <a href="/a"><img alt="x"> Collection <b>days</b></a><a href="">Empty</a>
        <a aria-label="Map">  </a><a href="/map" aria-label="Map"></a><area href="/area">
        <iframe src="/frame"></iframe><iframe></iframe><frame src="/f2"></body></html>"""
    )
    assert facts.title == "Bins and recycling"
    assert facts.lang == "cy"
    assert facts.meta == {"owner": "waste"}
    assert facts.stylesheets == ["/alt.css", "/site.css"]
    assert facts.links == [
        Link("/a", "Collection days"),
        Link("", "Empty"),
        Link("/map", "Map"),
        Link("/area", ""),
    ]
    assert facts.frames == ["/frame", "/f2"]
