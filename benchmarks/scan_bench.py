"""Benchmark a siteaudit scan against the browser's floor, on a generated council site.

Four runs in one process tree, with the same number of browsers: the floor (bare sessions
that navigate and run axe), a full scan, a rescan of the unchanged site into the same
database, and a scan without the browser. Optionally a long scan that samples memory every
500 pages stored, noting whether the browsers were still running. Writes
docs/performance.md with --out.

    python benchmarks/scan_bench.py --pages 500 --browsers 2 --out docs/performance.md
    python benchmarks/scan_bench.py --memory-pages 5000 --browsers 2
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.demo import serve_site  # noqa: E402
from benchmarks.floor import measure_floor  # noqa: E402
from benchmarks.memory import MemorySampler, browser_processes, tree_pss_mib  # noqa: E402
from tests.sites.generate import generate_site  # noqa: E402


@dataclass(frozen=True)
class Sample:
    """The process tree's memory when a number of pages had been stored."""

    pages: int
    mib: float
    browsers: int  # Chromium processes running: 0 once the scan has closed them


@dataclass
class Run:
    name: str
    pages: int
    seconds: float
    peak_mib: float | None = None
    audited: int = 0
    reused: int = 0
    not_modified: int = 0  # answered 304 Not Modified: not downloaded
    samples: list[Sample] = field(default_factory=list)

    @property
    def per_minute(self) -> float:
        return self.pages * 60 / self.seconds


def page_count(db: Path) -> int:
    try:
        with sqlite3.connect(db) as conn:
            return conn.execute(
                "SELECT count(*) FROM pages WHERE scan_id = (SELECT max(id) FROM scans)"
            ).fetchone()[0]
    except sqlite3.Error:
        return 0


def scan(name: str, base: str, db: Path, *args: str, sample_every: int = 0) -> Run:
    """Run `siteaudit scan` in a subprocess, sampling its whole process tree's memory.

    With sample_every, also records the tree's memory each time that many more pages have
    been stored, while the scan runs.
    """
    command = [sys.executable, "-m", "app.cli", "scan", f"{base}/", "--db", str(db), *args]
    started = time.monotonic()
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    sampler = MemorySampler(process.pid)
    sampler.start()
    samples = watch_pages(process, db, sample_every) if sample_every else []
    _, stderr = process.communicate()
    seconds = time.monotonic() - started
    peak = sampler.stop()
    if process.returncode != 0:
        raise SystemExit(f"{name} failed:\n{stderr}")
    with sqlite3.connect(db) as conn:
        pages, audited, reused, not_modified = conn.execute(
            "SELECT count(*), count(audited_at) - count(reused_from_scan), "
            "count(reused_from_scan), count(not_modified) FROM pages "
            "WHERE scan_id = (SELECT max(id) FROM scans)"
        ).fetchone()
    return Run(name, pages, seconds, peak, audited, reused, not_modified, samples)


