"""A pool of long-lived browser sessions, each driven from its own thread, with a watchdog."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from selenium.common.exceptions import WebDriverException

from browser.axe_session import AxeOutcome
from browser.browser import BrowserSession
from browser.devtools import PageJob, PageLoadError, PageRefused
from browser.element_pictures import PictureCache
from browser.focus_templates import FocusTemplates
from browser.launch import BrowserError, BrowserOptions

log = logging.getLogger(__name__)


@dataclass
class AuditResult:
    job: PageJob
    outcome: AxeOutcome | None
    error: str | None
    attempts: int
    elapsed_ms: int
    # Its last attempt found no browser session able to start: the browser failed, not the
    # page (a page that crashes its tab has a new session start for its second attempt).
    browser_down: bool = False


Callback = Callable[[AuditResult], None]


class SessionNotStarted(BrowserError):
    """No new browser session could be started for a page (the message says why)."""


class Worker:
    """One thread and the browser session it alone drives."""

    def __init__(self, pool: BrowserPool, number: int) -> None:
        self.pool = pool
        self.session: BrowserSession | None = None
        self.busy_since: float | None = None
        self.killed_by_watchdog = False
        self.thread = threading.Thread(target=self.run, name=f"browser-{number}", daemon=True)

    def run(self) -> None:
        while (item := self.pool.inbox.get()) is not None:
            job, callback = item
            started = time.monotonic()
            try:
                outcome, error, attempts, down = self.audit_with_retry(job)
            except Exception as err:  # a bug must cost one page, never the scan
                # Without an answer the crawl would wait for this page for ever.
                log.error("%s: audit failed unexpectedly", job.url, exc_info=True)
                self.stop_session()
                outcome, error, attempts = None, f"browser error: {type(err).__name__}", 1
                down = False
            elapsed_ms = int((time.monotonic() - started) * 1000)
            callback(AuditResult(job, outcome, error, attempts, elapsed_ms, down))
        self.stop_session()

    def audit_with_retry(self, job: PageJob) -> tuple[AxeOutcome | None, str | None, int, bool]:
        """Audit once; if the page hangs or crashes the browser, once more in a new session.
        The last item says whether the last attempt failed to start a session."""
        error, down = None, False
        for attempt in (1, 2):
            try:
                return self.audit_once(job), None, attempt, False
            except PageRefused as err:
                return None, str(err), attempt, False  # the page's own doing: again would not help
            except (PageLoadError, BrowserError, WebDriverException) as err:
                error, down = self.describe(err), isinstance(err, SessionNotStarted)
                log.info("%s: attempt %d failed: %s", job.url, attempt, error)
                self.stop_session()  # a fresh session for the retry and for later pages
        return None, error, 2, down

    def audit_once(self, job: PageJob) -> AxeOutcome:
        try:
            session = self.ensure_session()
        except (BrowserError, WebDriverException) as err:
            raise SessionNotStarted(self.describe(err)) from None
        self.killed_by_watchdog = False
        self.busy_since = time.monotonic()
        try:
            return session.audit(job)
        finally:
            self.busy_since = None

    def ensure_session(self) -> BrowserSession:
        if self.session and self.session.pages_audited >= self.pool.recycle_after:
            self.stop_session()  # recycle, so a long scan's memory stays flat
        if self.session is None or not self.session.healthy():
            self.stop_session()
            pool = self.pool
            session = BrowserSession(pool.options, pool.pictures, pool.focus_templates)
            self.session = session.start()
            self.pool.sessions_started += 1
        return self.session

    def stop_session(self) -> None:
        if self.session:
            self.session.close()
            self.session = None

    def describe(self, err: Exception) -> str:
        if self.killed_by_watchdog:
            return f"browser stopped responding and was killed after {self.pool.hard_limit:g}s"
        if isinstance(err, WebDriverException):
            first_line = (err.msg or str(err) or type(err).__name__).splitlines()[0]
            return f"browser error: {first_line[:300]}"
        return str(err)

    def watch(self, now: float) -> None:
        """Called by the watchdog: kill this worker's browser if one page took too long."""
        since, session = self.busy_since, self.session
        if since is not None and session and now - since > self.pool.hard_limit:
            log.warning("browser stuck for %.0fs; killing its process group", now - since)
            self.killed_by_watchdog = True
            session.kill()


class BrowserPool:
    """Run page audits on N browsers in parallel; results come back through callbacks."""

    def __init__(self, options: BrowserOptions, size: int, recycle_after: int = 200) -> None:
        self.options = options
        self.size = max(1, size)
        self.recycle_after = max(1, recycle_after)
        # Navigation, axe and the own checks (with the pictures) each have page_timeout;
        # past all three plus a margin, it is stuck.
        self.hard_limit = options.page_timeout * 3 + 15
        self.inbox: queue.Queue[tuple[PageJob, Callback] | None] = queue.Queue()
        self.workers = [Worker(self, n) for n in range(self.size)]
        self.sessions_started = 0
        # One scan's pictures of elements, reused for the same element on later pages.
        self.pictures = PictureCache()
        # One scan's Tab walks of its templates, reused for the pages that share them.
        self.focus_templates = FocusTemplates()
        # The ids of every rule this axe-core has: a result naming another is rejected.
        self.axe_rules: frozenset[str] = frozenset()
        self.stopping = threading.Event()
        self.watchdog = threading.Thread(target=self._watch, name="browser-watchdog", daemon=True)

    def start(self) -> tuple[str, list[str]]:
        """Start every browser now, so a missing browser fails the scan before it crawls.

        Returns the axe-core version and its rule ids, read on a blank page.
        """
        for worker in self.workers:
            worker.ensure_session()
        version = self.workers[0].session.axe_version()  # type: ignore[union-attr]
        self.axe_rules = frozenset(version[1])
        for worker in self.workers:
            worker.thread.start()
        self.watchdog.start()
        return version

    def submit(self, job: PageJob, callback: Callback) -> None:
        self.inbox.put((job, callback))

    def close(self) -> None:
        """Finish queued audits, then quit every browser. Safe to call more than once."""
        if self.stopping.is_set():
            return
        for _ in self.workers:
            self.inbox.put(None)
        for worker in self.workers:
            if worker.thread.is_alive():
                worker.thread.join()
            else:
                worker.stop_session()
        self.stopping.set()

    def kill(self) -> None:
        """Stop at once: kill every browser without waiting for queued pages."""
        self.stopping.set()
        for worker in self.workers:
            if worker.session:
                worker.session.kill()

    def _watch(self) -> None:
        while not self.stopping.wait(1.0):
            now = time.monotonic()
            for worker in self.workers:
                worker.watch(now)
