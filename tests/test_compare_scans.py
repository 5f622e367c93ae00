"""benchmarks/compare_scans.py (issue 18): two --no-browser scans of the demo site, on
127.0.0.1, store the same rows, and a row that differs is named."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from benchmarks.compare_scans import differences
from tests.conftest import ROOT, Site, run_siteaudit


def test_two_scans_of_one_site_store_the_same_rows(council_site: Site, tmp_path: Path) -> None:
    first, second = tmp_path / "first.db", tmp_path / "second.db"
    for db in (first, second):
        scan = run_siteaudit("scan", council_site.url(), "--db", str(db), "--no-browser")
        assert scan.returncode == 0, scan.stderr
    assert differences(first, second) == []
    same = subprocess.run(
        [sys.executable, "benchmarks/compare_scans.py", str(first), str(second)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert same.returncode == 0 and same.stdout.startswith("the same rows: 17 pages")

    with sqlite3.connect(second) as conn:
        conn.execute("UPDATE links SET link_text = 'Changed' WHERE rowid = 1")
    (found,) = differences(first, second)
    assert found.startswith("links: 219 rows against 219; 1 only in the first, 1 only in")
