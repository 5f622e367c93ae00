"""The CI gate judges only the pages it was given: another site being down never fails it."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.conftest import query, run_siteaudit
from tests.hostile import serve_hostile
from tests.hostile.inputs import DEAD_SITE, INDEX

pytestmark = pytest.mark.browser  # the gate audits each page in Chromium


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/inputs/gone.html"


def test_a_dead_external_link_does_not_fail_the_gate(tmp_path: Path) -> None:
    with serve_hostile() as site:
        urls = tmp_path / "urls.txt"
        urls.write_text("".join(site.url(p) + "\n" for p in INDEX))
        db = tmp_path / "check.db"
        passed = run_siteaudit("check", "--urls", str(urls), "--db", str(db), "--browsers", "1")
        assert passed.returncode == 0, passed.stdout + passed.stderr
        assert "Pages checked: 3 of 3" in passed.stdout
        assert "could not be checked" not in passed.stdout + passed.stderr
        # The dead link is still recorded, as a broken link of the page that has it.
        assert query(db, "SELECT error IS NOT NULL FROM fetches WHERE url = ?", DEAD_SITE) == [(1,)]

        down = closed_port_url()
        urls.write_text(urls.read_text() + down + "\n")
        failed = run_siteaudit("check", "--urls", str(urls), "--browsers", "1")
        assert failed.returncode == 1, failed.stdout + failed.stderr
        assert "Pages checked: 3 of 4" in failed.stdout
        assert down in failed.stdout
