"""Shared fixtures: real sites served on 127.0.0.1 and the siteaudit command run for real."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from crawler.demo import serve_site

TESTS = Path(__file__).resolve().parent
SITES = TESTS / "sites"
ROOT = TESTS.parent


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
    with serve_site(SITES / "council", access_log=log) as base:
        yield Site(base, SITES / "council", log)


@pytest.fixture(scope="session")
def browser_site() -> Iterator[Site]:
    """Pages for browser behaviour, with a frame served from a second, cross-origin port."""
    log: list[str] = []
    root = SITES / "browser"
    with serve_site(root) as other:
        cross_origin = other.replace("127.0.0.1", "localhost")
        with serve_site(root, access_log=log, replacements={"{{OTHER}}": cross_origin}) as base:
            yield Site(base, root, log)


def run_siteaudit(
    *args: str, timeout: float = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real command in a subprocess (Scrapy's reactor runs once per process)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
    )


def query(db: Path, sql: str, *params: object) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def chromium_processes() -> list[str]:
    """Command lines of running Chromium processes started by siteaudit."""
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if "siteaudit-chromium-" in line]
