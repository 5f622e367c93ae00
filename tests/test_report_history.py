"""History in the report (issue 15): each team's new, returning, fixed and removed problems,
since the last scan or since any earlier one (report --compare), from real scans."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from app.demo import serve_site
from tests.conftest import query, run_in_process, run_siteaudit
from tests.test_history import A, B, C, D, scan, write_site

E = '<p>Intro.</p><h2 class="part-5"></h2>'
FIXED = "<p>Fixed.</p>"
HELP = "Headings must not be empty"  # the heading check's help text


@pytest.fixture(scope="module")
def three_scans(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Scan 1: a, d and e have an empty heading. Scan 2: a's is fixed, b gets one.
    Scan 3: a's comes back, e's is fixed, d is removed from the site, c is added with one."""
    root = tmp_path_factory.mktemp("history-report")
    site, db = root / "site", root / "scan.db"
    site.mkdir()
    versions = [
        {"a.html": A, "b.html": FIXED, "d.html": D, "e.html": E},
        {"a.html": FIXED, "b.html": B, "d.html": D, "e.html": E},
        {"a.html": A, "b.html": B, "c.html": C, "e.html": FIXED},
    ]
    with serve_site(site) as base:
        for pages in versions:
            write_site(site, pages)
            scan(db, base)
    yield db


def report(db: Path, out: Path, *args: str) -> dict[str, list[str]]:
    """Write the report; each list of changes of the only team's page, one line a problem."""
    run = run_in_process("report", "--db", str(db), "--out", str(out), *args)
    assert run.returncode == 0, run.stderr
    (page,) = out.glob("team-*.html")
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "lxml")
    return {
        d.summary.get_text(): sorted(without_host(li.get_text(" ", strip=True)) for li in d("li"))
        for d in soup.select("details.changes")
    }


def without_host(text: str) -> str:
    """The fixture site's port changes from run to run: its pages by path."""
    return re.sub(r"http://127\.0\.0\.1:\d+", "", text)


def day(db: Path, scan_id: int) -> str:
    ((started,),) = query(db, "SELECT substr(started_at, 1, 10) FROM scans WHERE id = ?", scan_id)
    return started


def test_the_team_page_lists_new_returning_fixed_and_removed(
    three_scans: Path, tmp_path: Path
) -> None:
    db = three_scans
    lists = report(db, tmp_path / "report")
    assert lists == {
        "New problems (2)": [
            f"new {HELP} on /c.html (rule siteaudit-heading-empty, first seen {day(db, 3)})",
            f"returning {HELP} on /a.html (rule siteaudit-heading-empty, first seen {day(db, 1)})",
        ],
        "Fixed problems (1)": [f"{HELP} on /e.html (rule siteaudit-heading-empty)"],
        "Removed with their page (1)": [f"{HELP} on /d.html (rule siteaudit-heading-empty)"],
    }


