"""Read pages in a small pool of worker processes, each page within a time budget.

Reading a page (parse, text, readability, dates, links) is CPU work. Done in the spider
callback it would run on the reactor thread, where one slow page stops every request and
the scan's time limit. Here it runs in worker processes (pebble's ProcessPool): a page that
takes longer than its budget has its worker killed and replaced, and is recorded as
`page-too-complex`; the crawl never waits for it. A thread could not be stopped that way.

Workers are forks of siteaudit, started before the crawl (nothing to import or load again,
so reading costs no start-up time), and die with it, even after a kill -9: each asks the
kernel to kill it when its parent goes (PR_SET_PDEATHSIG), and also watches siteaudit's
process. Pages and their facts travel by pipe; the table of readability figures measured
before (known_readability) stays in siteaudit, and only a page's own entry is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import hashlib
import multiprocessing
import os
import select
import signal
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, TimeoutError
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pebble import ProcessExpired, ProcessPool

from audits.page import PageFacts, parse_page, settle_structure
from audits.readability import Readability

TOO_COMPLEX = "page-too-complex"
# Workers beyond two buy nothing on the 2-core machines siteaudit is sized for: the crawler
# and the writer need a core too.
MAX_WORKERS = 2
_PR_SET_PDEATHSIG = 1
STOP_CHECK = 0.25  # seconds between looks at whether the scan is stopping
# Open file descriptors, each with the file (device, inode) it is open on.
OpenFiles = dict[int, tuple[int, int]]


@dataclass(frozen=True)
class Reading:
    """A page's facts; reason and error say why they are empty when it could not be read."""

    facts: PageFacts
    reason: str | None = None
    error: str | None = None


class PageReader:
    """A pool of page-reading processes; read() is awaited on the crawler's event loop."""

    def __init__(
        self,
        budget: float,
        workers: int = 0,
        max_elements: int | None = None,
        spelling: bool = True,
    ) -> None:
        self.budget = budget
        self.max_elements = max_elements
        self.spelling = spelling  # read each page's words outside the dictionary
        self.workers = workers or max(1, min(MAX_WORKERS, os.cpu_count() or 1))
        self.pool: ProcessPool | None = None
        self.pending: set[Future[PageFacts]] = set()
        self.stopped = False
        self.watcher: asyncio.Future[None] | None = None

    def start(self) -> None:
        """Start the workers: forks of this process, which has everything they need loaded.

        Call it from the thread that lives as long as the scan (the main thread): a worker
        is killed when the thread that started it ends.
        """
        _warm()  # here, once: every worker, and every replacement, starts with it loaded
        # A fork inherits every open file: the browsers' pipes among them, whose closing is
        # what ends each browser's reaper. Workers close all but the pool's own; those are
        # known once the pool has started, by when the first workers are forked, so they
        # close what was open before it instead. A dict, so later forks see the update.
        files: dict[str, OpenFiles | None] = {"before": _open_files(), "pool": None}
        self.pool = ProcessPool(
            max_workers=self.workers,
            initializer=_worker_start,
            initargs=(os.getpid(), files),
            context=multiprocessing.get_context("fork"),
        )
        self.pool.schedule(os.getpid)  # starts the workers now, not at the first page
        files["pool"] = _opened_since(files["before"] or {})

    async def read(
        self,
        html: str,
        *,
        last_modified_header: str | None,
        sitemap_lastmod: str | None,
        fetched_at: datetime,
        known_readability: dict[str, Readability],
        url: str | None = None,
        checks: tuple[str, ...] = (),
    ) -> Reading | None:
        """The page's facts, or a too-complex Reading; None if the scan stopped meanwhile.
        Given the page's URL, its structure is judged and written for the store where it is
        read (audits.page.settle_structure)."""
        if self.stopped:
            return None
        # Hashed here only on a rescan; the worker hashes every page anyway.
        known = known_readability.get(_content_hash(html)) if known_readability else None
        kwargs = {
            "last_modified_header": last_modified_header,
            "sitemap_lastmod": sitemap_lastmod,
            "fetched_at": fetched_at,
            # Only this page's figures travel to the worker, never the whole table.
            "known_readability": {_content_hash(html): known} if known else None,
            "max_elements": self.max_elements,
            "spelling": self.spelling,
        }
        settle = {"url": url, "checks": checks} if url is not None else {}
        if self.pool is None:  # not started: read here (tests of the spider alone)
            return Reading(read_and_settle(html, **settle, **kwargs))
        future = self.pool.schedule(
            read_and_trim, args=(html,), kwargs={**settle, **kwargs}, timeout=self.budget
        )
        self.pending.add(future)
        try:
            return Reading(await asyncio.wrap_future(future))
        except TimeoutError:
            error = f"reading the page took longer than {self.budget:g} seconds; not audited"
            return Reading(_unread_facts(_content_hash(html)), TOO_COMPLEX, error)
        except ProcessExpired as err:  # killed from outside, or out of memory
            error = f"the page reader stopped while reading the page ({err}); not audited"
            return Reading(_unread_facts(_content_hash(html)), TOO_COMPLEX, error)
        except (CancelledError, asyncio.CancelledError):
            return None  # interrupted: the scan is stopping
        finally:
            self.pending.discard(future)

    def stop_when(self, stopping: Callable[[], bool]) -> None:
        """Interrupt as soon as stopping() is true, checked on the running event loop."""
        self.watcher = asyncio.ensure_future(self._watch(stopping))

    async def _watch(self, stopping: Callable[[], bool]) -> None:
        while not self.stopped:
            if stopping():
                self.interrupt()
                return
            await asyncio.sleep(STOP_CHECK)

    def interrupt(self) -> None:
        """The scan is stopping: pages still being read are dropped, their workers stopped."""
        self.stopped = True
        for future in list(self.pending):
            future.cancel()  # pebble stops the worker of a running task

    def close(self) -> None:
        """Stop every worker; safe to call more than once."""
        self.interrupt()
        if self.watcher is not None:
            with contextlib.suppress(RuntimeError):  # its event loop may be closed already
                self.watcher.cancel()
        if self.pool is not None:
            self.pool.stop()
            self.pool.join(timeout=10)
            self.pool = None


