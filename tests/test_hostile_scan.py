"""The whole hostile site in one scan, as a user would run it: on time, within memory,
no secret stored or sent away, nothing from a private address, every page with a reason."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.memory import MemorySampler
from tests.conftest import ROOT, query
from tests.hostile import serve_hostile

# The whole process tree, Chromium included, stays bounded. The 1.5 GB target is measured
# by benchmarks/hostile_memory.py, not here: on 2026-12-03 four runs peaked at 1.30 to 1.57
# GB with two browsers, Chromium's renderers alone moving by 0.2 GB between runs of the same
# scan. This bound catches what the limits prevent: 2.9 GB before the browser's element
# and depth limits, 1.4 to 1.7 GB before pages over audit.max_elements were read without a
# tree and Chromium's spare renderer was switched off.
MEMORY_BUDGET_MIB = 2048
MAX_MINUTES = 3
# --max-minutes stops the crawl; closing the browsers and writing the summary follow.
WALL_LIMIT = MAX_MINUTES * 60 + 90


@pytest.mark.slow
@pytest.mark.browser
def test_a_scan_of_the_whole_hostile_site_stays_safe(tmp_path: Path) -> None:
    secret = secrets.token_hex(16)
    config = tmp_path / "site.toml"
    config.write_text('[auth]\nheader_envs = ["X-Staging-Key=STAGING_KEY"]\n')
    db = tmp_path / "scan.db"
    env = {**os.environ, "STAGING_KEY": secret, "PYTHONUNBUFFERED": "1"}
    with serve_hostile() as site:
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "scan", site.url("/"), "--db", str(db),
             "--config", str(config), "--max-minutes", str(MAX_MINUTES), "--browsers", "2",
             "--page-timeout", "15"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        sampler = MemorySampler(process.pid)
        sampler.start()
        try:
            out, err = process.communicate(timeout=WALL_LIMIT)
        finally:
            peak = sampler.stop()
            if process.poll() is None:
                process.kill()
        elapsed = time.monotonic() - started
        hosts = {r.headers.get("Host", "").split(":")[0] for r in site.requests}
        other_requests = list(site.other_requests)

    assert process.returncode in (0, 1), err  # 1 only if the time limit stopped it
    assert elapsed < WALL_LIMIT
    assert peak < MEMORY_BUDGET_MIB, f"peak {peak:.0f} MiB"
    # Nothing reached another host, nor this machine under another name (localhost).
    assert other_requests == []
    assert hosts == {"127.0.0.1"}
    # The secret went to the site, and is nowhere in the database or the output.
    assert any(r.headers.get("X-Staging-Key") == secret for r in site.requests)
    for path in tmp_path.glob("scan.db*"):
        assert secret.encode() not in path.read_bytes()
    assert secret not in out + err
    # Every URL fetched as a page ended audited or with a reason from the fixed list (a
    # document is recorded in documents, with its check_error if it could not be checked).
    unexplained = query(
        db,
        "SELECT f.url FROM fetches f LEFT JOIN pages p "
        "ON p.scan_id = f.scan_id AND p.url IN (f.url, f.final_url) "
        "WHERE coalesce(f.kind, 'page') = 'page' AND coalesce(p.reason, f.reason) IS NULL",
    )
    assert unexplained == []
    # A 4 MB page of 250,000 elements would take a Chromium tab 1.4 GB: it is read and
    # judged for its content, but not audited in the browser.
    assert query(
        db, "SELECT reason, word_count > 0 FROM pages WHERE url LIKE '%/files/chunked.html'"
    ) == [("page-too-complex", 1)]
    assert query(db, "SELECT count(*) FROM pages WHERE reason = 'audited'")[0][0] > 10
