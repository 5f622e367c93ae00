"""A scan survives the real web: every fault page ends audited or with its exact reason."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import chromium_processes, query, run_siteaudit
from tests.fault_site import FAULT_PAGES, serve_faults

pytestmark = pytest.mark.browser

CONFIG = """
[site]
timeout = 3                 # /slow.html takes 8 s
max_page_bytes = 5_000_000  # /big.html is 10 MB
max_shape_chain = 5         # the endless calendar
[audit]
page_timeout = 30          # /crash.html takes 7 to 25 s to crash its tab
[links]
check_external = false
"""


def outcome(db: Path, base: str) -> dict[str, str]:
    """Each URL's reason: the page's if it was recorded as a page, else the fetch's."""
    reasons = {
        url.removeprefix(base): reason
        for url, reason in query(db, "SELECT url, reason FROM fetches WHERE reason IS NOT NULL")
    }
    reasons.update(
        {
            url.removeprefix(base): reason
            for url, reason in query(db, "SELECT url, reason FROM pages")
        }
    )
    return reasons


@pytest.mark.slow
def test_fault_site_scan_finishes_with_a_reason_for_every_page(tmp_path: Path) -> None:
    config = tmp_path / "faults.toml"
    config.write_text(CONFIG)
    db = tmp_path / "scan.db"
    with serve_faults(slow_seconds=8) as site:
        started = time.monotonic()
        result = run_siteaudit(
            "scan",
            site.url("/"),
            "--db",
            str(db),
            "--config",
            str(config),
            "--browsers",
            "2",
            "--max-minutes",
            "8",
            "--checks",
            "axe",  # about the network's faults, not the checks
        )
        seconds = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    reasons = outcome(db, site.base)
    expected = {path: reason for path, reason in FAULT_PAGES.items() if reason != "trap"}
    assert {path: reasons.get(path) for path in expected} == expected
    # The endless calendar is cut off after a few months; session ids are stripped, so the
    # session pages are one page.
    calendar = [p for p, r in reasons.items() if p.startswith("/calendar/")]
    assert 1 <= len(calendar) <= 6 and "trap" in {reasons[p] for p in calendar}
    assert reasons.get("/session/page") == "audited"
    assert not [p for p in reasons if "sid=" in p]
    # Other schemes are recorded as links, never fetched.
    targets = {
        t
        for (t,) in query(db, "SELECT target_url FROM links WHERE source_url LIKE '%/schemes.html'")
    }
    assert {
        "javascript:void(0)",
        "mailto:council@example.gov.uk",
        "tel:+441234567890",
        "file:///etc/passwd",
    } <= targets
    assert not query(db, "SELECT 1 FROM fetches WHERE url NOT LIKE 'http%'")
    assert query(db, "SELECT status FROM scans") == [("finished",)]
    assert chromium_processes() == []
    print(
        f"fault site: {len(reasons)} URLs, "
        f"{sum(r == 'audited' for r in reasons.values())} audited, "
        f"{sum(r != 'audited' for r in reasons.values())} with a reason, {seconds:.0f}s"
    )


def test_firewall_blocking_stops_the_scan_with_a_clear_message(tmp_path: Path) -> None:
    db = tmp_path / "scan.db"
    with serve_faults(slow_seconds=1) as site:
        urls = [site.url(f"/challenge/{n}") for n in range(1, 41)]
        result = run_siteaudit("scan", *urls, "--db", str(db), "--no-browser", "--max-depth", "0")
    assert result.returncode == 1
    assert "a firewall or bot challenge" in result.stderr
    ((status, message),) = query(db, "SELECT status, message FROM scans")
    assert status == "blocked" and "ask its web team to allow the crawler" in message
    # It stopped after the run of 20, rather than record all 40 challenge pages.
    assert query(db, "SELECT count(*) FROM fetches")[0][0] < 40


def test_retry_after_is_read_as_seconds_or_a_date() -> None:
    from crawler.middlewares import retry_after_seconds

    assert retry_after_seconds(b"7") == 7.0
    assert retry_after_seconds(b"Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after_seconds(b"soon") is None and retry_after_seconds(None) is None
