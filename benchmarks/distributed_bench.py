"""Benchmark a scan shared by workers through Redis against a one-machine scan (issue 18).

In one run, on a generated council site: a one-machine `--no-browser` scan, then the same
scan shared through a redis-server of the benchmark's own (127.0.0.1, a free port, stopped
after) by one worker, then by two; then an unchanged rescan of each kind (one machine, one
worker), into the first scans' databases. Reports pages/s and CPU per page of each, the shared
frontier's cost per page (distributed with one worker minus one machine), Redis's own CPU
per page (INFO cpu) and the bytes per page each of the scan's keys held at its largest
(MEMORY USAGE, sampled while the scan runs: the seeder deletes them at the end). Writes its
section of docs/performance.md with --out.

    python benchmarks/distributed_bench.py --pages 500 --out docs/performance.md
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from app.demo import serve_site  # noqa: E402
from benchmarks.scan_bench import write_section  # noqa: E402
from crawler.distributed import OPEN_SCANS, ScanKeys  # noqa: E402
from crawler.distributed_unchanged import RESCAN_KEYS  # noqa: E402
from tests.redis_server import redis_server  # noqa: E402
from tests.sites.generate import generate_site  # noqa: E402

# The scan's keys whose size grows with its pages (docs/scaling.md lists them all).
GROWING_KEYS = ("requests", "dupefilter", "seen", "rows", "lastmod", "leased", "stats")
# How often the key sizes are sampled while a distributed scan runs (s).
SAMPLE_EVERY = 0.5
# The longest one scan may take before the benchmark gives up (s).
SCAN_TIMEOUT = 240


@dataclass
class Run:
    name: str
    pages: int
    seconds: float
    cpu: float  # user + system seconds of every process of the run (seeder, workers, readers)
    redis_cpu: float = 0.0  # Redis server's user + system seconds during the run
    key_bytes: dict[str, int] = field(default_factory=dict)  # largest size seen, by key
    peak_memory: int = 0  # Redis used_memory at its largest during the run, less before
    not_modified: int = 0  # pages answered 304 Not Modified: not downloaded

    @property
    def per_second(self) -> float:
        return self.pages / self.seconds

    @property
    def ms_per_page(self) -> float:
        return self.seconds * 1000 / self.pages

    @property
    def cpu_ms_per_page(self) -> float:
        return self.cpu * 1000 / self.pages


def children_cpu() -> float:
    """User + system seconds of every waited-for descendant so far (a worker waits for
    its crawl processes, so theirs count too)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def page_counts(db: Path) -> tuple[int, int]:
    """The latest scan's pages, and how many of them were answered 304 Not Modified."""
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT count(*), count(not_modified) FROM pages "
            "WHERE scan_id = (SELECT max(id) FROM scans)"
        ).fetchone()


def scan_command(base: str, db: Path, *args: str) -> list[str]:
    command = [sys.executable, "-m", "app.cli", "scan", f"{base}/", "--db", str(db)]
    return [*command, "--no-browser", *args]


def one_machine(base: str, db: Path, name: str = "one machine") -> Run:
    cpu, started = children_cpu(), time.monotonic()
    done = subprocess.run(
        scan_command(base, db), cwd=ROOT, capture_output=True, text=True, timeout=SCAN_TIMEOUT
    )
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"one-machine scan failed:\n{done.stderr}")
    pages, not_modified = page_counts(db)
    return Run(name, pages, seconds, children_cpu() - cpu, not_modified=not_modified)


class KeySampler(threading.Thread):
    """The largest size each of the open scan's keys reaches, and Redis's peak memory."""

    def __init__(self, client: redis.Redis) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.largest: dict[str, int] = {}
        self.base_memory = int(client.info("memory")["used_memory"])
        self.peak_memory = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(SAMPLE_EVERY):
            self.sample()

    def sample(self) -> None:
        token = self.client.srandmember(OPEN_SCANS)
        memory = int(self.client.info("memory")["used_memory"]) - self.base_memory
        self.peak_memory = max(self.peak_memory, memory)
        if token is None:
            return
        keys = ScanKeys(token.decode())
        for name in GROWING_KEYS + RESCAN_KEYS:
            size = self.client.memory_usage(keys.key(name), samples=0) or 0
            self.largest[name] = max(self.largest.get(name, 0), int(size))

    def stop(self) -> None:
        self.stopping.set()
        self.join()


def redis_cpu(client: redis.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def distributed(
    base: str, db: Path, redis_url: str, workers: int, logs: Path, name: str = ""
) -> Run:
    """The seeder and `workers` workers; timed from the workers' start to the seeder's end."""
    client = redis.Redis.from_url(redis_url)
    sampler = KeySampler(client)
    cpu, server_cpu, started = children_cpu(), redis_cpu(client), time.monotonic()
    sampler.start()
    command = [sys.executable, "-m", "app.cli", "worker", "--redis", redis_url, "--until-idle"]
    name = name or f"distributed, {workers} worker{'s' if workers > 1 else ''}"
    outs = [(logs / f"{name}-{i}.log").open("wb") for i in range(workers)]
    running = [
        subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT) for out in outs
    ]
    try:
        done = subprocess.run(
            scan_command(base, db, "--redis", redis_url),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=SCAN_TIMEOUT,
        )
        seconds = time.monotonic() - started
        for worker in running:
            worker.wait(timeout=60)
    finally:
        for worker in running:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        for out in outs:
            out.close()
        sampler.stop()
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stderr}")
    pages, not_modified = page_counts(db)
    run = Run(name, pages, seconds, children_cpu() - cpu, redis_cpu(client) - server_cpu)
    run.not_modified = not_modified
    run.key_bytes, run.peak_memory = sampler.largest, sampler.peak_memory
    client.close()
    return run


