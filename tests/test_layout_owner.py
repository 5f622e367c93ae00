"""The web team's view: the shared layout's problems, of every kind, are its own, once each."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from app.demo import serve_site
from reports.html import CELL_LIMIT, page_list
from store.database import open_database
from store.summary import scan_figures
from tests.conftest import query, run_siteaudit
from tests.test_counts_agree import Counted, assert_outputs_agree
from tests.test_documents import new_pdf, pdf_bytes

# One pixel: an image the footer shows without a text alternative.
PIXEL = "data:image/gif;base64,R0lGODlhAQABAAAAACw="
# The shared layout of every page: a footer with a link to a page that is gone (404), a link
# to a PDF without tags, and an image with no alt text.
PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
</head><body><header><a href="/">Home</a></header>
<main><h1>{title}</h1>{body}</main>
<footer><p><a href="/contact-us-old.html">Contact us</a> <a href="/privacy.pdf">Privacy</a></p>
<img src="{pixel}"></footer>
</body></html>"""
PAGES = {
    "index.html": ("Home", '<a href="/waste/">Waste</a> <a href="/tax/">Council tax</a>'),
    "waste/index.html": (
        "Waste",
        '<a href="/waste/collections.html">Collections</a>'
        # The editors' own problems: a broken link and an image, on this page only.
        '<a href="/waste/old-calendar.html">Old calendar</a>'
        f'<p><img src="{PIXEL}" class="photo"></p>',
    ),
    "waste/collections.html": ("Collections", "<p>Bins are collected weekly.</p>"),
    "tax/index.html": ("Council tax", '<a href="/tax/bands.html">Bands</a>'),
    "tax/bands.html": ("Bands", "<p>Eight bands, A to H.</p>"),
}
CONFIG = (
    '[[teams]]\nname = "Waste"\npaths = ["/waste/"]\n'
    '[[teams]]\nname = "Revenues"\npaths = ["/tax/"]\n'
)
FOOTER_LINK = "/contact-us-old.html"


@dataclass(frozen=True)
class Scanned:
    db: Path
    out: Path
    base: str
    printed: str  # the summary the scan printed


