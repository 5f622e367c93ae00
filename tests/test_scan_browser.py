"""Real headless Chromium with axe-core: findings, frames, hung pages, one fetch per page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.demo import serve_site
from tests.conftest import SITES, Site, chromium_processes, query, run_siteaudit, shared_corpus

pytestmark = pytest.mark.browser

BAD_SITE = shared_corpus("bad") / "site"
BAD_PAGES = ("home", "news", "tickets", "survey", "template")
BAD_BEFORE_ALWAYS = {
    "html-has-lang",
    "image-alt",
    "link-name",
    "select-name",
    # siteaudit's own checks (docs/accuracy.md): the navigation's links blur themselves when
    # focused (F55: 2.1.1, 2.4.7, 3.2.1), and are links with no name where other pages name
    # the same place (3.2.4); an 800 px layout table scrolls sideways at 320 px (1.4.10).
    "siteaudit-focus-lost",
    "siteaudit-identification",
    "siteaudit-reflow",
}
# WCAG 2.1's reflow: the repaired pages are a fixed 768 px wide too. W3C's evaluation is of
# WCAG 2.0, which has no 1.4.10, so it is no false alarm; every other criterion they pass.
BAD_AFTER_ALWAYS = {"siteaudit-reflow"}
# The same kinds of defect on a page of our own (tests/sites/repaired), and its repair.
REPAIRED_BEFORE = {
    ("color-contrast", "#hint"),
    ("html-has-lang", "html"),
    ("image-alt", "#lorry"),
    ("image-alt", "#prices-icon"),
    ("label", "#postcode"),
    ("link-name", "#prices"),
    ("select-name", "#day"),
}


@pytest.fixture(scope="module")
def audited(browser_site: Site, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Site]:
    folder = tmp_path_factory.mktemp("browser")
    db = folder / "scan.db"
    # The cross-origin frame is on localhost, a private address: allowed as a user would.
    config = folder / "site.toml"
    config.write_text('[site]\nprivate_hosts = ["localhost"]\n')
    browser_site.access_log.clear()  # count only this scan's requests
    result = run_siteaudit(
        "scan",
        browser_site.url("/"),
        "--db",
        str(db),
        "--config",
        str(config),
        "--browsers",
        "2",
        "--page-timeout",
        "5",
    )
    assert result.returncode == 0, result.stderr
    return db, browser_site


def violations(db: Path, path: str) -> list[tuple[str, str, list]]:
    rows = query(
        db,
        "SELECT rule_id, wcag, selector FROM findings "
        "WHERE outcome = 'violation' AND url LIKE ? ORDER BY rule_id",
        f"%{path}",
    )
    return [(rule, wcag, json.loads(selector)) for rule, wcag, selector in rows]


def test_image_without_alt_is_image_alt_at_1_1_1(audited: tuple[Path, Site]) -> None:
    db, _ = audited
    assert violations(db, "/image.html") == [("image-alt", "1.1.1", ["#map"])]


def test_violations_in_every_kind_of_frame_are_found(audited: tuple[Path, Site]) -> None:
    db, _ = audited
    found = {rule: selector for rule, _, selector in violations(db, "/frames.html")}
    assert found["link-name"] == ["#same", "a"]  # same-origin frame
    assert found["label"] == ["#cross", "#catalogue"]  # cross-origin frame, another port
    assert found["select-name"] == ["#outer", "#nested", "select"]  # a frame in a frame
    assert query(
        db, "SELECT frames_present, frames_audited FROM pages WHERE url LIKE '%/frames.html'"
    ) == [(4, 4)]


def test_endless_script_is_recorded_and_the_scan_goes_on(audited: tuple[Path, Site]) -> None:
    db, _ = audited
    (error,) = query(db, "SELECT error FROM pages WHERE url LIKE '%/loop.html'")[0]
    assert "did not finish loading" in error or "stopped responding" in error
    assert query(db, "SELECT status FROM scans") == [("finished",)]
    assert query(db, "SELECT count(*) FROM pages WHERE audited_at IS NOT NULL")[0][0] == 5


def test_tracker_requests_are_blocked_and_recorded(audited: tuple[Path, Site]) -> None:
    db, _ = audited
    (blocked,) = query(db, "SELECT blocked_requests FROM pages WHERE url LIKE '%/tracker.html'")[0]
    assert json.loads(blocked) == ["https://www.googletagmanager.com/gtag/js?id=G-TEST"]


def test_server_sees_each_html_page_once(audited: tuple[Path, Site]) -> None:
    _, site = audited
    for path in ("/", "/image.html", "/frames.html", "/clean.html", "/tracker.html"):
        assert site.requests_for(path) == 1, path


def test_scan_records_axe_version_and_sandbox(audited: tuple[Path, Site]) -> None:
    db, _ = audited
    ((version, sandboxed, status),) = query(db, "SELECT axe_version, sandboxed, status FROM scans")
    assert version.startswith("4.") and status == "finished"
    assert sandboxed == 1  # as root, Chromium runs as an unprivileged user


def test_no_chromium_outlives_the_scan(audited: tuple[Path, Site]) -> None:
    assert chromium_processes() == []


def test_before_and_after_pages_of_our_own_match_their_defects(tmp_path: Path) -> None:
    """As W3C's demonstration below, without ../shared: every defect of the before page is
    found on the element that has it, and its repaired twin is clean."""
    db = tmp_path / "repaired.db"
    with serve_site(SITES / "repaired") as base:
        urls = [f"{base}/before.html", f"{base}/after.html"]
        result = run_siteaudit(
            "scan", *urls, "--db", str(db), "--max-depth", "0", "--browsers", "1"
        )
    assert result.returncode == 0, result.stderr
    found = {
        (url.removeprefix(base), rule, tuple(json.loads(selector)))
        for url, rule, selector in query(
            db,
            "SELECT url, rule_id, selector FROM findings "
            "WHERE outcome = 'violation' AND kind = 'accessibility'",
        )
    }
    assert found == {("/before.html", rule, (selector,)) for rule, selector in REPAIRED_BEFORE}
    assert query(db, "SELECT count(*) FROM pages WHERE audited_at IS NOT NULL")[0][0] == 2


@pytest.mark.skipif(not BAD_SITE.is_dir(), reason="needs ../shared/corpora/bad")
def test_w3c_bad_demo_matches_ground_truth(tmp_path: Path) -> None:
    """W3C's Before and After Demonstration: every before/ page fails, every after/ passes
    every criterion W3C evaluated; and with the own checks, 43 of W3C's 96 A/AA failures on
    the before pages are found (axe alone: 23), per docs/accuracy.md."""
    db = tmp_path / "bad.db"
    with serve_site(BAD_SITE) as base:
        urls = [f"{base}/{half}/{page}.html" for half in ("before", "after") for page in BAD_PAGES]
        result = run_siteaudit(
            "scan", *urls, "--db", str(db), "--max-depth", "0", "--browsers", "2"
        )
    assert result.returncode == 0, result.stderr
    found: dict[str, set[str]] = {}
    for url, rule in query(
        db,
        "SELECT url, rule_id FROM findings WHERE outcome = 'violation' AND kind = 'accessibility'",
    ):
        found.setdefault(url.removeprefix(base), set()).add(rule)
    for page in BAD_PAGES:
        expected = set(BAD_BEFORE_ALWAYS)
        if page in ("home", "tickets", "template"):
            expected.add("color-contrast")
        if page == "survey":
            expected.add("label")
        assert found.get(f"/before/{page}.html") == expected, page
        assert found.get(f"/after/{page}.html") == BAD_AFTER_ALWAYS, page
    assert query(db, "SELECT count(*) FROM pages WHERE audited_at IS NOT NULL")[0][0] == 10
    assert bad_failures_found(db, base) == (43, 96)


def bad_failures_found(db: Path, base: str) -> tuple[int, int]:
    """W3C's A/AA failures on the before pages (page, criterion) that a violation names."""
    named = {
        (url.removeprefix(base + "/"), criterion)
        for url, wcag in query(
            db, "SELECT url, wcag FROM findings WHERE outcome = 'violation' AND wcag IS NOT NULL"
        )
        for criterion in wcag.split(",")
    }
    truth = json.loads((BAD_SITE.parent / "ground_truth.json").read_text())["pages"]
    failures = [
        (page, c["sc"])
        for page, evaluation in truth.items()
        if page.startswith("before/")
        for c in evaluation["criteria"]
        if c["result"] == "Fail" and c["level"] in ("A", "AA")
    ]
    return sum(f in named for f in failures), len(failures)
