"""siteaudit's checks across the site: titles, link purpose, headings and labels, consistent
navigation and identification, multiple ways; from the HTML as sent (docs/checks.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.demo import serve_site
from audits.page import parse_page
from audits.site_checks import page_findings, structure_json
from audits.site_consistency import MIN_PAGES_FOR_WAYS, SitePage, site_findings
from tests.conftest import SITES, query, run_siteaudit
from vocabulary.checks import SITE_CHECKS

BASE = "https://www.example.gov.uk"


def page(body: str, title: str = "A page - Example") -> str:
    return f"<!DOCTYPE html><html><head><title>{title}</title></head><body>{body}</body></html>"


def on_page(body: str, checks: tuple[str, ...] = SITE_CHECKS) -> list[tuple[str, str]]:
    """(rule id, outcome) of each finding one page's checks give."""
    facts = parse_page(page(body))
    return [(f.rule_id, f.outcome) for f in page_findings(f"{BASE}/a", facts.structure, checks)]


def site_page(path: str, html: str) -> SitePage:
    url = BASE + path
    facts = parse_page(html)
    return SitePage(
        url, facts.title, facts.content_hash, json.loads(structure_json(url, facts.structure))
    )


def across(
    pages: dict[str, str], checks: tuple[str, ...] = SITE_CHECKS
) -> list[tuple[str, str, str]]:
    """(path, rule id, outcome) of each finding the checks across these pages give."""
    found = site_findings([site_page(p, h) for p, h in pages.items()], BASE + "/", checks)
    return sorted((f.url.removeprefix(BASE), f.rule_id, f.outcome) for f in found)


# --- links ---


def test_a_generic_link_with_no_context_is_a_violation() -> None:
    assert on_page("<div><a href='/x'>Click here</a></div>") == [
        ("siteaudit-link-purpose", "violation")
    ]


def test_a_generic_link_in_a_sentence_is_for_review() -> None:
    found = on_page("<p>Pay your council tax online. <a href='/x'>Read more</a></p>")
    assert found == [("siteaudit-link-purpose", "needs-review")]


def test_a_generic_link_under_a_heading_is_for_review() -> None:
    found = on_page("<h2>Council tax bands</h2><div><a href='/x'>More</a></div>")
    assert found == [("siteaudit-link-purpose", "needs-review")]


def test_a_link_that_says_where_it_goes_passes() -> None:
    assert on_page("<div><a href='/x'>Council tax bands</a></div>") == []


def test_a_bare_url_is_for_review_and_a_link_to_a_section_is_skipped() -> None:
    assert on_page("<div><a href='https://a.example/x'>https://a.example/x</a></div>") == [
        ("siteaudit-link-purpose", "needs-review")
    ]
    assert on_page("<div><a href='#more'>More</a></div>") == []


def test_an_image_link_is_named_by_its_alt_text() -> None:
    assert on_page("<div><a href='/x'><img src='i.png' alt='here'></a></div>") == [
        ("siteaudit-link-purpose", "violation")
    ]
    assert on_page("<div><a href='/x' aria-label='Council tax bands'>here</a></div>") == []


def test_one_name_for_two_places_is_for_review_and_for_one_place_passes() -> None:
    two = "<ul><li><a href='/a'>Apply now</a></li><li><a href='/b'>Apply now</a></li></ul>"
    assert on_page(two) == [("siteaudit-link-ambiguous", "needs-review")]
    one = "<ul><li><a href='/a'>Apply now</a></li><li><a href='/a/'>Apply now</a></li></ul>"
    assert on_page(one) == []


def test_links_are_not_judged_unless_chosen() -> None:
    assert on_page("<div><a href='/x'>Click here</a></div>", ("headings",)) == []


# --- headings and labels ---


def test_an_empty_heading_is_a_violation_unless_a_script_may_fill_it() -> None:
    assert on_page("<h2></h2><p>Text</p>") == [("siteaudit-heading-empty", "violation")]
    assert on_page("<h2 id='count'></h2>") == [("siteaudit-heading-empty", "needs-review")]
    assert on_page("<h2><img src='i.png' alt='Council tax'></h2>") == []
    assert on_page("<h2 hidden></h2>") == []


def test_a_repeated_heading_is_for_review() -> None:
    assert on_page("<h2>Address</h2><h2>Address</h2>") == [
        ("siteaudit-heading-duplicate", "needs-review")
    ]
    assert on_page("<h2>Address</h2><h3>Address</h3>") == []


