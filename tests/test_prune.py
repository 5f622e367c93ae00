"""siteaudit prune: old scans go with every row that is theirs, the database stays whole and
reportable, and what must stay (a site's only finished scan, running and resumable scans,
the scans they read from, decisions, pictures still shown) stays."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from app.demo import DEMO_SITE, serve_site
from app.prune import database_bytes, ids, size
from store.prune import Retention, StoredScan
from tests.conftest import ROOT, Site, query, run_in_process, run_siteaudit

TABLES = (
    "pages",
    "findings",
    "links",
    "documents",
    "fetches",
    "page_dates",
    "team_scores",
    "decisions",
)
DECIDED_REASON = "Reading age checked by hand with the service"
DECISIONS = f"""
[[decision]]
fingerprint = "readability:reading-age"
page = "/council-tax/pay.html"
decision = "false-positive"
reason = "{DECIDED_REASON}"
"""
SLOW_PAGES = 4


def scan(base: str, db: Path, *extra: str, ok: bool = True) -> None:
    result = run_siteaudit("scan", f"{base}/", "--db", str(db), "--no-browser", *extra)
    assert (result.returncode == 0) == ok, result.stderr


def start_scan(base: str, db: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "app.cli", "scan", f"{base}/", "--db", str(db), "--no-browser"]
    return subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_for_page(db: Path, scan_id: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if query(db, "SELECT count(*) FROM pages WHERE scan_id = ?", scan_id)[0][0]:
                return
        except sqlite3.OperationalError:
            pass  # the scan is writing
        time.sleep(0.2)
    raise AssertionError(f"scan {scan_id} stored no page in {timeout}s")


def serve_slow_site(
    root: Path, title: str, crawl_delay: int
) -> contextlib.AbstractContextManager[str]:
    """A small site whose robots.txt asks for crawl_delay seconds between requests."""
    links = "".join(f'<li><a href="/p{i}.html">Page {i}</a></li>' for i in range(SLOW_PAGES))
    page = '<!doctype html><html lang="en"><head><title>{0}</title></head><body><main>'
    page += "<h1>{0}</h1><p>Bins are collected every week.</p><ul>{1}</ul></main></body></html>"
    (root / "index.html").write_text(page.format(title, links))
    for i in range(SLOW_PAGES):
        (root / f"p{i}.html").write_text(page.format(f"Page {i}", ""))
    (root / "robots.txt").write_text(f"User-agent: *\nCrawl-delay: {crawl_delay}\n")
    return serve_site(root)


@pytest.fixture(scope="module")
def slow_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second between requests: its scans can be stopped part-way."""
    with serve_slow_site(tmp_path_factory.mktemp("slow"), "Slow council", 1) as base:
        yield base


