"""Scan the hostile fixture site (tests/hostile/) and print the process tree's peak memory,
with what held it at the peak: `python benchmarks/hostile_memory.py [AREA]`."""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.memory import children_of, pss_kib  # noqa: E402
from tests.hostile import serve_hostile  # noqa: E402

CHROMIUM_KINDS = ("renderer", "gpu-process", "utility", "zygote")


def kind_of(pid: int) -> str:
    """A short name for a process of the scan: siteaudit, a worker, or a Chromium kind."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "gone"
    text = b" ".join(args).decode(errors="replace")
    for kind in CHROMIUM_KINDS:
        if f"--type={kind}" in text:
            return f"chromium {kind}"
    if "chromium" in text or "chromedriver" in text:
        return text.split()[0].rsplit("/", 1)[-1]
    return "document worker" if "document_sandbox" in text else "page reader"


def snapshot(pid: int) -> list[tuple[int, str]]:
    main = [(pss_kib(pid) // 1024, "siteaudit")]
    return main + [(pss_kib(p) // 1024, kind_of(p)) for p in children_of(pid)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("area", nargs="?", default="", help="one area only, e.g. reading")
    parser.add_argument("--browsers", default="2")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="siteaudit-hostile-"))
    db = folder / "scan.db"
    with serve_hostile() as site:
        command = [sys.executable, "-m", "app.cli", "scan", site.url(f"/{args.area}"),
                   "--db", str(db), "--max-minutes", "3", "--browsers", args.browsers]  # fmt: skip
        started = time.monotonic()
        process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.DEVNULL, env=os.environ)
        peak: list[tuple[int, str]] = []
        largest: dict[str, int] = {}  # each kind's largest single process over the scan
        while process.poll() is None:
            now = snapshot(process.pid)
            for mib, kind in now:
                largest[kind] = max(largest.get(kind, 0), mib)
            if sum(m for m, _ in now) > sum(m for m, _ in peak):
                peak = now
            time.sleep(0.2)
    print(f"peak {sum(m for m, _ in peak)} MiB in {time.monotonic() - started:.0f} s; at the peak:")
    for mib, kind in sorted(peak, reverse=True)[:12]:
        print(f"  {mib:5d} MiB  {kind}")
    print("largest single process of each kind over the scan:")
    for kind, mib in sorted(largest.items(), key=lambda pair: -pair[1]):
        print(f"  {mib:5d} MiB  {kind}")
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT reason, count(*) FROM pages GROUP BY reason").fetchall()
    print("pages:", ", ".join(f"{reason} {count}" for reason, count in rows))


if __name__ == "__main__":
    main()
