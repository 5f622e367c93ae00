"""A rescan shared by workers asks the server whether each page changed, as a one-machine
rescan does: the seeder puts the last scan's validators and readings in Redis, and the
workers, which have no database, keep what a 304 leaves unchanged (docs/scaling.md)."""

from __future__ import annotations

import pickle
import shutil
import sqlite3
import zlib
from contextlib import closing
from pathlib import Path

import redis

from app.demo import DEMO_SITE, serve_site
from crawler.distributed import ScanKeys
from crawler.distributed_unchanged import (
    READABILITY,
    READINGS,
    RESCAN_KEYS,
    VALIDATORS,
    share_rescan,
)
from store.database import open_database
from store.previous import load_known_readability
from store.unchanged import load_validators, previous_reading
from tests.conftest import ROOT, SITES, query, run_siteaudit
from tests.test_distributed import start_worker, stop
from tests.test_not_modified import not_modified, scan, stored


def shared_scan(base: str, db: Path, redis_url: str, log: Path, *extra: str) -> str:
    """A scan of the demo site under its configuration, done by one worker."""
    target = (base + "/", "--config", "app/demo.toml")
    return one_worker_scan(redis_url, log, *target, "--db", str(db), *extra)


def one_worker_scan(redis_url: str, log: Path, *args: str) -> str:
    """`siteaudit scan ARGS --no-browser --redis URL`, done by one worker; its output."""
    workers = [start_worker(redis_url, log)]
    try:
        result = run_siteaudit("scan", *args, "--no-browser", "--redis", redis_url, timeout=300)
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
    return one_worker_scan(redis_url, log, "--sites", str(sites), "--db", str(db))


def test_the_seeder_shares_what_a_one_machine_rescan_loads(redis_url: str, tmp_path: Path) -> None:
    """share_rescan streams the last scan's rows into Redis: what it puts there is what a
    one-machine rescan loads (app/scan.py, load_history), for pages with validators and
    (readability by content hash) pages without."""
    db = tmp_path / "scan.db"
    with serve_site(DEMO_SITE) as base:
        scan(base, db)
        scan(base, db)
    # Half the pages of the first scan as if the server had sent no validators for them.
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute(
            "UPDATE pages SET etag = NULL, last_modified_header = NULL "
            "WHERE scan_id = 1 AND rowid % 2 = 0"
        )
    store = open_database(db)
    client, keys = redis.Redis.from_url(redis_url), ScanKeys("seeded")
    try:
        shared = share_rescan(client, keys, store, 2)
        got = {name: client.hgetall(keys.key(name)) for name in RESCAN_KEYS}
    finally:
        client.close()
    validators = load_validators(store, 2, browser_scan=None)
    assert 0 < len(validators) < 17
    assert {u.decode(): pickle.loads(v) for u, v in got[VALIDATORS].items()} == validators
    readings = {url: previous_reading(store, 1, url) for url in validators}
    assert {u.decode(): unpack(v) for u, v in got[READINGS].items()} == readings
    asked = {reading.row["content_hash"] for reading in readings.values() if reading}
    known = {h: r for h, r in load_known_readability(store, 2).items() if h not in asked}
    assert known and {h.decode(): unpack(r) for h, r in got[READABILITY].items()} == known
    assert shared == {"known_readability": len(known), "validators": len(validators)}


def unpack(value: bytes) -> object:
    return pickle.loads(zlib.decompress(value))
