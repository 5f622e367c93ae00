"""Whole `--no-browser` scans of the generated site by two checkouts, in A B B A order.

For each scan: wall seconds, pages a second, and the CPU seconds of siteaudit's own process
(Scrapy, the spider, the writer, start-up and the checks after the crawl) and of its page
readers; and whether it stored the same rows as the first scan (benchmarks/compare_scans.py).

    python benchmarks/hot_path_bench.py --before ../before --after . --pages 500 --rounds 3

--before and --after are checkouts (a `git worktree` of the commit before, say); each scan
runs its checkout's code, into a new database, against a server in this process (on one
port, so every scan's URLs are the same). The server speaks HTTP/1.1 and keeps connections
open, as council sites' servers do; `--http10` serves a connection per request instead (the
figures in docs/performance.md before issue 18's keep-alive section were measured that way),
and `--keep-alive-after` serves checkout A that way and checkout B with keep-alive:

    python benchmarks/hot_path_bench.py --before . --keep-alive-after   # the server alone
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.demo import serve_site  # noqa: E402
from benchmarks.compare_scans import differences  # noqa: E402
from tests.sites.generate import generate_site  # noqa: E402

FIXED_MTIME = 1_767_225_600  # 2026-01-01 00:00 UTC

# Runs `siteaudit scan` in the checkout's own process, then reports that process's CPU and
# its children's (the page readers, reaped by then) as JSON.
RUNNER = """
import json, resource, runpy, sys, time
sys.path.insert(0, sys.argv[1])
out, started = sys.argv[2], time.monotonic()
sys.argv = ["siteaudit", "scan", *sys.argv[3:]]
try:
    runpy.run_module("app.cli", run_name="__main__", alter_sys=True)
except SystemExit as end:
    if end.code:
        raise
finally:
    me, readers = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    with open(out, "w") as f:
        json.dump({"wall": time.monotonic() - started, "main": me.ru_utime + me.ru_stime,
                   "readers": readers.ru_utime + readers.ru_stime}, f)
"""


def scan(checkout: Path, base: str, db: Path) -> dict[str, float]:
    """One scan by the checkout's code; its wall seconds and CPU seconds."""
    measured = db.with_suffix(".json")
    command = [sys.executable, "-c", RUNNER, str(checkout), str(measured), f"{base}/",
               "--no-browser", "--db", str(db)]  # fmt: skip
    done = subprocess.run(command, cwd=checkout, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the scan by {checkout} failed:\n{done.stderr}")
    return json.loads(measured.read_text())


def free_port() -> int:
    """A port free on 127.0.0.1 now: each scan's server listens on it in turn."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="checkout A")
    parser.add_argument("--after", type=Path, default=ROOT, help="checkout B (this one)")
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3, help="A B B A, this many times")
    parser.add_argument("--http10", action="store_true", help="a connection per request")
    parser.add_argument(
        "--keep-alive-after", action="store_true", help="A: --http10; B: keep-alive"
    )
    args = parser.parse_args()
    checkouts = {"before": args.before.resolve(), "after": args.after.resolve()}
    runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        generate_site(site, args.pages)
        for path in site.rglob("*"):
            # Last-Modified a fixed day, not minutes before the scan: a date that recent and
            # shared by every page is judged the server's time, and later scans judged
            # otherwise would store other dates than the first.
            os.utime(path, (FIXED_MTIME, FIXED_MTIME))
        first: Path | None = None
        port = free_port()
        for n, side in enumerate(["before", "after", "after", "before"] * args.rounds):
            keep_alive = side == "after" if args.keep_alive_after else not args.http10
            db = Path(tmp) / f"{n}-{side}.db"
            with serve_site(site, port=port, keep_alive=keep_alive) as base:
                run = scan(checkouts[side], base, db)
            first = first or db
            differ = differences(first, db)
            same = "same rows" if not differ else f"DIFFERENT rows: {differ[0]}"
            rate = args.pages / run["wall"]
            print(f"{side:6}  {run['wall']:6.2f} s  {rate:5.1f} pages/s  main "
                  f"{run['main']:5.2f} s  readers {run['readers']:5.2f} s  {same}")  # fmt: skip
            runs[side].append(run)
    for key in ("wall", "main", "readers"):
        before, after = (statistics.mean(r[key] for r in runs[s]) for s in ("before", "after"))
        ratio, pages = after / before, args.pages
        print(f"{key:8} before {before:6.2f}  after {after:6.2f}  after/before {ratio:.3f}  "
              f"ms a page {before * 1000 / pages:.1f} -> {after * 1000 / pages:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