def report(runs: list[Run], pages: int, redis_version: str) -> str:
    one, single, double, one_rescan, rescan = runs
    rows = "\n".join(
        f"| {r.name} | {r.pages} | {r.not_modified} | {r.seconds:.1f} | {r.per_second:.1f} "
        f"| {r.ms_per_page:.1f} "
        f"| {r.cpu_ms_per_page:.1f} | {r.redis_cpu * 1000 / r.pages:.2f} |"
        for r in runs
    )
    keys = "\n".join(
        f"| `…:{name}` | "
        + " | ".join(f"{r.key_bytes.get(name, 0) / r.pages:,.0f}" for r in (single, double, rescan))
        + " |"
        for name in GROWING_KEYS + RESCAN_KEYS
    )
    frontier = sum(single.key_bytes.get(n, 0) for n in ("requests", "dupefilter", "seen"))
    frontier /= single.pages
    wall_cost = single.ms_per_page - one.ms_per_page
    cpu_cost = single.cpu_ms_per_page - one.cpu_ms_per_page
    redis_ms = single.redis_cpu * 1000 / single.pages
    peak = [run.peak_memory / run.pages for run in (single, double)]
    return f"""## A scan shared by workers through Redis: {pages} generated pages, `--no-browser`

Measured {time.strftime("%Y-%m-%d")} in one run on {platform.machine()}, {os.cpu_count()} cores,
Python {platform.python_version()}, Redis {redis_version}, on a shared machine: compare
the ratios within this run. The seeder, the workers, Redis and the fixture server share the
same cores. CPU is user + system seconds of every process the run started (the seeder, the
workers and their crawl processes, the page readers), which other work on the machine sways
less than the wall clock; Redis's is its own (INFO cpu). 304: pages not downloaded, the server
having said they were unchanged.

| run | pages | 304 | seconds | pages/s | ms/page | CPU ms/page | Redis CPU ms/page |
|---|---|---|---|---|---|---|---|
{rows}

- the shared frontier's cost (one worker minus one machine): **{wall_cost:.1f} ms/page** of
  wall time, **{cpu_cost:.1f} ms/page** of CPU, of which Redis **{redis_ms:.2f} ms/page**
- one worker / one machine, time: **{single.seconds / one.seconds:.2f}x**; two workers / one
  worker: **{double.seconds / single.seconds:.2f}x** (2 cores for everything)
- unchanged rescan, first scan time / rescan time: one machine
  **{one.seconds / one_rescan.seconds:.1f}x**, one worker **{single.seconds / rescan.seconds:.1f}x**
  ({rescan.not_modified} of {rescan.pages} pages answered 304 Not Modified in the shared rescan)

Bytes each of the scan's keys held at its largest, per page (MEMORY USAGE, sampled every
{SAMPLE_EVERY:g} s; the results stream is trimmed as the writer commits):

| key | bytes/page, 1 worker | bytes/page, 2 workers | bytes/page, rescan (1 worker) |
|---|---|---|---|
{keys}

- frontier and de-duplication (`requests`, `dupefilter`, `seen`): **{frontier:,.0f} bytes/page**
- Redis's used memory at its largest, less before the scan: **{peak[0]:,.0f} bytes/page**
  (1 worker), **{peak[1]:,.0f}** (2 workers)

Reproduce: `nox -s bench_distributed`, or
`python benchmarks/distributed_bench.py --pages {pages}`.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        generate_site(site, args.pages)
        # Keep-alive (HTTP/1.1), as council sites serve; figures before issue 18 used HTTP/1.0.
        with serve_site(site, keep_alive=True) as base, redis_server() as redis_url:
            client = redis.Redis.from_url(redis_url)
            redis_version = str(client.info("server")["redis_version"])
            client.close()
            one, logs = Path(tmp) / "one.db", Path(tmp)
            runs = [one_machine(base, one)]
            for workers in (1, 2):
                db = Path(tmp) / f"workers{workers}.db"
                runs.append(distributed(base, db, redis_url, workers, logs))
            runs.append(one_machine(base, one, "one machine: rescan, site unchanged"))
            rescan = "distributed, 1 worker: rescan, site unchanged"
            runs.append(distributed(base, Path(tmp) / "workers1.db", redis_url, 1, logs, rescan))
    text = report(runs, args.pages, redis_version)
    print(text)
    if args.out:
        write_section(args.out, "distributed", text, tool="distributed_bench.py")


if __name__ == "__main__":
    main()
