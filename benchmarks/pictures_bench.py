"""Benchmark the pictures of elements: the same generated site scanned with and without them.

Runs alternate, without then with pictures then with then without (ABBA), each into a new
database so every page is audited, so that the machine's drift weighs on both alike. The
site is tests/sites/generate.py's with --defects: every page has the search box without a
label in its header; about half a photo without alt text, a third faint text lower down.
Writes its section of docs/performance.md with --out.

    python benchmarks/pictures_bench.py --pages 150 --browsers 2 --out docs/performance.md
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.demo import serve_site  # noqa: E402
from benchmarks.scan_bench import scan, write_section  # noqa: E402
from tests.sites.generate import generate_site  # noqa: E402


@dataclass(frozen=True)
class PictureRun:
    pictures: bool
    pages: int
    seconds: float
    violations: int  # violation findings on an element
    pictured: int  # of them, those with a picture
    stored: int  # rows in the pictures table
    picture_bytes: int  # their bytes


def picture_run(base: str, db: Path, browsers: int, pictures: bool) -> PictureRun:
    extra = () if pictures else ("--no-screenshots",)
    run = scan(
        "pictures" if pictures else "no pictures", base, db, "--browsers", str(browsers), *extra
    )
    with sqlite3.connect(db) as conn:
        violations, pictured = conn.execute(
            "SELECT count(*), count(picture) FROM findings WHERE kind = 'accessibility' "
            "AND outcome = 'violation' AND selector IS NOT NULL"
        ).fetchone()
        stored, size = conn.execute(
            "SELECT count(*), coalesce(sum(bytes), 0) FROM pictures"
        ).fetchone()
    return PictureRun(pictures, run.pages, run.seconds, violations, pictured, stored, size)


def runs(pages: int, browsers: int) -> list[PictureRun]:
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        generate_site(site, pages, defects=True)
        done = []
        # Keep-alive (HTTP/1.1), as council sites serve; figures before issue 18 used HTTP/1.0.
        with serve_site(site, keep_alive=True) as base:
            for number, pictures in enumerate((False, True, True, False)):
                done.append(picture_run(base, Path(tmp) / f"{number}.db", browsers, pictures))
    return done


def report(done: list[PictureRun], pages: int, browsers: int) -> str:
    without = [r for r in done if not r.pictures]
    with_ = [r for r in done if r.pictures]
    seconds_without = sum(r.seconds for r in without) / len(without)
    seconds_with = sum(r.seconds for r in with_) / len(with_)
    ratio = seconds_with / seconds_without
    last = with_[-1]
    per_thousand = last.picture_bytes / last.pages * 1000 / 1_000_000
    rows = "\n".join(
        f"| {'with' if r.pictures else 'without'} | {r.pages} | {r.seconds:.1f} | "
        f"{r.pages * 60 / r.seconds:.0f} | {r.pictured} of {r.violations} | {r.stored} | "
        f"{r.picture_bytes / 1000:.0f} |"
        for r in done
    )
    status = "met" if ratio <= 1.15 else "not met"
    return f"""## Pictures of elements: {pages} generated pages, {browsers} browsers

Measured {time.strftime("%Y-%m-%d")} on {platform.machine()}, {os.cpu_count()} cores, Python
{platform.python_version()}, on a shared machine. Runs in the order shown (without, with,
with, without), each into a new database so every page is audited.
Generated pages (tests/sites/generate.py --defects): the header's search box has no label on
every page; about half have a 320 by 180 photo without alt text, a third faint text at the
end of the main content, 30% a 1-pixel image without alt text (noted, not pictured).

| pictures | pages | seconds | pages/min | violations pictured | pictures stored | KB stored |
|---|---|---|---|---|---|---|
{rows}

- scan time with pictures / without: **{ratio:.2f}** (target at most 1.15: {status})
- pictures stored per 1,000 pages: **{per_thousand:.1f} MB**
  ({last.stored / last.pages * 1000:,.0f} pictures; identical pictures, such as the same
  header on every page, are stored once)

Reproduce: `nox -s bench_pictures`, or
`python benchmarks/pictures_bench.py --pages {pages} --browsers {browsers}`."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=150)
    parser.add_argument("--browsers", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    text = report(runs(args.pages, args.browsers), args.pages, args.browsers)
    print(text)
    if args.out:
        write_section(args.out, "pictures", text, tool="pictures_bench.py")


if __name__ == "__main__":
    main()
