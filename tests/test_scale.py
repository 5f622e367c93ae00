"""A generated council site of a few hundred pages: every reachable page is recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.demo import serve_site
from tests.conftest import query, run_siteaudit
from tests.sites.generate import generate_site


@pytest.mark.slow
def test_every_page_of_a_300_page_site_is_recorded(tmp_path: Path) -> None:
    expected = generate_site(tmp_path / "site", pages=300)
    db = tmp_path / "scan.db"
    with serve_site(tmp_path / "site") as base:
        result = run_siteaudit("scan", f"{base}/", "--db", str(db), "--no-browser")
    assert result.returncode == 0, result.stderr
    stored = sorted(url.removeprefix(base) for (url,) in query(db, "SELECT url FROM pages"))
    assert stored == expected
    assert query(db, "SELECT count(*) FROM pages WHERE reading_age IS NULL")[0][0] == 0