def test_one_label_for_different_fields_is_for_review() -> None:
    form = (
        "<form><label for='a'>Name</label><input id='a' name='first'>"
        "<label for='b'>Name</label><input id='b' name='second'></form>"
    )
    assert on_page(form) == [("siteaudit-label-duplicate", "needs-review")]
    radios = (
        "<fieldset><legend>Do you rent?</legend><label><input type=radio name=r1>Yes</label>"
        "</fieldset><fieldset><legend>Do you own?</legend><label><input type=radio name=r2>Yes"
        "</label></fieldset>"
    )
    assert on_page(radios) == []


# --- titles ---

NAV = (
    "<nav><a href='/'>Home</a><a href='/bins'>Bins</a><a href='/tax'>Council tax</a>"
    "<a href='/contact'>Contact</a></nav>"
)


def test_titles_missing_generic_and_the_site_name_alone() -> None:
    pages = {
        "/": page(NAV + "<p>Home</p>", "Example Council"),
        "/bins": page(NAV + "<p>Bins</p>", "Bins - Example Council"),
        "/tax": page(NAV + "<p>Tax</p>", "Example Council"),
        "/contact": page(NAV + "<p>Contact</p>", ""),
        "/help": page(NAV + "<p>Help</p>", "Untitled document"),
        "/pay": page(NAV + "<p>Pay</p>", "| Example Council"),
    }
    found = [f for f in across(pages, ("titles",)) if f[1] != "siteaudit-title-duplicate"]
    assert found == [
        ("/contact", "siteaudit-title-missing", "violation"),
        ("/help", "siteaudit-title-generic", "violation"),
        ("/pay", "siteaudit-title-generic", "violation"),
        ("/tax", "siteaudit-title-generic", "violation"),
    ]


def test_a_greeting_title_is_for_review_off_the_home_page() -> None:
    pages = {
        "/": page("<p>Home</p>", "Welcome to Example Council"),
        "/news/home.html": page("<p>News</p>", "Welcome to Example Council news"),
        "/bins": page("<p>Bins</p>", "Welcome to Example Council: bins"),
    }
    assert across(pages, ("titles",)) == [("/bins", "siteaudit-title-generic", "needs-review")]


def test_one_title_for_different_content_is_for_review() -> None:
    pages = {
        "/a": page("<p>One</p>", "Weeknote - Example"),
        "/b": page("<p>Two</p>", "Weeknote - Example"),
        "/c": page("<p>One</p>", "Other - Example"),
        "/c?print=1": page("<p>One</p>", "Other - Example"),
    }
    assert across(pages, ("titles",)) == [
        ("/a", "siteaudit-title-duplicate", "needs-review"),
        ("/b", "siteaudit-title-duplicate", "needs-review"),
    ]


# --- consistency ---


def test_navigation_in_another_order_is_a_violation() -> None:
    moved = (
        "<nav><a href='/'>Home</a><a href='/contact'>Contact</a><a href='/bins'>Bins</a>"
        "<a href='/tax'>Council tax</a></nav>"
    )
    pages = {p: page(NAV + f"<p>{p}</p>") for p in ("/", "/bins", "/tax")}
    assert across(pages, ("consistency",)) == []
    pages["/contact"] = page(moved + "<p>Contact</p>")
    assert across(pages, ("consistency",)) == [
        ("/contact", "siteaudit-navigation-order", "violation")
    ]


def test_navigation_without_the_current_page_keeps_its_order() -> None:
    pages = {p: page(NAV + f"<p>{p}</p>") for p in ("/", "/bins", "/tax")}
    pages["/contact"] = page(
        "<nav><a href='/'>Home</a><a href='/bins'>Bins</a><a href='/tax'>Council tax</a></nav>"
    )
    assert across(pages, ("consistency",)) == []


def test_the_same_link_named_differently_or_not_at_all() -> None:
    logo = "<header><a href='/'><img src='l.png' alt='{}'></a></header><p>{}</p>"
    pages = {p: page(logo.format("Example Council home", p)) for p in ("/", "/bins", "/tax")}
    assert across(pages, ("consistency",)) == []
    pages["/contact"] = page(logo.format("", "contact"))
    pages["/pay"] = page(logo.format("Start page", "pay"))
    assert across(pages, ("consistency",)) == [
        ("/contact", "siteaudit-identification", "violation"),
        ("/pay", "siteaudit-identification", "needs-review"),
    ]


def test_a_search_named_differently_is_for_review() -> None:
    search = "<form role='search'><input name='q' aria-label='{}'><button>Go</button></form>"
    pages = {p: page(search.format("Search")) for p in ("/", "/bins", "/tax")}
    assert across(pages, ("consistency",)) == []
    pages["/pay"] = page(search.format("Find"))
    assert across(pages, ("consistency",)) == [("/pay", "siteaudit-identification", "needs-review")]


