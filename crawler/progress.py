"""Scan progress from the siteaudit/ stats: live on a terminal, plain log lines otherwise."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table
from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.stats import Counters


def progress_line(c: Counters) -> str:
    eta = c.eta_seconds()
    left = f", about {format_duration(eta)} left" if eta else ""
    return (
        f"found {c.found}, fetched {c.fetched}, pages {c.pages}, "
        f"audited {c.audited}, failed {c.audit_failed + c.fetch_failed}, "
        f"{c.rate_per_minute():.0f} pages/min{left}"
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
        self,
        read: Callable[[], Counters],
        interval: float | None = None,
        live: bool | None = None,
    ) -> None:
        self.read = read
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
                print(f"siteaudit: {progress_line(self.read())}", file=sys.stderr, flush=True)
            return
        with Live(
            self._table(), console=Console(stderr=True), transient=True, refresh_per_second=4
        ) as live:
            while not self.stopped.wait(self.interval):
                live.update(self._table())

    def _table(self) -> Table:
        c = self.read()
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


class ProgressDisplay:
    """The scan's progress while it crawls (SITEAUDIT_PROGRESS; SITEAUDIT_PROGRESS_LIVE
    chooses the live table or lines, and by default the table on a terminal only)."""

    def __init__(self, crawler: Any, live: bool | None) -> None:
        self.progress = Progress(lambda: Counters.from_stats(crawler.stats.get_stats()), live=live)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> ProgressDisplay:
        if not crawler.settings.getbool("SITEAUDIT_PROGRESS"):
            raise NotConfigured
        return cls(crawler, crawler.settings.get("SITEAUDIT_PROGRESS_LIVE"))

    def spider_opened(self) -> None:
        self.progress.__enter__()

    def spider_closed(self) -> None:
        self.progress.__exit__()