def watch_pages(process: subprocess.Popen[str], db: Path, every: int) -> list[Sample]:
    """A sample each time another `every` pages are stored, until the scan ends.

    Polled every 0.2 s: the writer commits about once a second, so a sample lands within a
    second or two of its mark, while the scan is still busy (never after the browsers close,
    which a once-a-second poll of the last mark could miss).
    """
    samples: list[Sample] = []
    next_mark = every
    while process.poll() is None:
        time.sleep(0.2)
        count = page_count(db)
        if count >= next_mark:
            samples.append(Sample(count, tree_pss_mib(process.pid), browser_processes(process.pid)))
            next_mark = (count // every + 1) * every
    return samples


def server_capacity(base: str, paths: list[str], seconds: float = 3.0) -> float:
    """Requests per second the fixture server answers with 8 concurrent clients."""
    host, port = urlsplit(base).hostname, urlsplit(base).port
    done: list[int] = []
    deadline = time.monotonic() + seconds

    def client() -> None:
        i = 0
        while time.monotonic() < deadline:
            conn = http.client.HTTPConnection(host, port, timeout=10)
            conn.request("GET", paths[i % len(paths)])
            conn.getresponse().read()
            conn.close()
            done.append(1)
            i += 1

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(done) / seconds


def page_sizes(site: Path) -> tuple[float, float, float]:
    """Median bytes, words of main content, and links per generated page."""
    pages = [p.read_text() for p in site.rglob("*.html")]
    words = [
        len(re.sub(r"<[^>]+>", " ", p.split("<main", 1)[1].split("</main>")[0]).split())
        for p in pages
    ]
    return (
        statistics.median(len(p.encode()) for p in pages),
        statistics.median(words),
        statistics.median(p.count("<a ") for p in pages),
    )


def requests_per_page(log: list[str]) -> float:
    counts = Counter(line for line in log if line.endswith((".html", "/")))
    return max(counts.values()) if counts else 0


def report(
    runs: list[Run],
    floor_seconds: float,
    pages: int,
    browsers: int,
    capacity: float,
    sizes: tuple[float, float, float],
    max_requests: float,
) -> str:
    floor_rate = pages * 60 / floor_seconds
    full, rescan, nobrowser, nobrowser_rescan = runs
    floor_row = (
        f"| floor: bare sessions, navigate + axe | {pages} | {pages} | 0 | - | "
        f"{floor_seconds:.1f} | {floor_rate:.0f} | - |"
    )
    rows = "\n".join(
        f"| {r.name} | {r.pages} | {r.audited} | {r.reused} | {r.not_modified} | "
        f"{r.seconds:.1f} | {r.per_minute:.0f} | {r.peak_mib:.0f} |"
        for r in runs
    )
    return f"""## {pages} generated pages, {browsers} browsers

Measured {time.strftime("%Y-%m-%d")} in one run on {platform.machine()}, {os.cpu_count()} cores,
Python {platform.python_version()}, on a shared machine: compare the ratios within this run.
Memory is the peak sum of PSS over the whole process tree (Python, ChromeDriver, every
Chromium process), sampled every 0.5 s.

Generated pages (tests/sites/generate.py, prose from ../shared/seeds): median
{sizes[0] / 1024:.1f} KB of HTML, {sizes[1]:.0f} words of main content, {sizes[2]:.0f} links.
The fixture server (HTTP/1.1, connections kept open, as council sites' servers do) answered
{capacity:.0f} requests/s to 8 concurrent clients making a connection each, far above any
run's request rate, so it did not limit them.

| run | pages | audited | reused | not downloaded (304) | seconds | pages/min | peak MiB |
|---|---|---|---|---|---|---|---|
{floor_row}
{rows}

- full scan / floor: **{full.per_minute / floor_rate:.2f}** (target at least 0.85)
- first scan time / unchanged rescan time: **{full.seconds / rescan.seconds:.1f}x**
  (target at least 10x; {rescan.not_modified} of {rescan.pages} pages answered 304 Not Modified)
- without the browser, first scan time / unchanged rescan time:
  **{nobrowser.seconds / nobrowser_rescan.seconds:.1f}x**
- without the browser: **{nobrowser.pages / nobrowser.seconds:.0f} pages/s** (target at least 100)
- peak memory of the full scan: **{full.peak_mib:.0f} MiB** (target at most 1,536 MiB)
- most requests the server saw for any one HTML page during the full scan: **{max_requests:g}**

Reproduce: `nox -s bench`, or
`python benchmarks/scan_bench.py --pages {pages} --browsers {browsers}`.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--browsers", type=int, default=2)
    parser.add_argument(
        "--memory-pages",
        type=int,
        default=0,
        help="instead: one long scan of this many pages, sampling memory",
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    section = "memory" if args.memory_pages else "speed"
    text = memory_run(args) if args.memory_pages else speed_runs(args)
    print(text)
    if args.out:
        write_section(args.out, section, text)


def write_section(path: Path, name: str, text: str, tool: str = "scan_bench.py") -> None:
    """Put a run's figures between its markers in path, keeping everything written by hand
    around them (docs/performance.md explains the figures); a new file gets just them."""
    start, end = f"<!-- {tool} {name}: start -->", f"<!-- {tool} {name}: end -->"
    marked = f"{start}\n{text.strip()}\n{end}"
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.DOTALL)
    if pattern.search(current):
        path.write_text(pattern.sub(lambda _: marked, current), encoding="utf-8")
    elif current:
        path.write_text(current.rstrip("\n") + "\n\n" + marked + "\n", encoding="utf-8")
    else:
        path.write_text(f"# Performance\n\n{marked}\n", encoding="utf-8")


def speed_runs(args: argparse.Namespace) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        paths = generate_site(site, args.pages)
        log: list[str] = []
        with serve_site(site, access_log=log, keep_alive=True) as base:
            capacity = server_capacity(base, paths)
            floor = measure_floor([base + p for p in paths], args.browsers)
            log.clear()
            db = Path(tmp) / "scan.db"
            full = scan("full scan", base, db, "--browsers", str(args.browsers))
            max_requests = requests_per_page(log)
            rescan = scan("rescan, site unchanged", base, db, "--browsers", str(args.browsers))
            nobrowser = scan("--no-browser", base, Path(tmp) / "nb.db", "--no-browser")
            nobrowser_rescan = scan(
                "--no-browser: rescan, site unchanged", base, Path(tmp) / "nb.db", "--no-browser"
            )
        return report(
            [full, rescan, nobrowser, nobrowser_rescan],
            floor,
            args.pages,
            args.browsers,
            capacity,
            page_sizes(site),
            max_requests,
        )


def memory_run(args: argparse.Namespace) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        generate_site(site, args.memory_pages)
        with serve_site(site, keep_alive=True) as base:
            run = scan(
                "memory",
                base,
                Path(tmp) / "m.db",
                "--browsers",
                str(args.browsers),
                "--max-pages",
                str(args.memory_pages + 10),
                sample_every=500,
            )
    return memory_report(run, args)


def memory_report(run: Run, args: argparse.Namespace) -> str:
    busy = [s for s in run.samples if s.browsers]
    first = next((s for s in busy if s.pages >= 1000), None)
    last = busy[-1] if busy else None
    if first and last and last.pages > first.pages:
        growth = (
            f"growth from {first.pages:,} to {last.pages:,} pages, browsers running: "
            f"**{(last.mib - first.mib) / first.mib * 100:.1f}%**"
        )
    else:
        growth = "growth: n/a (no two samples 1,000 or more pages apart with browsers running)"
    rows = "".join(f"| {s.pages:,} | {s.mib:.0f} | {s.browsers} |\n" for s in run.samples)
    return (
        f"## Memory over one {run.pages}-page scan, {args.browsers} browsers\n\n"
        "| pages stored | process tree PSS (MiB) | Chromium processes |\n|---|---|---|\n"
        + rows
        + f"\nPeak {run.peak_mib:.0f} MiB; {growth} (target under 10%); "
        f"{run.per_minute:.0f} pages/min over {run.seconds / 60:.0f} minutes.\n\n"
        f"Reproduce: `python benchmarks/scan_bench.py --memory-pages "
        f"{args.memory_pages} --browsers {args.browsers}`\n"
    )


if __name__ == "__main__":
    main()