def test_compare_lists_the_changes_since_an_earlier_scan(three_scans: Path, tmp_path: Path) -> None:
    db = three_scans
    # a's problem is in scan 1 and in scan 3: not new since scan 1; b's is.
    lists = report(db, tmp_path / "since-1", "--compare", "1")
    assert lists == {
        "New problems (2)": [
            f"new {HELP} on /b.html (rule siteaudit-heading-empty, first seen {day(db, 2)})",
            f"new {HELP} on /c.html (rule siteaudit-heading-empty, first seen {day(db, 3)})",
        ],
        "Fixed problems (1)": [f"{HELP} on /e.html (rule siteaudit-heading-empty)"],
        "Removed with their page (1)": [f"{HELP} on /d.html (rule siteaudit-heading-empty)"],
    }
    index = (tmp_path / "since-1" / "index.html").read_text(encoding="utf-8")
    assert f"Since scan 1 ({day(db, 1)})" in index
    # Scan 2 against scan 1: a's fixed, b's new; nothing removed.
    assert report(db, tmp_path / "2-since-1", "--scan", "2", "--compare", "1") == {
        "New problems (1)": [
            f"new {HELP} on /b.html (rule siteaudit-heading-empty, first seen {day(db, 2)})"
        ],
        "Fixed problems (1)": [f"{HELP} on /a.html (rule siteaudit-heading-empty)"],
    }


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--compare", "99"], "Error: --compare 99: there is no scan 99; "),
        (["--compare", "3"], "Error: --compare 3: that is the scan being reported; "),
        (["--scan", "2", "--compare", "3"], "Error: --compare 3: it is later than scan 2; "),
        (["--compare", "1"], "Error: --compare 1: scan 1 is interrupted; "),
    ],
)
def test_compare_refuses_a_scan_it_cannot_compare_with(
    three_scans: Path, tmp_path: Path, args: list[str], error: str
) -> None:
    db = tmp_path / "scan.db"
    shutil.copy(three_scans, db)
    query(db, "UPDATE scans SET status = 'interrupted' WHERE id = 1")
    out = tmp_path / "report"
    run = run_in_process("report", "--db", str(db), "--out", str(out), *args)
    assert run.returncode == 1
    assert len(run.errors) == 1, run.stderr
    assert run.errors[0].startswith(error)
    assert run.errors[0].endswith("give --compare an earlier finished scan of the same site")
    assert not list(out.glob("*.html"))


def test_the_charts_show_the_stored_scores_and_counts(three_scans: Path, tmp_path: Path) -> None:
    db, out = three_scans, tmp_path / "report"
    report(db, out)
    stored = [f"{score:.1f}" for (score,) in query(db, "SELECT score FROM scans ORDER BY id")]
    index = BeautifulSoup((out / "index.html").read_text(encoding="utf-8"), "lxml")
    score_chart, impact_chart = index.select("div.trend")
    assert [c["data-value"] for c in score_chart.select("circle")] == stored
    assert [row.find_all("td")[-1].get_text() for row in score_chart.tbody("tr")] == stored
    assert score_chart.svg["role"] == "img"
    assert score_chart.svg["aria-label"].startswith("Site score, 3 scans from ")
    # Empty headings are moderate: 3, then 3 (a fixed, b new), then 3 (a back, c new, e
    # fixed, d gone with its page); no critical one.
    moderate = [row.find_all("td")[3].get_text() for row in impact_chart.tbody("tr")]
    assert moderate == ["3", "3", "3"]
    assert [row.find_all("td")[1].get_text() for row in impact_chart.tbody("tr")] == ["0"] * 3
    (team_page,) = out.glob("team-*.html")
    team = BeautifulSoup(team_page.read_text(encoding="utf-8"), "lxml")
    (team_name,) = {name for (name,) in query(db, "SELECT team FROM team_scores")}
    team_stored = [
        f"{score:.1f}"
        for (score,) in query(
            db, "SELECT score FROM team_scores WHERE team = ? ORDER BY scan_id", team_name
        )
    ]
    team_chart = team.select("div.trend")[0]
    assert [c["data-value"] for c in team_chart.select("circle")] == team_stored
    assert "<script" not in team_page.read_text(encoding="utf-8")


@pytest.mark.browser
def test_the_history_and_charts_pass_axe(three_scans: Path, tmp_path: Path) -> None:
    """The change lists, badges, charts and their tables, audited in Chromium."""
    out, audit = tmp_path / "report", tmp_path / "audit.db"
    report(three_scans, out)
    with serve_site(out) as base:
        urls = [f"{base}/{page.name}" for page in sorted(out.glob("*.html"))]
        result = run_siteaudit(
            "scan", *urls, "--db", str(audit), "--max-depth", "0", "--best-practices"
        )
    assert result.returncode == 0, result.stderr
    assert query(audit, "SELECT count(audited_at) FROM pages")[0][0] == len(urls)
    violations = "SELECT url, rule_id FROM findings WHERE outcome = 'violation' AND kind = ?"
    assert query(audit, violations, "accessibility") == []
