"""A browser rescan shared by workers reuses the audits of unchanged pages, as a one-machine
browser rescan does: each worker hashes the stylesheets its pages link (outside the shared
frontier), and the seeder copies a reused audit's rows from its database (docs/scaling.md)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.demo import DEMO_SITE, serve_site
from tests.conftest import query, run_siteaudit
from tests.test_distributed import start_worker, stop
from tests.test_not_modified import stored
from tests.test_rescan import accessibility

pytestmark = pytest.mark.browser


@dataclass
class Rescanned:
    """The demo site's copy, served, and the database of its shared scans so far."""

    site: Path
    base: str
    db: Path
    redis_url: str
    access_log: list[str]
    outputs: list[str]
    # What the server was asked during each scan.
    requests: list[list[str]]


def shared_scan(rescanned: Rescanned, log: Path) -> str:
    """A browser scan of the served copy through one worker with one browser; its summary."""
    rescanned.access_log.clear()
    workers = [start_worker(rescanned.redis_url, log)]
    try:
        result = run_siteaudit(
            "scan", rescanned.base + "/", "--db", str(rescanned.db), "--config", "app/demo.toml",
            "--browsers", "1", "--redis", rescanned.redis_url, timeout=600,
        )  # fmt: skip
    finally:
        codes = stop(workers)
    assert result.returncode in (0, 2), result.stderr + log.read_text()
    assert codes == [0], log.read_text()
    rescanned.outputs.append(result.stderr)
    rescanned.requests.append(list(rescanned.access_log))
    return result.stderr


@pytest.fixture(scope="module")
def rescanned(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rescanned]:
    """The demo site scanned twice, unchanged, through a worker with the browser."""
    tmp = tmp_path_factory.mktemp("browser_rescan")
    site = tmp / "site"
    shutil.copytree(DEMO_SITE, site)
    access_log: list[str] = []
    with serve_site(site, access_log=access_log) as base:
        scans = Rescanned(site, base, tmp / "scan.db", redis_url, access_log, [], [])
        shared_scan(scans, tmp / "first.log")
        shared_scan(scans, tmp / "second.log")
        yield scans


def test_a_shared_browser_rescan_reuses_every_unchanged_pages_audit(rescanned: Rescanned) -> None:
    db = rescanned.db
    # The first scan's render hashes take the pages' stylesheets, as one machine's do.
    assert query(
        db, "SELECT count(*), count(render_hash), count(stylesheets) FROM pages WHERE scan_id = 1"
    ) == [(17, 17, 17)]
    assert query(db, "SELECT count(*) FROM pages WHERE scan_id = 1 AND stylesheets = '[]'") == [
        (0,)
    ]
    # As a one-machine browser rescan of the demo site (tests/test_rescan.py): all 17 pages
    # unchanged (304), none downloaded or audited again, each audit copied from scan 1.
    assert query(
        db,
        "SELECT count(*), count(reused_from_scan), count(not_modified), count(audited_at) "
        "FROM pages WHERE scan_id = 2",
    ) == [(17, 17, 17, 17)]
    assert query(db, "SELECT DISTINCT reused_from_scan FROM pages WHERE scan_id = 2") == [(1,)]
    assert "17 unchanged since the last scan (audit reused)" in rescanned.outputs[1]
    # No browser loaded a page: the worker alone asked for the stylesheet, once, and no page
    # was downloaded whole.
    assert rescanned.requests[1].count("GET /assets/site.css") == 1
    # The same findings (accessibility's, with their elements and template scope), links,
    # dates and page columns as the first scan stored.
    assert accessibility(db, 2) == accessibility(db, 1)
    assert len(accessibility(db, 1)) > 0
    assert stored(db, 2) == stored(db, 1)
    audits = "SELECT url, violations, needs_review, frames_present FROM pages WHERE scan_id = ?"
    assert sorted(query(db, audits, 2)) == sorted(query(db, audits, 1))


def test_a_changed_stylesheet_has_its_pages_audited_again(rescanned: Rescanned) -> None:
    db = rescanned.db
    css = rescanned.site / "assets" / "site.css"
    css.write_text(css.read_text() + "\nbody { color: #111; }\n")
    output = shared_scan(rescanned, rescanned.db.parent / "third.log")
    # Every page links it: each is downloaded in full and audited again, as on one machine.
    assert query(
        db,
        "SELECT count(*), count(reused_from_scan), count(not_modified), count(audited_at) "
        "FROM pages WHERE scan_id = 3",
    ) == [(17, 0, 0, 17)]
    assert "17 audited in Chromium" in output
    assert accessibility(db, 3) == accessibility(db, 1)
    # Its render hashes are those one machine makes: a one-machine rescan reuses every audit.
    one = run_siteaudit(
        "scan", rescanned.base + "/", "--db", str(db), "--config", "app/demo.toml",
        "--browsers", "1", timeout=600,
    )  # fmt: skip
    assert one.returncode in (0, 2), one.stderr
    assert query(db, "SELECT count(reused_from_scan) FROM pages WHERE scan_id = 4") == [(17,)]
    assert query(db, "SELECT DISTINCT reused_from_scan FROM pages WHERE scan_id = 4") == [(3,)]
    # The changed stylesheet changed every render hash.
    assert query(
        db,
        "SELECT count(*) FROM pages AS now JOIN pages AS before ON before.url = now.url "
        "AND before.scan_id = 1 WHERE now.scan_id = 3 AND now.render_hash = before.render_hash",
    ) == [(0,)]
