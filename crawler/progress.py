"""Scan progress: shared counters, a live display on a terminal, plain log lines otherwise."""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field

from rich.console import Console
from rich.live import Live
from rich.table import Table


@dataclass
class Counters:
    """Counts updated by the crawl and the browsers; read by the progress display."""

    found: int = 0
    fetched: int = 0
    fetch_failed: int = 0
    http_errors: int = 0
    disallowed: int = 0
    pages: int = 0
    audited: int = 0
    audit_failed: int = 0
    reused: int = 0
    in_browser: int = 0
    skipped_over_limit: int = 0
    skipped_traps: int = 0
    # External links checked, and those left unchecked by links.max_external (a scan) and
    # links.max_external_per_host (on how many hosts).
    external_checked: int = 0
    external_over_scan_cap: int = 0
    external_over_host_cap: int = 0
    external_capped_hosts: int = 0
    started: float = field(default_factory=time.monotonic)

    def rate_per_minute(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.pages * 60 / elapsed if elapsed > 0 else 0.0

    def eta_seconds(self) -> float | None:
        """Time left at the current rate, for the pages found and not yet done."""
        rate = self.rate_per_minute() / 60
        done = self.fetched + self.fetch_failed + self.disallowed - self.in_browser
        left = self.found - done
        return left / rate if rate > 0 and left > 0 else None

    def line(self) -> str:
        eta = self.eta_seconds()
        left = f", about {format_duration(eta)} left" if eta else ""
        return (
            f"found {self.found}, fetched {self.fetched}, pages {self.pages}, "
            f"audited {self.audited}, failed {self.audit_failed + self.fetch_failed}, "
            f"{self.rate_per_minute():.0f} pages/min{left}"
        )


def format_duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class Progress:
    """Reports counters every few seconds until stopped: live on a terminal, else as lines."""

    def __init__(
        self, counters: Counters, interval: float | None = None, live: bool | None = None
    ) -> None:
        self.counters = counters
        self.live = sys.stderr.isatty() if live is None else live
        self.interval = interval or (0.5 if self.live else 10.0)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="progress", daemon=True)

    def __enter__(self) -> Progress:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join()

    def _run(self) -> None:
        if not self.live:
            while not self.stopped.wait(self.interval):
                print(f"siteaudit: {self.counters.line()}", file=sys.stderr, flush=True)
            return
        with Live(
            self._table(), console=Console(stderr=True), transient=True, refresh_per_second=4
        ) as live:
            while not self.stopped.wait(self.interval):
                live.update(self._table())

    def _table(self) -> Table:
        c = self.counters
        table = Table.grid(padding=(0, 2))
        table.add_row("Found", str(c.found), "Fetched", str(c.fetched))
        table.add_row("Pages", str(c.pages), "Audited in browser", str(c.audited))
        table.add_row(
            "Failed",
            str(c.audit_failed + c.fetch_failed),
            "Rate",
            f"{c.rate_per_minute():.0f} pages/min",
        )
        eta = c.eta_seconds()
        table.add_row(
            "In browser", str(c.in_browser), "Time left", format_duration(eta) if eta else "-"
        )
        return table