def scan_layout_site(tmp_path: Path, *options: str) -> Scanned:
    """Scan the five-page site (its report too) and return where it all went."""
    root = tmp_path / "site"
    for name, (title, body) in PAGES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(PAGE.format(title=title, body=body, pixel=PIXEL))
    (root / "privacy.pdf").write_bytes(pdf_bytes(new_pdf()))
    config = tmp_path / "teams.toml"
    config.write_text(CONFIG)
    db, out = tmp_path / "scan.db", tmp_path / "report"
    with serve_site(root) as base:
        result = run_siteaudit(
            "scan", f"{base}/", "--db", str(db), "--config", str(config), "--report", str(out),
            *options,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return Scanned(db, out, base, result.stderr)


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def layout_lists(html: str) -> list[list[str]]:
    """The pages of each layout problem on a team's page, from its folded lists."""
    soup = BeautifulSoup(html, "html.parser")
    return [[a["href"] for a in d.select("li a")] for d in soup.select("details.layout-pages")]


def test_a_broken_footer_link_is_one_layout_problem_without_the_browser(tmp_path: Path) -> None:
    # axe's checks alone: the checks across the site add a layout problem of their own (two
    # ways to find a page), which this test does not count.
    scanned = scan_layout_site(tmp_path, "--no-browser", "--checks", "axe")
    base = scanned.base
    every_page = sorted(f"{base}/{n.removesuffix('index.html')}" for n in PAGES)
    found = query(
        scanned.db,
        "SELECT url, scope, team, fingerprint FROM findings WHERE kind = 'broken-link' "
        "AND snippet = ? ORDER BY url",
        f"{base}{FOOTER_LINK}",
    )
    # Found on every page, with one fingerprint, and all of it the web team's.
    assert [url for url, *_ in found] == every_page
    assert {(scope, team) for _, scope, team, _ in found} == {("template", "Web Team")}
    assert len({fingerprint for *_, fingerprint in found}) == 1
    # The editors' own broken link stays theirs.
    assert query(
        scanned.db,
        "SELECT url, scope, team FROM findings WHERE kind = 'broken-link' AND snippet LIKE ?",
        "%old-calendar.html",
    ) == [(f"{base}/waste/", "content", "Waste")]
    # The web team's page and CSV list it once, with every page it is on.
    web = (scanned.out / "team-web-team.html").read_text()
    assert web.count("contact-us-old.html</pre>") == 1
    assert layout_lists(web) == [every_page]
    web_csv = csv_rows(scanned.out / "team-web-team.csv")
    (row,) = [r for r in web_csv if r["kind"] == "broken-link"]
    assert row["rule_id"] == "broken-link-internal" and row["url"] == ""
    assert row["layout_pages"].splitlines() == every_page
    # The PDF every page links is the web team's too, listed once as it always was.
    assert query(scanned.db, "SELECT url, team FROM documents") == [
        (f"{base}/privacy.pdf", "Web Team")
    ]
    assert {(r["url"], r["team"]) for r in web_csv if r["kind"] == "document"} == {
        (f"{base}/privacy.pdf", "Web Team")
    }
    assert "privacy.pdf" in web
    # No editor's page or CSV carries it; the index counts it once, as the web team's.
    for team in ("waste", "revenues", "unassigned"):
        assert FOOTER_LINK not in (scanned.out / f"team-{team}.html").read_text(), team
        assert FOOTER_LINK not in (scanned.out / f"team-{team}.csv").read_text(), team
    index = BeautifulSoup((scanned.out / "index.html").read_text(), "html.parser")
    broken = {
        row.th.get_text(): row.find_all("td")[5].get_text()
        for row in index.select("table")[0].select("tbody tr")
    }
    assert broken == {"Waste": "1", "Revenues": "0", "Unassigned": "0", "Web Team": "1"}
    figures = scan_figures(open_database(scanned.db, create=False), 1)
    assert figures.broken_links == {"broken-link-internal": 2}
    assert (figures.template_problems, figures.template_links) == (0, 1)
    assert "Template: 1 broken link repeated across the site's shared layout" in scanned.printed
    # The footer's link once, and Waste's own: not six.
    assert "Links and documents: 2 broken internal links" in scanned.printed
    # Every page's score says the shared layout lowered it, and who fixes that.
    revenues = (scanned.out / "team-revenues.html").read_text()
    assert "Lowered by: 1 problem in the shared layout (for Web Team to fix)." in revenues
    waste = (scanned.out / "team-waste.html").read_text()
    assert "1 broken link and 1 problem in the shared layout (for Web Team to fix)." in waste


@pytest.mark.browser
def test_layout_problems_of_every_kind_are_the_web_teams_once(tmp_path: Path) -> None:
    scanned = scan_layout_site(tmp_path, "--browsers", "1", "--checks", "axe")
    every_page = sorted(f"{scanned.base}/{n.removesuffix('index.html')}" for n in PAGES)
    layout = query(
        scanned.db,
        "SELECT DISTINCT kind, rule_id, team FROM findings WHERE scope = 'template' ORDER BY 1",
    )
    assert layout == [
        ("accessibility", "image-alt", "Web Team"),
        ("broken-link", "broken-link-internal", "Web Team"),
    ]
    web = (scanned.out / "team-web-team.html").read_text()
    assert layout_lists(web) == [every_page, every_page]
    assert "Problems in the shared layout (2)" in web
    assert "<dt>Who fixes it</dt><dd>Web Team (shared layout)</dd>" in web
    rows = [r for r in csv_rows(scanned.out / "team-web-team.csv") if r["layout_pages"]]
    assert sorted(r["rule_id"] for r in rows) == ["broken-link-internal", "image-alt"]
    assert all(r["layout_pages"].splitlines() == every_page for r in rows)
    # Waste keeps its own image without alt text and its own broken link, and no more.
    waste = csv_rows(scanned.out / "team-waste.csv")
    assert sorted((r["url"], r["rule_id"]) for r in waste if r["outcome"] == "violation") == [
        (f"{scanned.base}/waste/", "broken-link-internal"),
        (f"{scanned.base}/waste/", "image-alt"),
    ]
    html = (scanned.out / "team-waste.html").read_text()
    assert FOOTER_LINK not in html and "class=&#34;photo&#34;" in html
    assert "2 problems in the shared page template\nare not listed here" in html
    assert '<a href="team-web-team.html#layout">see the template problems</a>' in html
    index = (scanned.out / "index.html").read_text()
    assert "1 accessibility problem on 1 element, and 1 broken link." in index
    assert (
        "Lowered by: 2 problems in the shared layout (for Web Team to fix), 1 accessibility "
        "problem on this page (1 critical) and 1 broken link." in html
    )
    # Every output counts alike: the layout's image once, on the web team's card.
    counts = scan_figures(open_database(scanned.db, create=False), 1).accessibility
    summary = Counted(
        counts.problems, counts.elements, counts.impact("critical"), counts.impact("serious")
    )
    assert summary == Counted(2, 2, 2, 0)
    report = assert_outputs_agree(scanned.db, tmp_path / "again", summary)
    web_team = report.team("Web Team")
    assert web_team is not None and web_team.problems().problems == 1
    (image_alt,) = report.by_rule
    assert (image_alt.key, image_alt.counts.pages, image_alt.counts.problems) == ("image-alt", 5, 2)
    assert image_alt.teams == ["Waste", "Web Team"]


def test_a_long_list_of_pages_fits_in_a_spreadsheet_cell() -> None:
    urls = [f"https://www.example.gov.uk/{n:05d}/" + "a" * 80 for n in range(1000)]
    cell = page_list(urls)
    assert CELL_LIMIT - 200 < len(cell) < 32_767  # Excel holds at most 32,767 in a cell
    kept = cell.splitlines()
    assert kept[:-1] == urls[: len(kept) - 1]
    assert kept[-1] == f"and {1000 - len(kept) + 1} more (see the team's page)"
    assert page_list(urls[:3]).splitlines() == urls[:3]
