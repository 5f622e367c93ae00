"""The Tab walk through <main> only, on pages whose template an earlier page's walk went
through: the same focus order and findings as a walk of the whole page, in real Chromium."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from app.demo import serve_site
from browser.browser import LARGE_PAGE_BYTES, BrowserSession
from browser.focus_templates import FocusTemplates, checked_record, record_bytes
from browser.keyboard_checks import check_focus
from browser.launch import BrowserOptions
from browser.own_checks import CheckPage, CheckResult
from tests.conftest import shared_corpus
from tests.sites.generate import generate_site
from tests.test_layout_checks import page_job

pytestmark = pytest.mark.browser

# A council template: a skip link, a header with a menu (one link's focus hidden), and a
# footer (a link that drops focus, one whose focus is hidden) around each page's <main>.
HEAD = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{title} | Template Council</title>
<style>
a {{ color: #1d70b8; }}
.plain:focus {{ outline: none; }}
.shown:focus {{ outline: 3px solid #fd0; }}
</style></head>
<body>
<a href="#main" class="skip shown">Skip to main content</a>
<header><a href="/" class="shown">Template Council</a>
<nav aria-label="Main"><ul>
<li><a href="/a.html"{current}>Bins</a></li>
<li><a href="/b.html" class="plain" id="nav-plain">Council tax</a></li>
<li><a href="/c.html">Planning</a></li>
</ul></nav></header>
"""
FOOT = """<footer><a href="/contact" class="shown">Contact us</a>
<a href="/privacy" id="foot-lost" onfocus="this.blur()">Privacy</a>
<a href="/a11y" class="plain" id="foot-plain">Accessibility</a></footer>
</body>
</html>
"""
# Each page's own <main> (page c's menu differs: one of its links has aria-current).
MAINS = {
    "a": (
        "<p>Put your <a href='/bins/day' class='shown'>bin day</a> and "
        "<a href='/bins/missed' class='plain' id='main-plain'>missed bins</a> here.</p>"
    ),
    "b": (
        "<p><button class='plain' id='pay'>Pay</button> "
        "<input aria-label='Reference' id='ref'> <a href='/tax/bands'>Bands</a></p>"
    ),
    "c": "<p>Nothing to press on this page.</p>",
    "d": "<p><a href='/first' tabindex='1' id='first'>First</a> <a href='/then'>Then</a></p>",
    "e": (
        "<p><a href='/jump' id='jump' "
        "onfocus=\"document.getElementById('nav-plain').focus()\">Jump</a></p>"
    ),
    "f": (
        "<p><input aria-label='Stuck' id='trap' "
        "onkeydown=\"if (event.key === 'Tab') event.preventDefault()\"></p>"
    ),
    "g": (
        "<p><a href='/late' id='late' onfocus=\"if (!document.getElementById('added')) "
        "{ const b = document.createElement('button'); b.id = 'added'; "
        "b.textContent = 'Added'; document.querySelector('footer').prepend(b); }\">"
        "Late</a></p>"
    ),
}
# The pages in the order audited, and the walks so far that reused known blocks (the skip
# link, header and footer are blocks beside <main>). a: walked whole, its blocks
# kept. b: all three known, <main> walked. c: its header differs (aria-current), so the
# header and <main> are walked. d: a positive tabindex, walked whole. e: its own link sends
# focus into the header, so the walk gives up and walks the whole page. f: a keyboard trap in
# <main>, known blocks reused. g: its link adds a button to the footer: given up, whole.
TEMPLATE_PAGES = {"a": 0, "b": 1, "c": 2, "d": 2, "e": 2, "f": 3, "g": 3}


def write_template_site(root: Path) -> None:
    for name, main in MAINS.items():
        current = ' aria-current="page"' if name == "c" else ""
        page = f'<main id="main"><h1>Page {name}</h1>{main}</main>\n'
        (root / f"{name}.html").write_text(HEAD.format(title=name, current=current) + page + FOOT)


def found(result: CheckResult) -> dict[str, Any]:
    """What a focus check gave: the order, and each rule's elements with what was said."""
    return {
        "order": result.focus_order,
        "errors": result.errors,
        **{
            kind: sorted(
                (rule["id"], node["target"][0], node["html"], node["failureSummary"])
                for rule in rules
                for node in rule["nodes"]
            )
            for kind, rules in result.results().items()
        },
    }


def whole_walk(session: BrowserSession) -> dict[str, Any]:
    """The focus check of the loaded page with no template known."""
    assert session.devtools is not None
    page = CheckPage(session.devtools, time.monotonic() + 30, session.options.viewport)
    return found(check_focus(page))


