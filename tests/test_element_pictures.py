"""Pictures of the elements axe-core finds: taken in the auditing session, outlined where the
element is, small, reused by a rescan, shown in the report; and turned off on request."""

from __future__ import annotations

import csv
import io
import json
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from app.demo import serve_site
from browser import element_pictures
from browser.browser import BrowserSession
from browser.devtools import PageJob
from browser.element_pictures import (
    CONTEXT,
    GAP,
    IN_FRAME,
    MAX_BYTES,
    MAX_WIDTH,
    NO_SCREENSHOTS,
    OUT_OF_TIME,
    PAGE_WIDTH,
    RING,
    WHITE,
    ElementView,
    PageViews,
    Picture,
    PictureCache,
    join_views,
    view_page,
    webp_size,
)
from browser.launch import BrowserOptions
from reports.data import Issue
from reports.html import environment
from reports.pictures import ElementPictures
from store.database import open_database
from store.writer import Batch, write_batch
from tests.conftest import SITES, query, run_siteaudit

SITE = SITES / "pictures"
# From the element's edge to the outer edge of the magenta ring, and to the picture's edge.
RING_OUT = GAP + WHITE + RING
MARGIN = RING_OUT + WHITE + CONTEXT


@dataclass(frozen=True)
class Scanned:
    db: Path
    quiet_db: Path  # scanned with --no-screenshots
    report: Path


