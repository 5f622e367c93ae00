"""Incremental rescans: unchanged pages reuse their audit; changed HTML or CSS re-audits."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.demo import DEMO_SITE, serve_site
from tests.conftest import SITES, query, run_siteaudit

pytestmark = pytest.mark.browser


def scan(base: str, db: Path, *extra: str) -> None:
    result = run_siteaudit(
        "scan",
        f"{base}/",
        "--db",
        str(db),
        "--config",
        "app/demo.toml",
        "--browsers",
        "2",
        # About reusing audits, not the checks (tests/test_site_checks.py has theirs).
        "--checks",
        "axe",
        *extra,
    )
    assert result.returncode == 0, result.stderr


def reused(db: Path, scan_id: int) -> set[str]:
    return {
        url.rsplit("/", 2)[-2] + "/" + url.rsplit("/", 1)[-1]
        for (url,) in query(
            db, "SELECT url FROM pages WHERE scan_id = ? AND reused_from_scan IS NOT NULL", scan_id
        )
    }


def accessibility(db: Path, scan_id: int) -> list[tuple]:
    return sorted(
        query(
            db,
            "SELECT url, rule_id, fingerprint, selector, snippet, scope FROM "
            "findings WHERE scan_id = ? AND kind = 'accessibility'",
            scan_id,
        )
    )


@pytest.mark.slow
def test_rescan_reuses_unchanged_pages_and_reaudits_changed_ones(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(DEMO_SITE, site)
    db = tmp_path / "scan.db"
    with serve_site(site) as base:
        scan(base, db)
        scan(base, db)
        # Unchanged: every page reused, findings and scope identical, marked as reused.
        assert query(
            db, "SELECT count(*), count(reused_from_scan) FROM pages WHERE scan_id = 2"
        ) == [(17, 17)]
        assert accessibility(db, 2) == accessibility(db, 1)
        assert query(db, "SELECT DISTINCT reused_from_scan FROM pages WHERE scan_id = 2") == [(1,)]
        # The server said so (304 Not Modified): no page was downloaded again.
        assert query(db, "SELECT count(not_modified) FROM pages WHERE scan_id = 2") == [(17,)]
        # Unchanged HTML reads the same: readability is carried over, not measured again.
        figures = "SELECT url, word_count, reading_age, long_sentences, words_to_avoid FROM pages"
        assert sorted(query(db, figures + " WHERE scan_id = 2")) == sorted(
            query(db, figures + " WHERE scan_id = 1")
        )
        # One page's HTML changes: only that page is audited again.
        page = site / "libraries" / "opening-hours.html"
        page.write_text(page.read_text().replace("</main>", "<p>New text.</p></main>"))
        scan(base, db)
        assert query(
            db, "SELECT url FROM pages WHERE scan_id = 3 AND reused_from_scan IS NULL"
        ) == [(f"{base}/libraries/opening-hours.html",)]
        assert query(
            db,
            "SELECT DISTINCT reused_from_scan FROM pages WHERE scan_id = 3 "
            "AND reused_from_scan IS NOT NULL",
        ) == [(1,)]
        # The shared stylesheet changes: every page that links it is audited again.
        css = site / "assets" / "site.css"
        css.write_text(css.read_text() + "\nbody { color: #111; }\n")
        scan(base, db)
        assert query(db, "SELECT count(reused_from_scan) FROM pages WHERE scan_id = 4") == [(0,)]
        # Their HTML is unchanged (304), but an audit needs it: each is fetched again in full.
        assert query(db, "SELECT count(*), count(not_modified) FROM pages WHERE scan_id = 4") == [
            (17, 0)
        ]
        # --full re-audits everything even when nothing changed.
        scan(base, db, "--full")
        assert query(db, "SELECT count(reused_from_scan) FROM pages WHERE scan_id = 5") == [(0,)]
        assert len(accessibility(db, 5)) == len(accessibility(db, 1))


def test_page_that_failed_is_audited_again(browser_site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "scan.db"
    for _ in range(2):
        result = run_siteaudit(
            "scan",
            browser_site.url("/loop.html"),
            "--max-depth",
            "0",
            "--db",
            str(db),
            "--page-timeout",
            "3",
        )
        assert result.returncode == 0, result.stderr
    rows = query(
        db,
        "SELECT scan_id, reused_from_scan, error IS NOT NULL FROM pages "
        "WHERE url LIKE '%/loop.html' ORDER BY scan_id",
    )
    assert rows == [(1, None, 1), (2, None, 1)]


def test_a_rescan_reuses_its_own_sites_audits_after_another_sites_scan(tmp_path: Path) -> None:
    """One database, the demo site, another site, the demo site again: the third scan reuses
    the first's audits, not the other site's scan's, which has none of its pages."""
    db = tmp_path / "scan.db"
    with serve_site(DEMO_SITE) as demo, serve_site(SITES / "dated") as dated:
        scan(demo, db)
        scan(dated, db)
        scan(demo, db)
    assert query(
        db,
        "SELECT count(*), count(reused_from_scan), count(not_modified) FROM pages "
        "WHERE scan_id = 3",
    ) == [(17, 17, 17)]
    assert query(db, "SELECT DISTINCT reused_from_scan FROM pages WHERE scan_id = 3") == [(1,)]
    assert accessibility(db, 3) == accessibility(db, 1)
