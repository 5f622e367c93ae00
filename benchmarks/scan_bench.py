"""Measure a full siteaudit scan of a generated council site: pages/min and peak memory.

python benchmarks/scan_bench.py --pages 500 --browsers 2 --out docs/performance.md
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

from benchmarks.memory import MemorySampler  # noqa: E402
from crawler.demo import serve_site  # noqa: E402
from tests.sites.generate import generate_site  # noqa: E402


@dataclass
class Run:
    name: str
    pages: int
    audited: int
    seconds: float
    peak_mib: float

    @property
    def per_minute(self) -> float:
        return self.pages * 60 / self.seconds


def scan(name: str, base: str, db: Path, *args: str) -> Run:
    command = [sys.executable, "-m", "crawler.cli", "scan", f"{base}/", "--db", str(db), *args]
    started = time.monotonic()
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    sampler = MemorySampler(process.pid)
    sampler.start()
    _, stderr = process.communicate()
    seconds = time.monotonic() - started
    peak = sampler.stop()
    if process.returncode != 0:
        raise SystemExit(f"{name} failed:\n{stderr}")
    with sqlite3.connect(db) as conn:
        scan_id = conn.execute("SELECT max(id) FROM scans").fetchone()[0]
        pages, audited = conn.execute(
            "SELECT count(*), count(audited_at) FROM pages WHERE scan_id = ?", [scan_id]
        ).fetchone()
    return Run(name, pages, audited, seconds, peak)


def report(runs: list[Run], pages: int, browsers: int) -> str:
    rows = "\n".join(
        f"| {r.name} | {r.pages} | {r.audited} | {r.seconds:.1f} | {r.per_minute:.0f} | "
        f"{r.peak_mib:.0f} |"
        for r in runs
    )
    return f"""## Scan throughput and memory ({pages} generated pages, {browsers} browsers)

Measured {time.strftime("%Y-%m-%d")} on {platform.machine()}, {os.cpu_count()} cores, Python
{platform.python_version()}; one run, on a shared machine: compare rows of one run, not
figures across runs. Memory is the peak sum of PSS over the whole process tree (Python,
ChromeDriver, every Chromium process), sampled every 0.5 s.

| run | pages | audited | seconds | pages/min | peak MiB |
|---|---|---|---|---|---|
{rows}

Reproduce: `python benchmarks/scan_bench.py --pages {pages} --browsers {browsers}`
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--browsers", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        generate_site(site, args.pages)
        with serve_site(site) as base:
            runs = [
                scan("full scan", base, Path(tmp) / "full.db", "--browsers", str(args.browsers)),
                scan("--no-browser", base, Path(tmp) / "nobrowser.db", "--no-browser"),
            ]
    text = report(runs, args.pages, args.browsers)
    print(text)
    if args.out:
        args.out.write_text("# Performance\n\n" + text)


if __name__ == "__main__":
    main()
