"""A page with more elements than audit.max_elements is read as a stream of text, not a tree."""

from __future__ import annotations

from audits.page import parse_page


def many_elements_page(count: int) -> str:
    cells = " ".join(f"<span>cell{i}</span>" for i in range(count))
    return (
        '<html lang="en"><head><title>A  huge\npage</title><script>var x = "<b>";</script>'
        "</head><body><nav><a href='/menu'>Menu words</a></nav>"
        "<p>The council collects bins every week. Put your bin out by seven.</p>"
        f"<div hidden>Hidden words</div><p>{cells}</p><a href='/next'>Next page</a></body></html>"
    )


def test_a_page_over_the_element_limit_is_judged_on_its_text_alone() -> None:
    html = many_elements_page(3000)
    facts = parse_page(html, max_elements=1000)
    assert facts.elements > 3000  # counted exactly, so the browser is told it is too complex
    assert facts.links == []  # links on such a page are not followed
    assert facts.title == "A huge page"
    assert facts.lang == "en"
    # The text a reader sees, without the navigation, the script or hidden parts.
    tree = parse_page(html)
    assert facts.readability.word_count == tree.readability.word_count
    assert facts.readability.word_count > 3000


def test_a_page_within_the_limit_is_read_as_a_tree() -> None:
    html = many_elements_page(100)
    assert parse_page(html, max_elements=1000) == parse_page(html)
    assert [link.href for link in parse_page(html, max_elements=1000).links] == ["/menu", "/next"]


def test_stray_angle_brackets_do_not_make_a_small_page_text_only() -> None:
    # "<" in text counts toward the estimate, but the exact count decides.
    html = "<html><body><p>" + "a &lt; b < c " * 2000 + "<a href='/x'>x</a></p></body></html>"
    assert parse_page(html, max_elements=1000).links != []
