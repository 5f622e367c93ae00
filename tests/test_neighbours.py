"""The test suite is a good neighbour: it counts only the browsers it started itself."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import conftest
from tests.conftest import ROOT, Site, chromium_processes

SLEEP = shutil.which("sleep") or "/bin/sleep"


def fake_browser(profile: str) -> subprocess.Popen[bytes]:
    """A process whose command line looks like Chromium's with that profile folder."""
    argv0 = f"{profile}/chromium --user-data-dir={profile}"
    return subprocess.Popen([argv0, "300"], executable=SLEEP)


def all_command_lines() -> list[str]:
    return subprocess.run(
        ["ps", "-ww", "-eo", "args"], capture_output=True, text=True
    ).stdout.split("\n")


def test_a_browser_beside_the_run_is_not_counted_but_one_of_its_own_is() -> None:
    """Before, any 'siteaudit-chromium-' on the machine (a scan run by hand, another test
    run) failed every test that checks no browser outlived its scan."""
    assert conftest.RUN_TMPDIR is not None
    beside = [
        fake_browser("/tmp/siteaudit-chromium-beside1"),  # a scan run by hand
        fake_browser("/tmp/siteaudit-tests-other/siteaudit-chromium-beside2"),  # another run
        fake_browser(f"{conftest.RUN_TMPDIR}x/siteaudit-chromium-beside3"),  # a longer name
    ]
    ours = None
    try:
        deadline = time.monotonic() + 30
        while sum("siteaudit-chromium-beside" in c for c in all_command_lines()) < 3:
            assert time.monotonic() < deadline, "the fake processes did not start"
            time.sleep(0.05)
        assert chromium_processes() == []
        ours = fake_browser(f"{conftest.RUN_TMPDIR}/siteaudit-chromium-ours")
        deadline = time.monotonic() + 30
        while not chromium_processes():
            assert time.monotonic() < deadline, "our own fake browser was not counted"
            time.sleep(0.05)
        (line,) = chromium_processes()
        assert "siteaudit-chromium-ours" in line
    finally:
        for process in [*beside, *([ours] if ours else [])]:
            process.kill()  # only the processes this test started, by their own handles
            process.wait(timeout=30)
    assert chromium_processes() == []


@pytest.mark.browser
def test_a_scan_started_by_the_tests_puts_its_browser_in_the_runs_tmpdir(
    council_site: Site, tmp_path: Path
) -> None:
    """The real case: a siteaudit subprocess inherits the run's TMPDIR, so its Chromium and
    reaper are counted while they run, and gone once it is stopped."""
    db = str(tmp_path / "scan.db")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "scan", council_site.url("/"), "--db", db],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        # The reaper script starts a moment before Chromium itself: wait for Chromium.
        while not any("--user-data-dir=" in line for line in chromium_processes()):
            assert process.poll() is None, "the scan ended before its browser was seen"
            assert time.monotonic() < deadline, "no browser of this run was seen"
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)
    deadline = time.monotonic() + 30
    while chromium_processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert chromium_processes() == []
