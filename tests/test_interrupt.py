"""A scan stopped part-way keeps what it did: SIGTERM records 'interrupted', kill -9 loses
nothing committed, and no Chromium is left behind."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.demo import serve_site
from tests.conftest import ROOT, chromium_processes, query, run_siteaudit
from tests.sites.generate import generate_site

pytestmark = pytest.mark.browser


def start_scan(base: str, db: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app.cli",
            "scan",
            f"{base}/",
            "--db",
            str(db),
            "--browsers",
            "1",
            # About stopping and resuming, not the checks: axe-core alone keeps it quick.
            "--checks",
            "axe",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_pages(db: Path, count: int, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(db) as conn:
                stored = conn.execute("SELECT count(*) FROM pages").fetchone()[0]
            if stored >= count:
                return stored
        except sqlite3.OperationalError:
            pass  # the schema is not there yet
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} pages stored in {timeout}s")


@pytest.fixture(scope="module")
def big_site(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("site")
    generate_site(root, pages=200)
    with serve_site(root) as base:
        yield base


def test_sigterm_stops_cleanly_and_keeps_pages(big_site: str, tmp_path: Path) -> None:
    db = tmp_path / "scan.db"
    process = start_scan(big_site, db)
    wait_for_pages(db, 5)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 1
    assert "Error: stopped before the end" in stderr
    ((status,),) = query(db, "SELECT status FROM scans")
    assert status == "interrupted"
    stored = query(db, "SELECT count(*), count(audited_at) FROM pages")[0]
    assert 5 <= stored[0] < 200 and stored[1] == stored[0]
    assert chromium_processes() == []


def test_kill_9_keeps_everything_committed(big_site: str, tmp_path: Path) -> None:
    db = tmp_path / "scan.db"
    process = start_scan(big_site, db)
    stored = wait_for_pages(db, 5)
    process.kill()  # SIGKILL: no handler runs, nothing is flushed
    process.wait(timeout=30)
    after = query(db, "SELECT count(*) FROM pages")[0][0]
    assert after >= stored
    assert query(db, "SELECT status FROM scans") == [("running",)]
    # ChromeDriver's reaper sees siteaudit's pipe close and kills the browsers' group.
    deadline = time.monotonic() + 15
    while chromium_processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert chromium_processes() == []


@pytest.mark.slow
def test_resume_after_kill_9_finishes_without_redoing_pages(tmp_path: Path) -> None:
    root = tmp_path / "site"
    expected = generate_site(root, pages=100, seed=7)
    killed, whole = tmp_path / "killed.db", tmp_path / "whole.db"
    with serve_site(root) as base:
        process = start_scan(base, killed)
        wait_for_pages(killed, 15)
        process.kill()
        process.wait(timeout=30)
        before = dict(query(killed, "SELECT url, audited_at FROM pages"))
        resumed = run_siteaudit(
            "scan",
            f"{base}/",
            "--db",
            str(killed),
            "--resume",
            "--browsers",
            "2",
            "--checks",
            "axe",
        )
        assert resumed.returncode == 0, resumed.stderr
        uninterrupted = run_siteaudit(
            "scan", f"{base}/", "--db", str(whole), "--browsers", "2", "--checks", "axe"
        )
        assert uninterrupted.returncode == 0, uninterrupted.stderr
    assert query(killed, "SELECT id, status FROM scans") == [(1, "finished")]
    pages = sorted(url.removeprefix(base) for (url,) in query(killed, "SELECT url FROM pages"))
    assert pages == expected
    # Pages stored before the kill were kept as they were, not audited again.
    after = dict(query(killed, "SELECT url, audited_at FROM pages"))
    assert all(after[url] == audited for url, audited in before.items())
    # Nothing lost or duplicated: the same counts as a scan that was never interrupted.
    for table in ("pages", "findings", "links", "documents"):
        counts = [query(db, f"SELECT count(*) FROM {table}")[0][0] for db in (killed, whole)]
        assert counts[0] == counts[1], table
    assert not query(
        killed,
        "SELECT url, fingerprint FROM findings GROUP BY url, fingerprint, kind HAVING count(*) > 1",
    )
    assert chromium_processes() == []
