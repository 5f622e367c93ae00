"""Where a browser audit's time and CPU go, check by check, in one browser session.

Audits the generated site's pages (tests/sites/generate.py with --defects, as
benchmarks/checks_bench.py scans) one after another in one BrowserSession, and prints for
each chosen set of checks: wall time a page, the CPU a page of Chromium's processes (the
session's process group, children included) and of this process, and the wall time a page
of axe-core, the pictures and each own check. Sets are run in turn, `--rounds` times, so
that a shared machine's changes of speed weigh on each alike; CPU is steadier than wall
time there, but not immune. `--root` runs another checkout's code (a worktree of the
commit before, say), so two can be compared in one run:

    python benchmarks/checks_profile.py --pages 30 --rounds 2
    python benchmarks/checks_profile.py --root ../before --checks all
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
WARM_UP_PAGES = 3  # audited first and not counted: the browser's start and first compiles


def group_cpu_seconds(pgid: int) -> float:
    """User and system CPU of every process in the group, their waited-for children too."""
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            total += sum(int(f) for f in fields[11:15])
    return total / CLOCK_TICKS


class PhaseTimes:
    """Wall seconds spent in named phases, by wrapping the functions that run them."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = collections.defaultdict(float)

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start

        return timed

    def wrap_checks(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """run_one_check(name, ...), each check under its own name."""

        def timed(name: str, *args: Any) -> Any:
            return self.wrap("check " + name, function)(name, *args)

        return timed


def instrument(times: PhaseTimes) -> None:
    """Time axe-core, the pictures and each check in the imported code (not the repo's)."""
    import browser.browser as session_module
    import browser.own_checks as own_checks

    session_module.run_one_check = times.wrap_checks(session_module.run_one_check)
    own_checks.run_one_check = times.wrap_checks(own_checks.run_one_check)
    session_module.view_page = times.wrap("pictures", session_module.view_page)
    cls = session_module.BrowserSession
    cls._run_axe = times.wrap("axe", cls._run_axe)


def page_jobs(base: str, paths: list[str]) -> list[Any]:
    from browser.devtools import PageJob

    jobs = []
    for path in paths:
        with urllib.request.urlopen(base + path) as reply:
            headers = list(reply.headers.items())
            jobs.append(PageJob(base + path, reply.status, headers, reply.read()))
    return jobs


def profile(jobs: list[Any], checks: tuple[str, ...], times: PhaseTimes) -> dict[str, float]:
    """Audit the jobs in one new session; per page figures in milliseconds."""
    from browser.browser import BrowserSession
    from browser.launch import BrowserOptions

    options = BrowserOptions(local_site=True, private_hosts=("127.0.0.1",), checks=checks)
    session = BrowserSession(options).start()
    try:
        for job in jobs[:WARM_UP_PAGES]:
            session.audit(job)
        times.seconds.clear()
        assert session.pgid is not None
        chromium = group_cpu_seconds(session.pgid)
        own, wall = time.process_time(), time.perf_counter()
        for job in jobs:
            session.audit(job)
        wall = time.perf_counter() - wall
        chromium = group_cpu_seconds(session.pgid) - chromium
        own = time.process_time() - own
    finally:
        session.close()
    per_page = {"wall": wall, "Chromium CPU": chromium, "siteaudit CPU": own, **times.seconds}
    return {name: seconds / len(jobs) * 1000 for name, seconds in per_page.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument(
        "--checks",
        action="append",
        help="a comma-separated set of checks, or 'all' (default: axe, then all); repeatable",
    )
    args = parser.parse_args()
    sys.path.insert(0, str(args.root.resolve()))
    from app.demo import serve_site
    from tests.sites.generate import generate_site
    from vocabulary.checks import AXE, CHECKS

    sets = [CHECKS if c == "all" else tuple(c.split(",")) for c in args.checks or [AXE, "all"]]
    times = PhaseTimes()
    instrument(times)
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        paths = generate_site(site, args.pages, defects=True)
        with serve_site(site, keep_alive=True) as base:
            jobs = page_jobs(base, paths[: args.pages])
            for round_number in range(1, args.rounds + 1):
                for checks in sets:
                    figures = profile(jobs, checks, times)
                    print(f"round {round_number}, checks {','.join(checks)} ({len(jobs)} pages):")
                    for name, ms in figures.items():
                        print(f"  {name:28s} {ms:8.1f} ms a page")


if __name__ == "__main__":
    main()
