"""Shared fixtures: real sites served on 127.0.0.1 and the siteaudit command run for real."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from app.demo import DEMO_SITE, serve_site
from tests.redis_server import redis_server

TESTS = Path(__file__).resolve().parent
SITES = TESTS / "sites"
ROOT = TESTS.parent


def shared_corpus(name: str) -> Path:
    """../shared/corpora/NAME: under $SITEAUDIT_SHARED if set, else beside the checkout or
    beside any folder above it (a worktree); a path that does not exist when there is none,
    so a test skips."""
    places = [Path(os.environ["SITEAUDIT_SHARED"])] if os.environ.get("SITEAUDIT_SHARED") else []
    places += [folder / "shared" for folder in ROOT.parents]
    for shared in places:
        if (shared / "corpora" / name).is_dir():
            return shared / "corpora" / name
    return ROOT.parent / "shared" / "corpora" / name


# This test run's own temporary folder (see own_tmpdir): Chromium's profile folder, named in
# every browser and reaper command line, is made inside it.
RUN_TMPDIR: Path | None = None


@pytest.fixture(scope="session", autouse=True)
def own_tmpdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Give this run (each xdist worker too) a TMPDIR of its own, for the tests' own browsers
    and every siteaudit they start, so chromium_processes() can tell them from a scan or a
    test run beside this one. Session-wide, so that module fixtures' scans are inside it."""
    global RUN_TMPDIR
    tmp_path_factory.getbasetemp()  # pytest's own folders stay where they were
    path = Path(tempfile.mkdtemp(prefix="siteaudit-tests-"))
    # Like /tmp: Chromium and ChromeDriver, run as an unprivileged user when root, make their
    # own temporary files in TMPDIR too.
    path.chmod(0o1777)
    RUN_TMPDIR = path
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TMPDIR", str(path))
        patch.setattr(tempfile, "tempdir", str(path))
        yield path
    RUN_TMPDIR = None
    shutil.rmtree(path, ignore_errors=True)


@dataclass
class Site:
    base: str
    root: Path
    access_log: list[str] = field(default_factory=list)

    def url(self, path: str = "/") -> str:
        return self.base + path

    def requests_for(self, path: str) -> int:
        return sum(1 for line in self.access_log if line.split(" ", 1)[1] == path)


@pytest.fixture(scope="session")
def council_site() -> Iterator[Site]:
    """The bundled demo council website."""
    log: list[str] = []
    with serve_site(DEMO_SITE, access_log=log) as base:
        yield Site(base, DEMO_SITE, log)


@pytest.fixture(scope="session")
def browser_site() -> Iterator[Site]:
    """Pages for browser behaviour, with a frame served from a second, cross-origin port."""
    log: list[str] = []
    root = SITES / "browser"
    with serve_site(root) as other:
        cross_origin = other.replace("127.0.0.1", "localhost")
        with serve_site(root, access_log=log, replacements={"{{OTHER}}": cross_origin}) as base:
            yield Site(base, root, log)


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A real redis-server of the test module's own (tests/redis_server.py)."""
    with redis_server() as url:
        yield url


@pytest.fixture
def demo_site() -> Iterator[Site]:
    """The demo site, with its own access log: the requests of one test's scan alone."""
    log: list[str] = []
    with serve_site(DEMO_SITE, access_log=log) as base:
        yield Site(base, DEMO_SITE, log)


def run_siteaudit(
    *args: str, timeout: float = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real command in a subprocess (Scrapy's reactor runs once per process)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
    )


@dataclass
class Run:
    """What the siteaudit command did when run in this process."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def errors(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("Error:")]


def run_in_process(
    *args: str, stdin: bytes | None = None, env: dict[str, str | None] | None = None
) -> Run:
    """The siteaudit command, through its real entry point, in this process: for input it
    must refuse before a crawl starts (Scrapy's reactor runs once per process, so a crawl
    started here is refused, and fails the test). `env` sets variables, or unsets those
    given as None, for this run only."""
    from click.testing import CliRunner
    from scrapy.crawler import CrawlerProcess

    from app.cli import main

    def no_crawl(*args: object, **kwargs: object) -> None:
        raise AssertionError("a crawl started: this input should have been refused before")

    # What a run may leave behind in the process: its environment (a scan names its CA
    # bundle in SSL_CERT_FILE), and the command's log handler on the root logger.
    environ, handlers = dict(os.environ), list(logging.getLogger().handlers)
    with (
        pytest.MonkeyPatch.context() as patch,
        CliRunner().isolation(input=stdin, env=env) as (out, err, _),
    ):
        patch.setattr(CrawlerProcess, "__init__", no_crawl)
        try:
            code = main(list(args))
        finally:
            os.environ.clear()
            os.environ.update(environ)
            logging.getLogger().handlers[:] = handlers
    return Run(code, out.getvalue().decode(), err.getvalue().decode())


def program_for_chromium_user(prefix: str, name: str, script: str) -> Path:
    """An executable script in a folder of its own that Chromium's own user (when the tests
    run as root) can run and write beside: a stand-in for Chromium or ChromeDriver."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o1777)
    program = folder / name
    program.write_text(script)
    program.chmod(0o755)
    return program


def query(db: Path, sql: str, *params: object) -> list[tuple]:
    # Closed here, not whenever the garbage collector gets to it: the last connection to close
    # checkpoints the write-ahead log, which changes the file sizes a test may measure.
    with closing(sqlite3.connect(db)) as conn, conn:  # committed, then closed
        return conn.execute(sql, params).fetchall()


def chromium_processes() -> list[str]:
    """Command lines of running Chromium and reaper processes that this test run started:
    those whose profile folder is in the run's own TMPDIR, not another scan's."""
    assert RUN_TMPDIR is not None, "own_tmpdir has not run"
    ours = f"{RUN_TMPDIR}{os.sep}siteaudit-chromium-"
    # -ww: without a terminal, ps may cut lines at 80 columns, before the profile folder.
    out = subprocess.run(["ps", "-ww", "-eo", "args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if ours in line]