def scan(base: str, db: Path, *extra: str) -> None:
    # axe's findings alone: the pictures counted here are of its elements.
    result = run_siteaudit(
        "scan", f"{base}/index.html", "--db", str(db), "--browsers", "1", "--checks", "axe", *extra
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Scanned:
    folder = tmp_path_factory.mktemp("pictures")
    db, quiet_db, report = folder / "scan.db", folder / "quiet.db", folder / "report"
    with serve_site(SITE) as base:
        scan(base, db)
        scan(base, db)  # unchanged: reuses the first scan's audit
        scan(base, quiet_db, "--no-screenshots")
    result = run_siteaudit("report", "--db", str(db), "--out", str(report))
    assert result.returncode == 0, result.stderr
    return Scanned(db, quiet_db, report)


def violations(db: Path, scan_id: int = 1) -> dict[str, dict]:
    """Scan's accessibility violations by element (the last selector of axe's target)."""
    rows = query(
        db,
        "SELECT selector, rule_id, location, element_box, picture, page_picture, picture_note "
        "FROM findings WHERE scan_id = ? AND kind = 'accessibility' AND outcome = 'violation'",
        scan_id,
    )
    names = ("selector", "rule_id", "location", "box", "picture", "page_picture", "note")
    found = {}
    for row in rows:
        finding = dict(zip(names, row, strict=True))
        finding["selector"] = json.loads(finding["selector"])
        finding["box"] = json.loads(finding["box"]) if finding["box"] else None
        found[str(finding["selector"][-1])] = finding
    return found


def image(db: Path, picture_id: str) -> tuple[Image.Image, int, tuple]:
    ((data, fmt, width, height, size),) = query(
        db, "SELECT image, format, width, height, bytes FROM pictures WHERE id = ?", picture_id
    )
    picture = Image.open(io.BytesIO(data))
    assert (fmt, picture.format, picture.size, size) == ("webp", "WEBP", (width, height), len(data))
    return picture.convert("RGB"), len(data), (width, height)


def magenta_box(picture: Image.Image) -> tuple[int, int, int, int]:
    """Left, top, right, bottom of the outline's magenta pixels (lossy WebP: roughly magenta)."""
    pixels = picture.load()
    points = [
        (x, y)
        for y in range(picture.height)
        for x in range(picture.width)
        if (p := pixels[x, y])[0] > 170 and p[1] < 100 and p[2] > 170
    ]
    assert points, "no outline in the picture"
    xs, ys = [x for x, _ in points], [y for _, y in points]
    return min(xs), min(ys), max(xs) + 1, max(ys) + 1


@pytest.mark.browser
def test_every_violation_has_a_picture_or_says_why(scanned: Scanned) -> None:
    found = violations(scanned.db)
    for finding in found.values():
        assert finding["location"], finding
        if len(finding["selector"]) > 1:
            assert finding["note"] == IN_FRAME == "inside a frame: no picture"
            assert finding["location"] == 'under "Bin collection days", inside the 1st frame'
        else:
            assert bool(finding["picture"] and finding["page_picture"]) != bool(finding["note"])
    assert found["#pixel"]["note"] == "too small to see (1 by 1 pixels): no picture"
    assert found["#away"]["note"].startswith("outside the page")
    assert found["#nothing"]["note"] == "zero-sized: nothing to picture"
    assert found["#nothing"]["box"]["width"] == found["#nothing"]["box"]["height"] == 0
    assert found["#first"]["location"] == 'under "Bin collection days", the 1st image'
    assert found["#second"]["location"] == 'under "Bin collection days", the 2nd image'
    assert found["#faint"]["location"] == 'under "Garden waste", the 1st paragraph'
    assert found["#nothing"]["location"] == 'under "Bin collection days", the 1st link'
    assert found["#back"]["location"] == "at the start of the main content, the 1st link"


@pytest.mark.browser
@pytest.mark.parametrize("element", ["#first", "#second", "#faint", "#back"])
def test_the_outline_is_around_the_element(scanned: Scanned, element: str) -> None:
    finding = violations(scanned.db)[element]
    box = finding["box"]
    picture, size, (width, _) = image(scanned.db, finding["picture"])
    assert size <= MAX_BYTES and width <= MAX_WIDTH
    # The picture is the element, its outline and CONTEXT pixels around it, cut off at the
    # page's left edge (the element's page position) and its top (in the window, where the
    # element was scrolled to the middle, or the top of the page).
    left, top = min(box["x"], MARGIN) - RING_OUT, min(box["y"], MARGIN) - RING_OUT
    expected = (left, top, left + box["width"] + 2 * RING_OUT, top + box["height"] + 2 * RING_OUT)
    found = magenta_box(picture)
    assert all(abs(a - b) <= 3 for a, b in zip(found, expected, strict=True)), (found, expected)
    assert abs(width - (expected[2] + WHITE + CONTEXT)) <= 2


@pytest.mark.browser
def test_the_page_picture_marks_the_element_lower_down_the_page(scanned: Scanned) -> None:
    faint = violations(scanned.db)["#faint"]
    assert faint["box"]["y"] > 1500  # beyond the first window: it had to be scrolled to
    picture, size, (width, _) = image(scanned.db, faint["page_picture"])
    assert width == PAGE_WIDTH and size <= MAX_BYTES
    left, top, right, bottom = magenta_box(picture)
    scale = PAGE_WIDTH / 1280  # the browser window is 1280 pixels wide
    # Centred in the window; at the page's left (its x), at a quarter of its size.
    assert abs(left - (faint["box"]["x"] - RING_OUT - 8) * scale) <= 4
    assert abs((right - left) - (faint["box"]["width"] + 2 * 20) * scale) <= 4
    assert abs((top + bottom) / 2 - picture.height / 2) <= 0.15 * picture.height


@pytest.mark.browser
def test_a_rescan_reuses_the_pictures_without_taking_them_again(scanned: Scanned) -> None:
    assert query(scanned.db, "SELECT reused_from_scan, audit_ms FROM pages WHERE scan_id = 2") == [
        (1, 0)
    ]
    before, after = violations(scanned.db, 1), violations(scanned.db, 2)
    assert before == after
    pictured = {f[k] for f in after.values() for k in ("picture", "page_picture") if f[k]}
    stored = {i for (i,) in query(scanned.db, "SELECT id FROM pictures")}
    assert len(pictured) == 8 and pictured == stored  # one row each, and each still there


@pytest.mark.browser
def test_no_screenshots_keeps_locations_but_no_pictures(scanned: Scanned) -> None:
    found = violations(scanned.quiet_db)
    assert query(scanned.quiet_db, "SELECT count(*) FROM pictures") == [(0,)]
    assert found["#first"]["note"] == NO_SCREENSHOTS and not found["#first"]["picture"]
    assert found["#faint"]["location"] == 'under "Garden waste", the 1st paragraph'
    assert found["#faint"]["box"] == violations(scanned.db)["#faint"]["box"]
    # An element that could never be pictured still says why.
    assert found["#nothing"]["note"] == "zero-sized: nothing to picture"


@pytest.mark.browser
def test_the_report_shows_each_picture_and_lists_it_in_the_csv(scanned: Scanned) -> None:
    html = (scanned.report / "team-unassigned.html").read_text()
    first = violations(scanned.db)["#first"]
    path = f"pictures/{first['picture']}.webp"
    stored = query(scanned.db, "SELECT image FROM pictures WHERE id = ?", first["picture"])
    assert (scanned.report / path).read_bytes() == stored[0][0]
    assert f'<img src="{path}" alt="The element outlined on the page: under &#34;Bin' in html
    assert f'src="pictures/{first["page_picture"]}.webp"' in html
    assert "Where on the page: under &#34;Garden waste&#34;, the 1st paragraph" in html
    assert "Zero-sized: nothing to picture." in html
    assert len(list((scanned.report / "pictures").iterdir())) == 8
    with (scanned.report / "team-unassigned.csv").open(newline="", encoding="utf-8-sig") as f:
        rows = {r["selector"]: r for r in csv.DictReader(f)}
    assert rows["#first"]["picture"] == path and (scanned.report / path).exists()
    assert rows["#first"]["location"] == 'under "Bin collection days", the 1st image'
    assert rows["#pixel"]["picture"] == ""


def test_identical_pictures_are_stored_once(tmp_path: Path) -> None:
    db = open_database(tmp_path / "scan.db")
    picture = Picture("webp", 1, 1, b"RIFF\x00\x00\x00\x00WEBPVP8L")
    for _ in range(2):
        batch = Batch()
        batch.add("pictures", [picture.row(), picture.row()])
        write_batch(db, batch)
    assert db.execute("SELECT id, bytes FROM pictures").fetchall() == [(picture.id, 16)]


def test_the_picture_cache_forgets_the_least_recently_used_first() -> None:
    cache = PictureCache(max_keys=2, max_bytes=25)
    pictures = [Picture("webp", 1, 1, bytes([n]) * 10) for n in range(4)]
    cache.put("a", pictures[0], None)
    cache.put("b", pictures[1], None)
    assert cache.get("a") == (pictures[0], None)  # now the most recently used
    cache.put("c", pictures[2], None)  # over two keys: "b" goes
    assert cache.get("b") is None and cache.get("a") and cache.get("c")
    cache.put("d", pictures[3], pictures[0])  # over 25 bytes: "a" then "c" go
    assert list(cache.entries) == ["d"] and cache.bytes == 20


def test_webp_sizes_are_read_from_the_header() -> None:
    for mode in ("RGB", "RGBA"):
        for lossless in (False, True):
            out = io.BytesIO()
            Image.new(mode, (321, 123)).save(out, "WEBP", lossless=lossless)
            assert webp_size(out.getvalue()) == (321, 123)


@pytest.mark.browser
def test_pictures_out_of_time_are_all_left_out_and_the_audit_stands(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past the page's time, no pictures, each violation says why; part way through, none
    either (never some pictures of a page and not others). Past the most a page may have,
    the rest say so."""
    with serve_site(SITE) as base:
        url = f"{base}/index.html"
        with urllib.request.urlopen(url) as reply:
            job = PageJob(url, 200, list(reply.headers.items()), reply.read())
        options = BrowserOptions(local_site=True, private_hosts=("127.0.0.1",), checks=("axe",))
        session = BrowserSession(options).start()
        try:
            outcome = session.audit(job)
            assert outcome.violations and len(outcome.views.pictures) == 8
            late = view_page(session.devtools, outcome, time.monotonic())
            assert not late.pictures and {v.note for v in late.views} == {OUT_OF_TIME}
            for allowed in (0.05, 0.15, 0.3):
                views = view_page(session.devtools, outcome, time.monotonic() + allowed)
                pictured = [v for v in views.views if v.picture]
                assert len(pictured) in (0, 4), views  # the four visible elements, or none
                assert all(v.note for v in views.views if not v.picture)
            # The same elements again with the scan's cache: the same pictures, none taken,
            # and each page that uses them still has them to send to the store.
            cache = PictureCache()
            first = view_page(session.devtools, outcome, time.monotonic() + 30, cache=cache)
            again = view_page(session.devtools, outcome, time.monotonic() + 30, cache=cache)
            assert cache.hits == 4 and len(cache.entries) == 4
            assert [v.picture for v in again.views] == [v.picture for v in first.views]
            assert again.pictures.keys() == first.pictures.keys() and len(first.pictures) == 8
            monkeypatch.setattr(element_pictures, "MAX_PICTURED", 3)
            views = view_page(session.devtools, outcome, time.monotonic() + 30).views
            assert len([v for v in views if v.picture]) == 3
            assert [v.note for v in views].count("not pictured: more than 3 on this page") == 1
        finally:
            session.close()


def test_location_and_note_from_the_page_are_escaped_in_the_report() -> None:
    hostile = '<img src=x onerror=alert(1)> "quoted" \x1b[31m'
    env = environment()
    env.filters["picture_file"] = lambda i: f"pictures/{i}.webp" if i else ""
    issue = Issue(
        kind="accessibility",
        rule_id="image-alt",
        impact="critical",
        outcome="violation",
        criteria=[],
        selector=["#x"],
        snippet="",
        summary="",
        help="",
        help_url="",
        fingerprint="f",
        scope="content",
        pictures=ElementPictures(location=f"under {hostile}, the 1st image", picture="a" * 64),
    )
    html = str(env.get_template("macros.html").module.element_view(issue))
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "\x1b" not in html and 'alt="The element outlined on the page: under &lt;img' in html
    issue.pictures = ElementPictures(note=f"hidden {hostile}")
    html = str(env.get_template("macros.html").module.element_view(issue))
    assert "<img" not in html and "Hidden &lt;img" in html


@pytest.mark.browser
def test_a_result_to_check_by_hand_is_pictured_too(tmp_path: Path) -> None:
    """axe cannot judge faint text over a background picture: a person must, so it is
    pictured like a violation, outlined where it is."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "tile.svg").write_bytes((SITE / "tile.svg").read_bytes())
    (site / "index.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Check</title>'
        "</head><body><main><h1>Parking permits</h1>"
        '<p id="over-picture" style="background: url(tile.svg); color: #777; '
        'padding: 1rem; width: 20rem">'
        "Apply for a resident's parking permit online.</p></main></body></html>"
    )
    db = tmp_path / "scan.db"
    with serve_site(site) as base:
        scan(base, db)
    rows = query(
        db,
        "SELECT location, element_box, picture, page_picture, picture_note FROM findings "
        "WHERE outcome = 'needs-review' AND rule_id = 'color-contrast'",
    )
    assert rows, "axe-core gave no needs-review result for the text over a picture"
    location, box, picture, page_picture, note = rows[0]
    assert location == 'under "Parking permits", the 1st paragraph'
    assert picture and page_picture and note is None
    box = json.loads(box)
    left, top = min(box["x"], MARGIN) - RING_OUT, min(box["y"], MARGIN) - RING_OUT
    expected = (left, top, left + box["width"] + 2 * RING_OUT, top + box["height"] + 2 * RING_OUT)
    found = magenta_box(image(db, picture)[0])
    assert all(abs(a - b) <= 3 for a, b in zip(found, expected, strict=True)), (found, expected)


def test_passes_views_are_joined_in_findings_order() -> None:
    """The pictures before the layout checks and those of each layout check: violations of
    all, then needs-review of all, as audits.accessibility.findings_from_axe lists them."""
    first = PageViews([ElementView(location=x) for x in ("axe-v", "axe-i1", "axe-i2")], {"a": 1})
    second = PageViews([ElementView(location=x) for x in ("spacing-v", "spacing-i")], {"b": 2})
    third = PageViews([ElementView(location="reflow-i")], {"c": 3})
    joined = join_views([(first, 1), (second, 1), (third, 0)])  # type: ignore[list-item]
    assert [v.location for v in joined.views] == [
        "axe-v",
        "spacing-v",
        "axe-i1",
        "axe-i2",
        "spacing-i",
        "reflow-i",
    ]
    assert joined.pictures == {"a": 1, "b": 2, "c": 3}
