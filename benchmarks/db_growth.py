"""Measure how much a siteaudit database grows per page per scan, and what prune gives back.

A generated site is scanned twice into one database without the browser (a first scan, then
an unchanged rescan), and twice in the browser (pages with defects, so with pictures of
elements; --browser-pages 0 leaves it out). The file is measured after each scan, then
after `siteaudit prune --keep 1`. Writes its section of docs/performance.md with --out.

    python benchmarks/db_growth.py --pages 1000 --browser-pages 300 --out docs/performance.md
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.demo import serve_site  # noqa: E402
from app.prune import database_bytes  # noqa: E402
from benchmarks.scan_bench import scan, write_section  # noqa: E402
from tests.sites.generate import generate_site  # noqa: E402


@dataclass(frozen=True)
class Growth:
    name: str
    pages: int
    size: int  # bytes on disk after the run
    grown: int  # bytes added by the run

    @property
    def per_page(self) -> float:
        return self.grown / self.pages

    @property
    def per_thousand_mb(self) -> float:
        return self.per_page * 1000 / 1_000_000


@dataclass(frozen=True)
class Series:
    """Two scans of one site into one database, and the file after pruning the first."""

    runs: tuple[Growth, Growth]
    pruned: int  # bytes after prune --keep 1
    prune_seconds: float
    largest: list[tuple[str, float]]  # table (with its indexes) -> share of the file


def growth_series(name: str, base: str, db: Path, *args: str) -> Series:
    runs = []
    for run_name in (f"{name}: first scan", f"{name}: rescan, site unchanged"):
        before = database_bytes(str(db)) if db.exists() else 0
        run = scan(run_name, base, db, *args)
        size = checkpointed_bytes(db)
        runs.append(Growth(run_name, run.pages, size, size - before))
    largest = table_shares(db)
    started = time.monotonic()
    command = [sys.executable, "-m", "app.cli", "prune", "--db", str(db), "--keep", "1"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"prune failed:\n{done.stderr}")
    seconds = time.monotonic() - started
    return Series((runs[0], runs[1]), database_bytes(str(db)), seconds, largest)


def checkpointed_bytes(db: Path) -> int:
    """The database's size once its write-ahead log is copied into it (as the last
    connection to close does; a reader left open can keep a log that size behind)."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return database_bytes(str(db))


def table_shares(db: Path) -> list[tuple[str, float]]:
    """Each table's share of the file, its indexes counted with it, largest first."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT coalesce(m.tbl_name, s.name), sum(s.pgsize) FROM dbstat s "
            "LEFT JOIN sqlite_master m ON m.name = s.name GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
    total = sum(size for _, size in rows)
    return [(name, size / total) for name, size in rows[:4]]


def report(series: list[Series], args: argparse.Namespace) -> str:
    rows = "\n".join(
        f"| {g.name} | {g.pages:,} | {g.size / 1_000_000:.1f} | {g.per_page:,.0f} | "
        f"{g.per_thousand_mb:.1f} |"
        for s in series
        for g in s.runs
    )
    notes = "\n".join(
        f"- {s.runs[0].name.split(':')[0]}: largest tables "
        + ", ".join(f"{name} {share:.0%}" for name, share in s.largest)
        + f"; `prune --keep 1` took the file from {s.runs[1].size / 1_000_000:.1f} MB to "
        f"{s.pruned / 1_000_000:.1f} MB in {s.prune_seconds:.1f} s"
        for s in series
    )
    browser = (
        f" --browser-pages {args.browser_pages} --browsers {args.browsers}"
        if args.browser_pages
        else " --browser-pages 0"
    )
    return f"""## Database growth per scan

Measured {time.strftime("%Y-%m-%d")} on {platform.machine()}, {os.cpu_count()} cores, Python
{platform.python_version()}, SQLite {sqlite3.sqlite_version}: generated pages
(tests/sites/generate.py; the browser's with --defects), each site scanned twice into one
database. The size is the file after each scan, its write-ahead log checkpointed into it.

| run | pages | file after (MB) | bytes added per page | MB per 1,000 pages |
|---|---|---|---|---|
{rows}

{notes}

Reproduce: `nox -s bench_db`, or
`python benchmarks/db_growth.py --pages {args.pages}{browser}`."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000, help="pages of the --no-browser site")
    parser.add_argument("--browser-pages", type=int, default=300, help="0: no browser scans")
    parser.add_argument("--browsers", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    series = []
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        generate_site(site, args.pages)
        with serve_site(site) as base:
            db = Path(tmp) / "text.db"
            series.append(growth_series("--no-browser", base, db, "--no-browser"))
        if args.browser_pages:
            site = Path(tmp) / "browser-site"
            generate_site(site, args.browser_pages, defects=True)
            with serve_site(site) as base:
                db = Path(tmp) / "browser.db"
                series.append(growth_series("browser", base, db, "--browsers", str(args.browsers)))
    text = report(series, args)
    print(text)
    if args.out:
        write_section(args.out, "growth", text, tool="db_growth.py")


if __name__ == "__main__":
    main()
