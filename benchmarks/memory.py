"""Sample the memory of a whole process tree (Python, ChromeDriver, Chromium) from /proc."""

from __future__ import annotations

import threading
from pathlib import Path


def children_of(pid: int) -> list[int]:
    """Every descendant of pid, read from /proc/*/stat."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def pss_kib(pid: int) -> int:
    """Proportional set size: shared pages split between the processes sharing them,
    so summing over a tree of Chromium processes does not count shared libraries N times."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_pss_mib(pid: int) -> float:
    return sum(pss_kib(p) for p in [pid, *children_of(pid)]) / 1024


def browser_processes(pid: int) -> int:
    """How many Chromium processes run under pid: none once the scan has closed its browsers."""
    count = 0
    for child in children_of(pid):
        try:
            name = Path(f"/proc/{child}/comm").read_text().strip()
        except OSError:
            continue
        count += name.startswith(("chrome", "chromium"))
    return count


class MemorySampler(threading.Thread):
    """Samples a process tree's PSS every interval; keeps the peak and the samples."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_mib = 0.0
        self.samples: list[float] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            mib = tree_pss_mib(self.pid)
            self.samples.append(mib)
            self.peak_mib = max(self.peak_mib, mib)

    def stop(self) -> float:
        self.stopped.set()
        self.join()
        return self.peak_mib
