"""The layout checks in real headless Chromium: reflow, text spacing and text at 200%, each
on a failing and a passing page of its own, and the page put back for what comes after."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from app.demo import serve_site
from browser.browser import BrowserSession
from browser.devtools import PageJob
from browser.launch import BrowserOptions
from tests.conftest import SITES, query, run_siteaudit

pytestmark = pytest.mark.browser

PAGES = ("reflow-fail", "reflow-pass", "spacing-fail", "spacing-pass", "resize-fail", "resize-pass")
# (page, rule, outcome, criterion, level, selector): every finding of the three rules.
EXPECTED = {
    ("reflow-fail", "siteaudit-reflow", "violation", "1.4.10", "AA", "#wide"),
    # A long address that cannot wrap; the data table and <pre> beside it may scroll.
    ("reflow-fail", "siteaudit-reflow", "violation", "1.4.10", "AA", "#address"),
    # A layout table is no data table, though it holds one.
    ("reflow-fail", "siteaudit-reflow", "violation", "1.4.10", "AA", "#layout"),
    ("spacing-fail", "siteaudit-text-spacing", "violation", "1.4.12", "AA", "#badge"),
    ("spacing-fail", "siteaudit-text-spacing", "needs-review", "1.4.12", "AA", "#note"),
    ("resize-fail", "siteaudit-resize-text", "violation", "1.4.4", "AA", "#banner"),
    ("resize-fail", "siteaudit-resize-text", "needs-review", "1.4.4", "AA", "#panel"),
}


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("layout") / "scan.db"
    with serve_site(SITES / "layout") as base:
        urls = [f"{base}/{page}.html" for page in PAGES]
        result = run_siteaudit(
            "scan",
            *urls,
            "--db",
            str(db),
            "--max-depth",
            "0",
            "--browsers",
            "1",
            "--checks",
            "axe,text-spacing,resize-text,reflow",
        )
    assert result.returncode == 0, result.stderr
    return db


def page_of(url: str) -> str:
    return url.rsplit("/", 1)[-1].removesuffix(".html")


def test_each_rule_finds_its_failing_page_and_passes_its_repair(scanned: Path) -> None:
    rows = query(
        scanned,
        "SELECT url, rule_id, outcome, wcag, level, selector FROM findings "
        "WHERE rule_id LIKE 'siteaudit-%'",
    )
    found = {(page_of(u), r, o, w, lv, *json.loads(s)) for u, r, o, w, lv, s in rows}
    assert found == EXPECTED
    assert query(scanned, "SELECT count(*) FROM pages WHERE check_errors IS NOT NULL") == [(0,)]


def test_layout_elements_are_pictured_where_they_fail(scanned: Path) -> None:
    """Each layout check's elements are measured and pictured as it saw them fail: at 640
    px for text at 200%, at 320 px for reflow, with WCAG's text spacing on; axe's at the
    audit's 1280 px, before the layout checks ran."""
    boxes = dict(
        query(
            scanned,
            "SELECT json_extract(selector, '$[0]'), element_box FROM findings "
            "WHERE rule_id LIKE 'siteaudit-%' AND element_box IS NOT NULL",
        )
    )
    assert json.loads(boxes["#banner"])["width"] == 320  # half of 640 (640 as loaded)
    assert json.loads(boxes["#address"])["width"] == 304  # 320 less the body's margins
    assert json.loads(boxes["#wide"]) == {"x": 8, "y": 88, "width": 700, "height": 22}
    # The heading above the badge is taller with WCAG's line height: 91, not 81.
    assert json.loads(boxes["#badge"])["y"] == 91
    # The picture of the 700 px box is of what a 320 px window shows of it.
    ((width,),) = query(
        scanned,
        "SELECT p.width FROM findings f JOIN pictures p ON p.id = f.picture "
        "WHERE json_extract(f.selector, '$[0]') = '#wide'",
    )
    assert width <= 320
    # axe-core's own finding on the same page, pictured before the layout checks ran.
    (box,) = query(
        scanned,
        "SELECT element_box FROM findings WHERE rule_id = 'image-alt' AND url LIKE ?",
        "%/resize-fail.html",
    )[0]
    assert json.loads(box)["x"] == 0 and json.loads(box)["width"] == 20
    (box,) = query(
        scanned,
        "SELECT element_box FROM findings WHERE rule_id = 'color-contrast' AND url LIKE ?",
        "%/spacing-fail.html",
    )[0]
    assert json.loads(box)["y"] == 101  # as loaded, without the text spacing


def test_each_passes_pictures_go_to_their_own_findings(scanned: Path) -> None:
    """axe's elements are pictured before the layout checks, theirs by each check: each
    finding keeps its own element's box and picture (the passes' views joined in order)."""
    rows = query(
        scanned,
        "SELECT rule_id, json_extract(selector, '$[0]'), json_extract(element_box, '$.width'), "
        "picture, picture_note FROM findings WHERE outcome = 'violation' AND url LIKE ?",
        "%/resize-fail.html",
    )
    by_rule = {
        (rule, selector): (width, picture, note) for rule, selector, width, picture, note in rows
    }
    assert by_rule[("siteaudit-resize-text", "#banner")][:1] == (320,)
    assert [w for (rule, _), (w, _, _) in by_rule.items() if rule == "image-alt"] == [20], by_rule
    assert all(picture and not note for _, picture, note in by_rule.values()), by_rule


def page_job(url: str) -> PageJob:
    with urllib.request.urlopen(url) as reply:
        return PageJob(url, reply.status, list(reply.headers.items()), reply.read())


def test_a_page_left_at_320_px_gives_the_next_page_the_audits_viewport() -> None:
    """A page whose layout checks find nothing is not pictured again, but the audit's
    viewport is put back as it is left, so the next page is audited at that size."""
    with serve_site(SITES / "layout") as base:
        options = BrowserOptions(
            local_site=True, private_hosts=("127.0.0.1",), checks=("axe", "reflow")
        )
        session = BrowserSession(options).start()
        size = "return [innerWidth, innerHeight]"
        try:
            outcome = session.audit(page_job(f"{base}/reflow-pass.html"))
            assert not outcome.own.violations and not outcome.own.errors
            assert session.driver.execute_script(size) == [*options.viewport]
            session.driver.get(f"{base}/reflow-pass.html")
            assert session.driver.execute_script(size) == [*options.viewport]
        finally:
            session.close()


def test_a_picture_with_text_spacing_is_never_reused_for_the_page_as_loaded(
    tmp_path: Path,
) -> None:
    """A link whose box text spacing leaves where it was (at the top, of a fixed size) is
    pictured as loaded for the focus check and with the spacing on for text spacing: two
    pictures, not one reused from the scan's picture cache for both."""
    db = tmp_path / "scan.db"
    with serve_site(SITES / "layout") as base:
        result = run_siteaudit(
            "scan",
            f"{base}/spacing-top.html",
            *("--db", str(db), "--max-depth", "0", "--browsers", "1"),
            *("--checks", "axe,focus,text-spacing"),
        )
    assert result.returncode == 0, result.stderr
    rows = query(
        db,
        "SELECT rule_id, element_box, picture FROM findings "
        "WHERE json_extract(selector, '$[0]') = '#due' AND picture IS NOT NULL",
    )
    by_rule = {rule: (box, picture) for rule, box, picture in rows}
    assert set(by_rule) == {"siteaudit-focus-visible", "siteaudit-text-spacing"}, rows
    assert by_rule["siteaudit-focus-visible"][0] == by_rule["siteaudit-text-spacing"][0]
    assert by_rule["siteaudit-focus-visible"][1] != by_rule["siteaudit-text-spacing"][1]
