"""Chromium keeps its sandbox: as root, siteaudit runs it as an unprivileged user."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from browser.browser import BrowserSession
from browser.devtools import PageJob
from browser.launch import BrowserOptions, unprivileged_user
from tests.conftest import Site, chromium_processes, query, run_in_process, run_siteaudit

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(os.geteuid() != 0, reason="only root needs another user for the sandbox"),
]

PAGE = (
    b'<!DOCTYPE html><html lang="en"><head><title>Bins</title></head><body><main>'
    b'<h1>Bins</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></main></body></html>'
)


def process_owners(pgid: int) -> dict[str, int]:
    """Command name -> real uid of every process in a process group."""
    owners = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid:
            uid = next(line for line in status.splitlines() if line.startswith("Uid:"))
            owners[f"{entry.name}:{stat.split('(', 1)[1].split(')')[0]}"] = int(uid.split()[1])
    return owners


def test_root_runs_chromium_as_an_unprivileged_user_with_its_sandbox() -> None:
    run_as = unprivileged_user("")
    assert run_as is not None and run_as[0] != 0
    options = BrowserOptions(run_as=run_as)
    assert options.sandbox
    session = BrowserSession(options).start()
    try:
        assert session.pgid is not None
        owners = process_owners(session.pgid)
        assert any("chrom" in name for name in owners), owners
        assert set(owners.values()) == {run_as[0]}, owners
        assert "--no-sandbox" not in " ".join(chromium_processes())
        outcome = session.audit(
            PageJob("http://127.0.0.1:9/bins.html", 200, [("Content-Type", "text/html")], PAGE)
        )
        assert "image-alt" in {v["id"] for v in outcome.violations}
    finally:
        session.close()
    assert chromium_processes() == []


def test_chromium_that_cannot_start_as_that_user_stops_the_scan_with_the_fix(
    browser_site: Site, tmp_path: Path
) -> None:
    db = tmp_path / "scan.db"
    result = run_siteaudit(
        "scan",
        browser_site.url("/clean.html"),
        "--db",
        str(db),
        "--config",
        str(root_only_chromium(tmp_path, "")),
    )
    assert result.returncode == 1
    [error] = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert error.startswith("Error: Chromium could not start as the user siteaudit")
    # The user exists: the fix is to let it run Chromium, not to add it.
    assert "check that this user can run Chromium" in error and "add the siteaudit" not in error
    assert "audit.allow_no_sandbox = true" in error
    assert "Traceback" not in result.stderr


def test_no_unprivileged_user_stops_the_scan_unless_allowed(
    browser_site: Site, tmp_path: Path
) -> None:
    config = tmp_path / "site.toml"
    config.write_text('[audit]\nbrowser_user = "root"\n')
    result = run_in_process(
        "scan",
        browser_site.url("/clean.html"),
        "--db",
        str(tmp_path / "a.db"),
        "--config",
        str(config),
    )
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("Error: Chromium would run as root, without its sandbox")
    )


def test_allow_no_sandbox_runs_chromium_as_root_and_records_it(
    browser_site: Site, tmp_path: Path
) -> None:
    db = tmp_path / "scan.db"
    config = root_only_chromium(tmp_path, "allow_no_sandbox = true\n")
    result = run_siteaudit(
        "scan", browser_site.url("/clean.html"), "--db", str(db), "--config", str(config)
    )
    assert result.returncode == 0, result.stderr
    assert "Chromium could not start as the user" in result.stderr
    assert "recorded as scans.sandboxed = 0" in result.stderr
    assert query(db, "SELECT sandboxed FROM scans") == [(0,)]
    assert query(db, "SELECT count(audited_at) FROM pages") != [(0,)]


def root_only_chromium(tmp_path: Path, extra: str) -> Path:
    """A configuration with a copy of the launcher only root may run: the unprivileged
    user cannot start it."""
    launcher = tmp_path / "chromium"
    shutil.copy("/usr/bin/chromium", launcher)
    launcher.chmod(0o700)
    config = tmp_path / "site.toml"
    config.write_text(f'[audit]\nchromium = "{launcher}"\n{extra}')
    return config