# --- ways ---


def test_fewer_than_two_ways_is_one_finding_for_the_layout() -> None:
    paths = ["/", *(f"/page-{n}" for n in range(1, MIN_PAGES_FOR_WAYS))]
    pages = {p: page(NAV + f"<p>{p}</p>") for p in paths}
    found = site_findings([site_page(p, h) for p, h in pages.items()], BASE + "/", ("ways",))
    assert [(f.url, f.rule_id, f.outcome, f.scope) for f in found] == [
        (BASE + "/", "siteaudit-multiple-ways", "needs-review", "template")
    ]
    smaller = [site_page(p, h) for p, h in pages.items()][:-1]
    assert site_findings(smaller, BASE + "/", ("ways",)) == []  # found from its home page
    with_ways = NAV + "<form role='search'><input name='q'></form><a href='/site-map'>Site map</a>"
    pages["/bins"] = page(with_ways)
    assert across(pages, ("ways",)) == []


def test_a_lone_page_is_no_set_of_pages() -> None:
    assert across({"/": page(NAV)}, ("ways", "consistency")) == []


# --- a scan ---


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    db = tmp_path_factory.mktemp("sitechecks") / "scan.db"
    with serve_site(SITES / "sitechecks") as base:
        result = run_siteaudit(
            "scan", base + "/", "--db", str(db), "--no-browser",
            "--checks", "titles,links,headings,consistency,ways",
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return db, base


def test_a_scan_stores_the_site_checks_findings(scanned: tuple[Path, str]) -> None:
    db, base = scanned
    rows = query(
        db,
        "SELECT url, rule_id, outcome, wcag, level, kind FROM findings "
        "WHERE rule_id LIKE 'siteaudit-%' ORDER BY url, rule_id",
    )
    assert [(u.removeprefix(base), r, o) for u, r, o, *_ in rows] == [
        ("/", "siteaudit-title-duplicate", "needs-review"),
        ("/bins.html", "siteaudit-heading-empty", "violation"),
        ("/bins.html", "siteaudit-link-purpose", "violation"),
        ("/contact.html", "siteaudit-identification", "violation"),
        ("/contact.html", "siteaudit-label-duplicate", "needs-review"),
        ("/contact.html", "siteaudit-title-missing", "violation"),
        ("/tax.html", "siteaudit-link-purpose", "needs-review"),
        ("/tax.html", "siteaudit-navigation-order", "violation"),
        ("/tax.html", "siteaudit-title-duplicate", "needs-review"),
        ("/tax.html", "siteaudit-title-generic", "violation"),
    ]
    assert {(w, lv, k) for *_, w, lv, k in rows if _[1] == "siteaudit-title-missing"} == {
        ("2.4.2", "A", "accessibility")
    }


def test_a_scan_stores_each_pages_structure(scanned: tuple[Path, str]) -> None:
    db, base = scanned
    (structure,) = query(db, "SELECT structure FROM pages WHERE url = ?", base + "/tax.html")[0]
    stored = json.loads(structure)
    assert stored["ways"] == ["search", "sitemap"]
    assert [base + p for p in ("/", "/contact.html", "/bins.html", "/tax.html")] == stored[
        "navigation"
    ][0]["links"]
    assert stored["search"]["name"] == "Search / Search"


def test_without_the_site_checks_a_scan_finds_none_of_theirs(tmp_path: Path) -> None:
    db = tmp_path / "scan.db"
    with serve_site(SITES / "sitechecks") as base:
        result = run_siteaudit(
            "scan", base + "/", "--db", str(db), "--no-browser", "--checks", "axe"
        )
    assert result.returncode == 0, result.stderr
    assert query(db, "SELECT count(*) FROM findings WHERE rule_id LIKE 'siteaudit-%'") == [(0,)]
    assert query(db, "SELECT count(*) FROM pages WHERE structure IS NOT NULL") == [(5,)]


@pytest.mark.browser
def test_a_rescan_that_reuses_audits_judges_the_html_again_without_copies(tmp_path: Path) -> None:
    db = tmp_path / "scan.db"
    with serve_site(SITES / "sitechecks") as base:
        for _ in range(2):
            result = run_siteaudit(
                "scan", base + "/", "--db", str(db), "--checks", "axe,links,headings,titles"
            )
            assert result.returncode == 0, result.stderr
    assert query(db, "SELECT count(reused_from_scan) FROM pages WHERE scan_id = 2") == [(5,)]
    counts = query(
        db,
        "SELECT scan_id, count(*) FROM findings WHERE rule_id LIKE 'siteaudit-%' GROUP BY scan_id",
    )
    assert counts == [(1, 8), (2, 8)]
