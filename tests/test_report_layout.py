"""The report reflows from 320 px up: no sideways scrolling of the page, wide tables scroll in
their own region, long addresses and selectors wrap, and axe finds nothing at 320 or 1280 px
wide (checked by siteaudit itself, at audit.viewport)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from app.demo import serve_site
from browser.browser import BrowserSession
from browser.launch import BrowserOptions
from tests.conftest import Site, query, run_siteaudit

pytestmark = pytest.mark.browser

# A page whose every name is one long word: its report must wrap them, not widen the page.
LONG_WORD = "waste-collection-calendar-" * 12
LONG_NAME = LONG_WORD[:200]  # a file name's limit is 255 bytes
LONG_PAGE = f"""<!DOCTYPE html><html lang="en"><head><title>{LONG_WORD}</title></head>
<body><main><h1>Collections</h1><p>Bins are collected weekly.</p>
<img src="/{LONG_NAME}.png" class="{LONG_WORD}"><img src="/b.png" class="{LONG_WORD}">
<a href="/{LONG_NAME}.html"></a></main></body></html>"""


@pytest.fixture(scope="module")
def layout_report(council_site: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo site's report, with a page of long words added to the demo site's scan."""
    tmp = tmp_path_factory.mktemp("layout")
    site = tmp / "site"
    site.mkdir()
    (site / "index.html").write_text(
        LONG_PAGE.replace("<h1>", f'<a href="/{LONG_NAME}.html">More</a><h1>')
    )
    (site / f"{LONG_NAME}.html").write_text(LONG_PAGE)
    out = tmp / "report"
    with serve_site(site) as base:
        result = run_siteaudit(
            "scan",
            council_site.url("/"),
            f"{base}/",
            "--db",
            str(tmp / "scan.db"),
            "--config",
            "app/demo.toml",
            "--browsers",
            "1",
            "--report",
            str(out),
        )
    assert result.returncode == 0, result.stderr
    yield out


def page_widths(report: Path, width: int) -> dict[str, tuple[int, list[tuple[int, int]]]]:
    """Each report page at that viewport: the page's scroll width, and each scroll region's
    (scroll width, visible width)."""
    session = BrowserSession(BrowserOptions(viewport=(width, 800))).start()
    widths = {}
    try:
        assert session.driver is not None
        for page in sorted(report.glob("*.html")):
            session.driver.get(page.as_uri())
            widths[page.name] = session.driver.execute_script(
                "return [document.documentElement.scrollWidth, "
                "[...document.querySelectorAll('.table-region')]"
                ".map(r => [r.scrollWidth, r.clientWidth])]"
            )
    finally:
        session.close()
    return widths


@pytest.mark.parametrize("width", [320, 390])
def test_no_page_of_the_report_scrolls_sideways(layout_report: Path, width: int) -> None:
    widths = page_widths(layout_report, width)
    assert len(widths) == 9  # the index and eight teams' pages, Unassigned's long words too
    too_wide = {name: w for name, (w, _) in widths.items() if w > width}
    assert not too_wide, too_wide
    # The index's table of teams is wider than a phone: it scrolls inside its own region.
    page_width, regions = widths["index.html"]
    assert regions and regions[0][0] > regions[0][1] and page_width <= width


def test_identical_problems_on_a_page_are_one_problem_with_its_elements(
    layout_report: Path,
) -> None:
    soup = BeautifulSoup((layout_report / "team-unassigned.html").read_text(), "lxml")
    # Two pages, each with two images without alt text: one problem a page, each listing
    # its two elements (selector and HTML) in a list that opens without script.
    groups = [g for g in soup.select("div.issue[id]") if g["id"].endswith("-image-alt")]
    assert len(groups) == 2
    for group in groups:
        assert "(2 elements)" in group.find("h5").get_text()
        listed = group.select("details.elements > ol.elements > li")
        assert len(listed) == 2
        assert all(
            "img" in item.code.get_text() and "<img" in item.pre.get_text() for item in listed
        )
        # Its page's section, the same id in every scan, holds it.
        assert group["id"].startswith(group.find_previous("h3")["id"])
    fix_first = soup.select("ol.actions li")
    assert (
        fix_first[0]
        .get_text()
        .startswith("Images must have alternative text: critical, on 2 pages")
    )
    assert fix_first[0].a["href"] == f"#{groups[0]['id']}"


@pytest.mark.parametrize("viewport", ["320x640", "1280x1024"])
def test_report_passes_axe_at_phone_and_desktop_widths(
    layout_report: Path, tmp_path: Path, viewport: str
) -> None:
    config = tmp_path / "viewport.toml"
    config.write_text(f'[audit]\nviewport = "{viewport}"\n')
    db = tmp_path / "report-audit.db"
    with serve_site(layout_report) as base:
        urls = [f"{base}/{page.name}" for page in sorted(layout_report.glob("*.html"))]
        result = run_siteaudit(
            "scan",
            *urls,
            "--db",
            str(db),
            "--config",
            str(config),
            "--max-depth",
            "0",
            "--best-practices",
            "--browsers",
            "1",
        )
    assert result.returncode == 0, result.stderr
    assert query(db, "SELECT count(audited_at) FROM pages")[0][0] == len(urls) == 9
    assert query(db, "SELECT json_extract(config, '$.audit.viewport') FROM scans") == [(viewport,)]
    violations = query(
        db,
        "SELECT url, rule_id, selector FROM findings WHERE outcome = 'violation' "
        "AND kind = 'accessibility'",
    )
    assert violations == []


def test_audit_viewport_is_the_width_pages_are_audited_at(tmp_path: Path) -> None:
    """A search box without a label shown only on narrow screens: found at 390 px only."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(
        '<!DOCTYPE html><html lang="en"><head><title>Search</title><style>'
        "@media (min-width: 600px) { .narrow { display: none; } }</style></head>"
        '<body><main><h1>Search</h1><input class="narrow" type="text"></main></body></html>'
    )
    found = {}
    with serve_site(site) as base:
        for viewport in ("390x844", "1280x1024"):
            config = tmp_path / f"{viewport}.toml"
            config.write_text(f'[audit]\nviewport = "{viewport}"\n')
            db = tmp_path / f"{viewport}.db"
            result = run_siteaudit(
                "scan", f"{base}/", "--db", str(db), "--config", str(config), "--browsers", "1"
            )
            assert result.returncode == 0, result.stderr
            found[viewport] = query(db, "SELECT rule_id FROM findings WHERE kind = 'accessibility'")
    assert found == {"390x844": [("label",)], "1280x1024": []}