def audit_both_ways(site: Path, paths: list[str]) -> list[tuple[str, dict, dict, int]]:
    """Each page audited in one session (templates reused), then walked whole again on
    the same page: (path, as audited, walked whole, template walks so far)."""
    options = BrowserOptions(local_site=True, private_hosts=("127.0.0.1",), checks=("focus",))
    done = []
    with serve_site(site) as base:
        session = BrowserSession(options, focus_templates=FocusTemplates()).start()
        try:
            for path in paths:
                job = page_job(base + path)
                outcome = session.audit(job)
                reused = session.focus_templates.reused
                if len(job.body) > LARGE_PAGE_BYTES:  # left for about:blank: load it again
                    session.devtools.expect(job, options.blocked_hosts)
                    session.driver.get(job.url)
                done.append((path, found(outcome.own), whole_walk(session), reused))
        finally:
            session.close()
    return done


def test_a_template_walk_finds_what_the_whole_walk_finds(tmp_path: Path) -> None:
    write_template_site(tmp_path)
    paths = [f"/{name}.html" for name in TEMPLATE_PAGES]
    for (path, audited, whole, reused), name in zip(
        audit_both_ways(tmp_path, paths), TEMPLATE_PAGES, strict=True
    ):
        assert audited == whole, path
        assert reused == TEMPLATE_PAGES[name], path
        if name == "b":  # the template's own faults are the page's, on its elements
            violations = {(rule, target) for rule, target, _, _ in audited["violations"]}
            assert violations == {
                ("siteaudit-focus-visible", "#nav-plain"),
                ("siteaudit-focus-visible", "#pay"),
                ("siteaudit-focus-lost", "#foot-lost"),
                ("siteaudit-focus-visible", "#foot-plain"),
            }
            assert audited["order"][3:] == [
                "#nav-plain",
                "li:nth-child(3) > a:nth-child(1)",
                "#pay",
                "#ref",
                "p:nth-child(2) > a:nth-child(3)",
                "footer:nth-child(4) > a:nth-child(1)",
                "#foot-lost",
                "#foot-plain",
            ]
        if name == "f":
            assert ("siteaudit-keyboard-trap", "#trap") in {
                (rule, target) for rule, target, _, _ in audited["violations"]
            }


def test_generated_pages_walked_through_main_match_whole_walks(tmp_path: Path) -> None:
    """tests/sites/generate.py's site, its faults in place: one whole walk, then every
    other page through its <main> alone, each the same as its whole walk."""
    paths = generate_site(tmp_path, 12, defects=True)
    results = audit_both_ways(tmp_path, paths)
    for path, audited, whole, _ in results:
        assert audited == whole, path
        assert len(audited["order"]) > 20, path
    assert results[-1][3] == len(paths) - 1


def test_a_real_sites_pages_walked_block_by_block_match_whole_walks() -> None:
    """A GOV.UK Frontend site nobody here wrote: its pages share a header and footer but each
    has its own breadcrumbs beside <main>, which are walked with it."""
    site = shared_corpus("digital-land") / "site"
    if not site.is_dir():
        pytest.skip("../shared/corpora/digital-land is not here")
    paths = sorted("/" + p.relative_to(site).as_posix() for p in site.rglob("index.html"))
    paths = [p for p in paths if " " not in p and not p.startswith("/map/")][:40]
    results = audit_both_ways(site, paths)
    for path, audited, whole, _ in results:
        assert audited == whole, path
    assert results[-1][3] >= 30  # walks that reused the header and footer


def test_a_block_record_from_a_page_is_checked_before_it_is_kept() -> None:
    good = {"sig": "x", "count": 3, "stops": [0, 2], "verdicts": {"2": ["lost", "?"]}}
    assert checked_record(good) == good
    for bad in (
        None,
        {**good, "stops": [3]},
        {**good, "stops": ["0"]},
        {**good, "verdicts": {"2": ["gone", "?"]}},
        {**good, "verdicts": {str(n): ["lost", ""] for n in range(5)}},
        {**good, "sig": 1},
    ):
        assert checked_record(bad) is None, bad


def test_kept_records_are_bounded_in_number_and_bytes() -> None:
    """A hostile site's pages, each with a block of its own full of faults, cannot make a
    scan keep more than the bounds: the least recently met records go first."""

    def record(n: int) -> dict:
        stops = list(range(100))
        return {
            "sig": f"s{n:02d}",
            "count": 100,
            "stops": stops,
            "verdicts": {str(i): ["hidden", "x" * 1000] for i in stops},
        }

    size = record_bytes(checked_record(record(0)))
    templates = FocusTemplates(max_blocks=50, max_bytes=10 * size)
    templates.put([record(0)])
    for n in range(1, 30):
        templates.known(["s00"])  # the site's header, met on every page, stays
        templates.put([record(n)])
    assert len(templates.blocks) == 10 and templates.bytes <= 10 * size
    assert {"s00", "s29"} <= set(templates.blocks) and "s01" not in templates.blocks
    many = FocusTemplates(max_blocks=3)
    many.put([{"sig": f"b{n}", "count": 0, "stops": [], "verdicts": {}} for n in range(9)])
    assert list(many.blocks) == ["b6", "b7", "b8"]
