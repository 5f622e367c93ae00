"""A rescan shared by workers asks the server whether each page changed, as a one-machine
rescan does: the seeder puts the last scan's validators and readings in Redis, and the
workers, which have no database, keep what a 304 leaves unchanged (docs/scaling.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

from app.demo import DEMO_SITE, serve_site
from tests.conftest import ROOT, SITES, query, run_siteaudit
from tests.test_distributed import start_worker, stop
from tests.test_not_modified import not_modified, stored


def shared_scan(base: str, db: Path, redis_url: str, log: Path, *extra: str) -> str:
    """A scan of the demo site under its configuration, done by one worker."""
    workers = [start_worker(redis_url, log)]
    try:
        result = run_siteaudit(
            "scan", base + "/", "--db", str(db), "--config", "app/demo.toml", "--no-browser",
            "--redis", redis_url, *extra, timeout=300,
        )  # fmt: skip
    finally:
        codes = stop(workers)
    assert result.returncode == 0, result.stderr + log.read_text()
    assert codes == [0], log.read_text()
    return result.stderr


def test_a_shared_rescan_of_an_unchanged_site_gets_304s_and_stores_the_same(
    redis_url: str, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    shutil.copytree(DEMO_SITE, site)
    db = tmp_path / "scan.db"
    with serve_site(site) as base:
        shared_scan(base, db, redis_url, tmp_path / "first.log")
        output = shared_scan(base, db, redis_url, tmp_path / "second.log")
        pages = {url.split("/", 3)[-1] for (url,) in query(db, "SELECT url FROM pages")}
        assert len(pages) == 17 and not_modified(db, 2) == pages
        # The wire said 304 for each page, and the rescan stored what the first scan did.
        assert query(
            db, "SELECT count(*) FROM fetches WHERE scan_id = 2 AND status_code = 304"
        ) == [(17,)]
        assert "17 not downloaded: unchanged, said the server" in output
        assert stored(db, 2) == stored(db, 1)

        # --full asks nothing: every page is downloaded again.
        shared_scan(base, db, redis_url, tmp_path / "third.log", "--full")
        assert not_modified(db, 3) == set()
        assert stored(db, 3) == stored(db, 1)


def test_a_shared_scan_takes_the_councils_own_words(redis_url: str, tmp_path: Path) -> None:
    """The workers read with the configured spelling, and the seeder judges the words with
    the council's list, as one machine does: the demo's one misspelling is a word it adds."""
    config = tmp_path / "words.toml"
    config.write_text('[spelling]\nwords = ["reprocessors"]\n')
    db = tmp_path / "scan.db"
    with serve_site(DEMO_SITE) as base:
        workers = [start_worker(redis_url, tmp_path / "worker.log")]
        try:
            result = run_siteaudit(
                "scan", base + "/", "--db", str(db), "--config", str(config), "--no-browser",
                "--redis", redis_url, timeout=300,
            )  # fmt: skip
        finally:
            codes = stop(workers)
    assert result.returncode == 0 and codes == [0], result.stderr
    assert query(db, "SELECT count(*) FROM pages") == [(17,)]
    assert query(db, "SELECT count(*) FROM findings WHERE kind = 'spelling'") == [(0,)]


def test_a_shared_rescan_of_sites_gets_304s_for_each_site(redis_url: str, tmp_path: Path) -> None:
    """--sites twice into one database: each site's rescan asks about its own last scan (not
    the other site's, scanned in between) and stores what that scan did."""
    sites = tmp_path / "sites.txt"
    db = tmp_path / "scan.db"
    with serve_site(DEMO_SITE) as demo, serve_site(SITES / "dated") as dated:
        # Each site under a configuration of its own: the demo's, and the defaults.
        sites.write_text(f"{demo}/ {ROOT / 'app' / 'demo.toml'}\n{dated}/\n")
        sites_scan(sites, db, redis_url, tmp_path / "first.log")
        output = sites_scan(sites, db, redis_url, tmp_path / "second.log")
        for first, again in ((1, 3), (2, 4)):
            pages = {u.split("/", 3)[-1] for (u,) in query(db, PAGES_OF, first)}
            assert pages and not_modified(db, again) == pages, again
            assert query(db, FETCHED_304, again) == [(len(pages),)]
            assert f"{len(pages)} not downloaded: unchanged, said the server" in output
            assert stored(db, again) == stored(db, first)


PAGES_OF = "SELECT url FROM pages WHERE scan_id = ?"
FETCHED_304 = "SELECT count(*) FROM fetches WHERE scan_id = ? AND status_code = 304"


def sites_scan(sites: Path, db: Path, redis_url: str, log: Path) -> str:
    """A scan of the sites of a --sites file, done by one worker."""
    workers = [start_worker(redis_url, log)]
    try:
        result = run_siteaudit(
            "scan", "--sites", str(sites), "--db", str(db), "--no-browser", "--redis", redis_url,
            timeout=300,
        )  # fmt: skip
    finally:
        codes = stop(workers)
    assert result.returncode == 0, result.stderr + log.read_text()
    assert codes == [0], log.read_text()
    return result.stderr