def _content_hash(html: str) -> str:
    # The same hash parse_page stores, so known readability is found by it.
    return hashlib.sha256(html.encode("utf-8", "replace")).hexdigest()


def read_and_settle(
    html: str, url: str | None = None, checks: tuple[str, ...] = (), **kwargs: Any
) -> PageFacts:
    """parse_page, then (given the URL) the structure judged and written for the store."""
    facts = parse_page(html, **kwargs)
    return facts if url is None else settle_structure(facts, url, checks)


def read_and_trim(html: str, **kwargs: Any) -> PageFacts:
    """read_and_settle in a worker, then give the freed memory back to the system: without
    it a worker keeps its largest page's memory for the rest of the scan."""
    try:
        return read_and_settle(html, **kwargs)
    finally:
        _LIBC_TRIM()


def _malloc_trim() -> Callable[[], object]:
    """glibc's malloc_trim(0), or nothing where the C library has none."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return lambda: None
    return lambda: trim(0)


_LIBC_TRIM = _malloc_trim()


def _unread_facts(content_hash: str) -> PageFacts:
    return PageFacts(
        title=None,
        lang=None,
        meta={},
        links=[],
        readability=Readability(
            measured=False, reason="page too complex to read", word_count=0, sentence_count=0
        ),
        content_hash=content_hash,
    )


def _worker_start(siteaudit_pid: int, files: dict[str, OpenFiles | None]) -> None:
    """Run in each worker before its first page: tie its life to siteaudit's."""
    # Everything inherited from siteaudit stays as it is: left to the garbage collector, each
    # full collection would walk (and so copy) siteaudit's whole heap, costing more than
    # reading the page.
    gc.freeze()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is siteaudit's to handle
    signal.set_wakeup_fd(-1)  # inherited from the crawler's event loop: not ours to wake
    _close_inherited(files)
    _die_with_parent(siteaudit_pid)
    threading.Thread(target=_exit_when_gone, args=(siteaudit_pid,), daemon=True).start()


def _warm() -> None:
    """Load what reading a page loads on first use: the syllable table, htmldate and the
    dateparser its extensive search uses."""
    from audits.date_guess import warm as warm_date_guesses
    from audits.readability import _hyphenator, _syllable_table, ensure_syllable_data
    from audits.spelling import available

    ensure_syllable_data()
    available()  # loads the dictionaries, if there are
    _syllable_table()
    _hyphenator()
    warm_date_guesses()


def _open_files() -> OpenFiles:
    """This process's open file descriptors, each with the file it is open on (none known
    where /proc is not there)."""
    try:
        listed = [int(fd) for fd in os.listdir("/proc/self/fd")]
    except OSError:
        return {}
    # The listing holds the descriptor that read it, closed since (and soon reused).
    return {fd: file for fd in listed if (file := _file_of(fd)) is not None}


def _file_of(fd: int) -> tuple[int, int] | None:
    """The device and inode the descriptor is open on; None if it is not open."""
    try:
        status = os.fstat(fd)
    except OSError:
        return None
    return status.st_dev, status.st_ino


def _opened_since(before: OpenFiles) -> OpenFiles:
    """The descriptors open now that were not open on the same file before: a number
    another thread closed meanwhile may have been reused by the pool's own pipes."""
    return {fd: file for fd, file in _open_files().items() if before.get(fd) != file}


def _close_inherited(files: dict[str, OpenFiles | None]) -> None:
    """Close the files inherited from siteaudit, except standard streams and the pool's.
    Each descriptor is judged by the file it is open on, not its number alone: the pool's
    pipes may have been given the number of a file siteaudit closed just before."""
    before, pool = files["before"] or {}, files["pool"]
    for fd, file in _open_files().items():
        inherited = pool.get(fd) != file if pool is not None else before.get(fd) == file
        if fd > 2 and inherited:
            with contextlib.suppress(OSError):
                os.close(fd)


def _die_with_parent(siteaudit_pid: int) -> None:
    """Ask Linux to kill this process when siteaudit, its parent, exits."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != siteaudit_pid:
        os._exit(1)  # siteaudit ended before the request was made


def _exit_when_gone(pid: int) -> None:
    """Exit as soon as siteaudit's process has ended, however it ended."""
    try:
        fd = os.pidfd_open(pid)
    except (OSError, AttributeError):
        with contextlib.suppress(ProcessLookupError):
            while True:  # no pidfd (old kernel): look once a second
                os.kill(pid, 0)
                threading.Event().wait(1.0)
        os._exit(1)
    select.select([fd], [], [])
    os._exit(1)
