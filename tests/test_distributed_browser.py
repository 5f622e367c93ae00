"""A scan shared by workers with the browser: each worker audits its pages in its own
Chromium, as a one-machine scan does (docs/scaling.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.demo import DEMO_SITE, serve_site
from tests.conftest import query, run_siteaudit
from tests.test_distributed import scan_contents, start_worker, stop

pytestmark = pytest.mark.browser


def test_a_worker_audits_the_demo_site_in_its_own_browsers(redis_url: str, tmp_path: Path) -> None:
    db = tmp_path / "scan.db"
    log = tmp_path / "worker.log"
    with serve_site(DEMO_SITE) as base:
        one = run_siteaudit(
            "scan", base + "/", "--db", str(tmp_path / "one.db"), "--browsers", "1", timeout=600
        )
        assert one.returncode in (0, 2), one.stderr
        workers = [start_worker(redis_url, log)]
        try:
            shared = run_siteaudit(
                "scan", base + "/", "--db", str(db), "--browsers", "1", "--redis", redis_url,
                timeout=600,
            )  # fmt: skip
        finally:
            codes = stop(workers)
    assert shared.returncode in (0, 2), shared.stderr + log.read_text()
    assert codes == [0], log.read_text()
    assert "Scan 1 finished" in shared.stderr and "(axe-core " in shared.stderr
    # The scan is recorded as a browser scan, with the axe-core the worker ran.
    [(browser, axe_version, rules_key, audited)] = query(
        db, "SELECT browser, axe_version, rules_key, pages_audited FROM scans"
    )
    assert browser == 1 and axe_version and rules_key
    # Every page was audited in the worker's browser, and axe-core's findings stored.
    assert query(db, "SELECT count(*), count(audited_at) FROM pages") == [(17, audited)]
    assert audited == 17
    axe = "kind = 'accessibility' AND rule_id NOT LIKE 'siteaudit-%'"
    assert query(db, f"SELECT count(*) > 0 FROM findings WHERE {axe}") == [(1,)]
    # The same pages, findings, links, fetches and documents as one machine's scan.
    assert scan_contents(db, base) == scan_contents(tmp_path / "one.db", base)