@pytest.fixture(scope="module")
def slower_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Three seconds between requests: a scan outlasts a prune beside it even on a loaded
    machine (the slow site's once finished first)."""
    with serve_slow_site(tmp_path_factory.mktemp("slower"), "Slower council", 3) as base:
        yield base


@pytest.fixture(scope="module")
def history(council_site: Site, slow_site: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seven real scans of two sites: the demo council's 1, 2 and 7 (2 and 7 with a
    decision), and the slow site's 3 (stopped at its time limit), 4 (its only finished
    scan), 5 (stopped at its time limit) and 6 (killed with SIGKILL, so still `running`)."""
    folder = tmp_path_factory.mktemp("history")
    db, decisions = folder / "scan.db", folder / "decisions.toml"
    decisions.write_text(DECISIONS)
    demo = ("--config", "app/demo.toml")
    scan(council_site.base, db, *demo)
    scan(council_site.base, db, *demo, "--decisions", str(decisions))
    scan(slow_site, db, "--max-minutes", "0.05", ok=False)
    scan(slow_site, db)
    scan(slow_site, db, "--max-minutes", "0.05", ok=False)
    killed = start_scan(slow_site, db)
    wait_for_page(db, 6)
    killed.kill()
    killed.wait(timeout=30)
    scan(council_site.base, db, *demo, "--decisions", str(decisions))
    assert query(db, "SELECT id, status FROM scans") == [
        (1, "finished"),
        (2, "finished"),
        (3, "interrupted"),
        (4, "finished"),
        (5, "interrupted"),
        (6, "running"),
        (7, "finished"),
    ]
    return db


@pytest.fixture
def db(history: Path, tmp_path: Path) -> Path:
    """A copy of the history for one test to prune."""
    copy = tmp_path / "scan.db"
    for suffix in ("", "-wal"):
        if Path(f"{history}{suffix}").exists():
            shutil.copyfile(f"{history}{suffix}", f"{copy}{suffix}")
    # Folded into the file now, so that its size does not change between the test's measure
    # and prune's (the last connection to close would checkpoint it at a time of its own).
    query(copy, "PRAGMA wal_checkpoint(TRUNCATE)")
    return copy


def rows_by_scan(db: Path) -> dict[str, dict[int, int]]:
    return {
        table: dict(query(db, f"SELECT scan_id, count(*) FROM {table} GROUP BY scan_id"))
        for table in TABLES
    }


def rows_of(db: Path, scan_ids: set[int]) -> dict[str, int]:
    counts = rows_by_scan(db)
    return {table: sum(counts[table].get(i, 0) for i in scan_ids) for table in TABLES}


def prune(db: Path, *args: str) -> list[str]:
    result = run_siteaudit("prune", "--db", str(db), *args)
    assert result.returncode == 0, result.stderr
    return result.stderr.splitlines()


def started(db: Path, scan_id: int) -> str:
    """The day (UTC) a scan started, as prune shows it."""
    return query(db, "SELECT substr(started_at, 1, 10) FROM scans WHERE id = ?", scan_id)[0][0]


def assert_whole(db: Path) -> None:
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    assert query(db, "PRAGMA foreign_key_check") == []
    orphans = "SELECT count(*) FROM {} WHERE scan_id NOT IN (SELECT id FROM scans)"
    assert all(query(db, orphans.format(table)) == [(0,)] for table in TABLES)


def totals_line(verb: str, removed: int, rows: dict[str, int], pictures: str = "0 pictures") -> str:
    tables = ", ".join(f"{table} {count:,}" for table, count in rows.items())
    return (
        f"{verb} {removed} of 7 scans, with {sum(rows.values()):,} rows ({tables}) "
        f"and {pictures} that no remaining finding shows"
    )


def test_keep_removes_each_sites_older_scans_with_every_row_and_shrinks_the_file(
    db: Path, council_site: Site, slow_site: str
) -> None:
    before, expected = rows_by_scan(db), rows_of(db, {1, 3})
    assert expected["pages"] and expected["findings"] and expected["fetches"]
    size_before = database_bytes(str(db))
    lines = prune(db, "--keep", "2")
    assert lines[:4] == [
        f"Removed 1 scan of {council_site.base}/: 1",
        f"Removed 1 scan of {slow_site}/: 3",
        f"Kept scan 4 ({started(db, 4)}, finished): the only finished scan of its site",
        totals_line("Removed", 2, expected),
    ]
    assert query(db, "SELECT id FROM scans") == [(2,), (4,), (5,), (6,), (7,)]
    # Every row of the kept scans is still there; none of the removed ones.
    after = rows_by_scan(db)
    for table in TABLES:
        assert after[table] == {i: n for i, n in before[table].items() if i not in (1, 3)}
    assert_whole(db)
    assert database_bytes(str(db)) < size_before
    assert lines[4] == (
        f"Database {db}: {size(size_before)} before, {size(database_bytes(str(db)))} after VACUUM"
    )


def test_the_only_finished_scan_running_and_resumable_scans_stay(db: Path, slow_site: str) -> None:
    running = rows_of(db, {6})
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    day = {i: started(db, i) for i in (4, 5, 6, 7)}
    lines = prune(db, "--before", tomorrow)
    assert [line for line in lines if line.startswith("Kept")] == [
        f"Kept scan 4 ({day[4]}, finished): the only finished scan of its site",
        f"Kept scan 5 ({day[5]}, interrupted): the newest interrupted scan of its site "
        "(--resume finishes it)",
        f"Kept scan 6 ({day[6]}, running): status running: still running, or killed "
        "(siteaudit cannot tell which; --resume finishes a killed one)",
        f"Kept scan 7 ({day[7]}, finished): the newest finished scan of its site",
    ]
    # Scan 3 was stopped before 4 finished: --resume would not finish it now.
    assert query(db, "SELECT id FROM scans") == [(4,), (5,), (6,), (7,)]
    assert rows_of(db, {6}) == running
    assert query(db, "SELECT status FROM scans WHERE id = 6") == [("running",)]
    # The killed scan still carries on from where it stopped.
    result = run_siteaudit("scan", f"{slow_site}/", "--db", str(db), "--no-browser", "--resume")
    assert result.returncode == 0, result.stderr
    assert query(db, "SELECT status FROM scans WHERE id = 6") == [("finished",)]
    assert query(db, "SELECT count(*) FROM pages WHERE scan_id = 6") == [(SLOW_PAGES + 1,)]
    assert_whole(db)


def test_dry_run_says_what_would_go_and_changes_nothing(db: Path, council_site: Site) -> None:
    before, expected = rows_by_scan(db), rows_of(db, {1, 2, 3})
    lines = prune(db, "--keep", "1", "--dry-run")
    assert lines[0] == f"Would remove 2 scans of {council_site.base}/: 1-2"
    assert totals_line("Would remove", 3, expected) in lines
    assert lines[-1].endswith("; nothing removed (--dry-run)")
    assert rows_by_scan(db) == before
    assert len(query(db, "SELECT id FROM scans")) == 7


def test_both_options_remove_only_what_both_choose(db: Path) -> None:
    before = rows_by_scan(db)
    assert prune(db, "--keep", "1", "--before", "2000-01-01") == [
        "Nothing to remove (7 scans in the database, all kept)",
        f"Database {db}: {size(database_bytes(str(db)))}; nothing to reclaim",
    ]
    assert rows_by_scan(db) == before


def test_reports_and_decisions_work_after_pruning(
    db: Path, council_site: Site, tmp_path: Path
) -> None:
    prune(db, "--keep", "1")
    assert query(db, "SELECT id FROM scans") == [(4,), (5,), (6,), (7,)]
    # The decision recorded with the kept scan stays, and the report shows it.
    decided = "SELECT count(*) FROM findings WHERE scan_id = ? AND decision = 'false-positive'"
    assert query(db, decided, 7) == [(1,)]
    assert query(db, "SELECT decision, reason FROM decisions WHERE scan_id = 7") == [
        ("false-positive", DECIDED_REASON)
    ]
    out = tmp_path / "report"
    result = run_siteaudit("report", "--db", str(db), "--out", str(out))
    assert result.returncode == 0, result.stderr
    pages = " ".join(p.read_text() for p in out.glob("*.html"))
    assert "Example Borough Council" in pages and "Revenues and Benefits" in pages
    assert DECIDED_REASON in pages
    slow = tmp_path / "slow-report"
    result = run_siteaudit("report", "--db", str(db), "--out", str(slow), "--scan", "4")
    assert result.returncode == 0, result.stderr
    assert "Page 0" in (slow / "team-unassigned.html").read_text()
    # The decisions file goes on applying to later scans: they never read a removed one's.
    decisions = tmp_path / "decisions.toml"
    decisions.write_text(DECISIONS)
    scan(council_site.base, db, "--config", "app/demo.toml", "--decisions", str(decisions))
    assert query(db, decided, 8) == [(1,)]
    # Unchanged pages keep their readability from scan 7 (reused), as without pruning.
    figures = "SELECT url, reading_age, words_to_avoid FROM pages WHERE scan_id = ? ORDER BY url"
    assert query(db, figures, 8) == query(db, figures, 7)
    assert_whole(db)


@pytest.mark.slow
def test_a_scan_writing_while_another_prunes_finishes_whole(db: Path, slower_site: str) -> None:
    live = start_scan(slower_site, db)
    wait_for_page(db, 8)
    lines = prune(db, "--keep", "1")
    assert " after VACUUM" in lines[-1]
    assert query(db, "SELECT id FROM scans") == [(4,), (5,), (6,), (7,), (8,)]
    _, stderr = live.communicate(timeout=120)
    assert live.returncode == 0, stderr
    assert query(db, "SELECT status FROM scans WHERE id = 8") == [("finished",)]
    assert query(db, "SELECT count(*) FROM pages WHERE scan_id = 8") == [(SLOW_PAGES + 1,)]
    assert_whole(db)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            (),
            "Error: say which scans to remove: --keep N (keep each site's N newest scans), "
            "--before DATE (remove scans started before it), or both",
        ),
        (("--keep", "0"), "Error: --keep must be a whole number of scans, 1 or more, not '0'"),
        (("--keep", "two"), "Error: --keep must be a whole number of scans, 1 or more, not 'two'"),
        (
            ("--before", "31/01/2025"),
            "Error: --before must be an ISO date such as 2025-01-31, not '31/01/2025'",
        ),
    ],
)
def test_bad_options_are_one_error_line(tmp_path: Path, args: tuple[str, ...], error: str) -> None:
    db = tmp_path / "scan.db"
    db.write_bytes(b"")  # refused before the database is opened: never touched
    run = run_in_process("prune", "--db", str(db), *args)
    assert (run.returncode, run.errors, run.stderr.strip()) == (1, [error], error)
    assert db.read_bytes() == b"" and not Path(f"{db}-wal").exists()


def test_a_missing_database_is_one_error_line(tmp_path: Path) -> None:
    run = run_in_process("prune", "--db", str(tmp_path / "none.db"), "--keep", "3")
    assert run.returncode == 1
    assert run.errors == [
        f"Error: {tmp_path / 'none.db'}: no such database; run siteaudit scan --db "
        f"{tmp_path / 'none.db'} first"
    ]


def shown_pictures(db: Path, scan_id: int) -> set[str]:
    rows = query(
        db,
        "SELECT picture FROM findings WHERE scan_id = ? AND picture IS NOT NULL UNION "
        "SELECT page_picture FROM findings WHERE scan_id = ? AND page_picture IS NOT NULL",
        scan_id,
        scan_id,
    )
    return {picture for (picture,) in rows}


@pytest.mark.browser
def test_reused_audits_keep_their_findings_and_pictures(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(DEMO_SITE, site)
    db = tmp_path / "scan.db"
    demo = ("--config", "app/demo.toml", "--browsers", "2")
    with serve_site(site) as base:
        assert run_siteaudit("scan", f"{base}/", "--db", str(db), *demo).returncode == 0
        # The faint paragraph's words change: its pictures do, every other page is reused.
        page = site / "council-tax" / "pay.html"
        page.write_text(page.read_text().replace("after 4pm", "after 5pm"))
        assert run_siteaudit("scan", f"{base}/", "--db", str(db), *demo).returncode == 0
    reused = "SELECT url, reused_from_scan FROM pages WHERE scan_id = 2 ORDER BY url"
    reused_before = query(db, reused)
    assert [u for u, r in reused_before if r is None] == [f"{base}/council-tax/pay.html"]
    copied = "SELECT url, rule_id, fingerprint, picture, location FROM findings WHERE scan_id = 2"
    findings_before = sorted(query(db, copied))
    only_first = shown_pictures(db, 1) - shown_pictures(db, 2)
    assert only_first
    (freed,) = query(
        db,
        f"SELECT sum(bytes) FROM pictures WHERE id IN ({','.join('?' * len(only_first))})",
        *only_first,
    )[0]
    expected = rows_of(db, {1})
    unpruned = tmp_path / "unpruned.db"
    shutil.copyfile(db, unpruned)
    lines = prune(db, "--keep", "1")
    tables = ", ".join(f"{table} {count:,}" for table, count in expected.items())
    assert lines[1] == (
        f"Removed 1 of 2 scans, with {sum(expected.values()):,} rows ({tables}) and "
        f"{len(only_first)} pictures ({size(freed)}) that no remaining finding shows"
    )
    # The reused pages still name the scan their audit came from, and keep its findings.
    assert query(db, reused) == reused_before
    assert sorted(query(db, copied)) == findings_before
    stored = {picture for (picture,) in query(db, "SELECT id FROM pictures")}
    assert stored == shown_pictures(db, 2)
    assert_whole(db)
    # The kept scan's report shows the same pictures as before pruning.
    pictures = {}
    for name, path in (("before", unpruned), ("after", db)):
        out = tmp_path / name
        result = run_siteaudit("report", "--db", str(path), "--out", str(out), "--scan", "2")
        assert result.returncode == 0, result.stderr
        assert "Revenues and Benefits" in (out / "index.html").read_text()
        pictures[name] = {f.name: f.read_bytes() for f in (out / "pictures").iterdir()}
    assert pictures["after"] == pictures["before"] and pictures["after"]


def stored(scan_id: int, started_at: str) -> StoredScan:
    return StoredScan(scan_id, started_at, "https://www.example.gov.uk/", "finished", False, None)


def test_before_means_started_before_the_day_and_keep_counts_from_the_newest() -> None:
    before = Retention(before=date(2025, 1, 31))
    assert before.chooses(stored(1, "2025-01-30T23:59:59+00:00"), rank=0)
    assert not before.chooses(stored(2, "2025-01-31T00:00:00+00:00"), rank=5)
    keep = Retention(keep=2)
    assert [keep.chooses(stored(i, "2025-01-01T00:00:00+00:00"), rank=i) for i in range(4)] == [
        False,
        False,
        True,
        True,
    ]
    both = Retention(keep=2, before=date(2025, 1, 31))
    assert not both.chooses(stored(1, "2025-01-01T00:00:00+00:00"), rank=1)
    assert not both.chooses(stored(2, "2025-02-01T00:00:00+00:00"), rank=3)
    assert both.chooses(stored(3, "2025-01-01T00:00:00+00:00"), rank=2)


def test_removed_scans_are_listed_as_ranges() -> None:
    assert ids([stored(i, "") for i in (1, 2, 4, 6, 7, 8)]) == "1-2, 4, 6-8"
