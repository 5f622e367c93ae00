"""The summary, the report's index and team cards, the CSVs and the emails count problems alike."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from reports.data import ScanReport, load_report
from reports.email import team_message
from reports.html import write_report
from settings.loader import ConfigError, config_from_dict
from settings.model import EmailConfig
from store.database import open_database
from store.findings import findings_in_scan
from store.scans import finish_scan, start_scan
from store.summary import scan_figures
from store.writer import Batch, write_batch
from tests.conftest import Site, run_siteaudit
from vocabulary.decisions import is_decided
from vocabulary.impacts import severity
from vocabulary.problems import count_problems


@dataclass(frozen=True)
class Counted:
    """Problems, elements, critical and serious, as one output states them."""

    problems: int
    elements: int | None
    critical: int
    serious: int


def card(html: str, label: str) -> Counted:
    """The summary card ("Accessibility problems 5 on 6 elements: 3 critical, 2 serious")."""
    soup = BeautifulSoup(html, "html.parser")
    item = next(li for li in soup.select(".summary-list li") if li.get_text().startswith(label))
    problems = int(item.select_one(".score").get_text())
    elements, critical, serious = re.search(
        r"on (\d+) elements?: (\d+) critical, (\d+) serious", item.get_text()
    ).groups()  # type: ignore[union-attr]
    return Counted(problems, int(elements), int(critical), int(serious))


def index_table(html: str) -> dict[str, int]:
    """Each team's accessibility problems, from the index's table of teams."""
    soup = BeautifulSoup(html, "html.parser")
    # The teams' table, not the charts' tables of scores over time before it.
    table = next(t for t in soup.find_all("table") if t.caption and "team" in t.caption.get_text())
    headers = [th.get_text() for th in table.select("thead th")]
    column = headers.index("Accessibility problems")
    return {
        row.th.get_text(): int(row.find_all(["th", "td"])[column].get_text())
        for row in table.select("tbody tr")  # type: ignore[union-attr]
    }


def from_csv(path: Path) -> Counted:
    """A team's CSV counted by the definition: distinct (rule, page), worst impact."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = [
            r
            for r in csv.DictReader(handle)
            if r["kind"] == "accessibility"
            and r["outcome"] == "violation"
            and r["decision"] in ("", "expired")  # a decided one counts nowhere
        ]
    worst: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (row["rule_id"], row["url"])
        worst[key] = max(worst.get(key, 0), severity(row["impact"]))
    levels = list(worst.values())
    return Counted(len(worst), len(rows), levels.count(3), levels.count(2))


def from_email(report: ScanReport, name: str) -> tuple[int, Counted, int | None]:
    """(the subject's count, the body's counts, the sum of its page lines if all listed)."""
    team = report.team(name)
    assert team is not None
    message = team_message(report, team, EmailConfig(), "the site")
    subject = int(re.search(r"(\d+) accessibility problems? \(", message["Subject"]).group(1))  # type: ignore[union-attr]
    body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    found = re.search(
        r"Accessibility problems: (\d+) on (\d+) elements? \((\d+) critical, (\d+) serious\)",
        body,
    )
    assert found, body
    pages = [int(n) for n in re.findall(r"\): (\d+) accessibility problems?", body)]
    layout = re.search(r"In the shared layout: (\d+) problems?", body)
    pages += [int(layout.group(1))] if layout else []
    all_listed = sum(1 for p in team.pages if p.open_issues) <= 5
    return subject, Counted(*map(int, found.groups())), sum(pages) if all_listed else None


def assert_outputs_agree(db_path: Path, out: Path, summary: Counted) -> ScanReport:
    """Every output's numbers against the scan summary's, and each team's against its own."""
    report = load_report(open_database(db_path, create=False), site_name="Example Borough Council")
    write_report(report, out)
    index = (out / "index.html").read_text(encoding="utf-8")
    assert card(index, "Accessibility problems") == summary
    by_team = index_table(index)
    totals = Counted(0, 0, 0, 0)
    for team in report.teams:
        html = (out / f"team-{team.slug}.html").read_text(encoding="utf-8")
        shown = card(html, "Accessibility problems")
        assert from_csv(out / f"team-{team.slug}.csv") == shown, team.name
        assert by_team[team.name] == shown.problems, team.name
        subject, body, pages = from_email(report, team.name)
        assert subject == body.problems and body == shown, team.name
        assert pages in (None, shown.problems), team.name
        totals = Counted(
            totals.problems + shown.problems,
            (totals.elements or 0) + (shown.elements or 0),
            totals.critical + shown.critical,
            totals.serious + shown.serious,
        )
    # Every problem is one team's: the shared layout's are on its owner's card, once.
    assert totals == summary
    owner = report.team(report.template_owner or "")
    layout = report.template_problems
    if layout.problems:
        assert owner is not None and owner.templates
        listed = count_problems(t.issue for t in owner.templates)
        assert (listed.problems, listed.elements, listed.by_impact) == (
            layout.problems,
            layout.elements,
            layout.by_impact,
        )
    assert_problem_tables_agree(index, db_path, report.scan["id"], summary)
    return report


def problem_table(html: str, table_id: str) -> dict[str, tuple[int, int, int, str]]:
    """The index's table of problems by criterion or rule: key -> (pages, problems,
    elements, teams)."""
    soup = BeautifulSoup(html, "html.parser")
    table = soup.find("table", id=table_id)
    assert table is not None, table_id
    found = {}
    for row in table.select("tbody tr"):  # type: ignore[union-attr]
        pages, problems, elements = (int(td.get_text()) for td in row.select("td.number"))
        key = row.th.get_text().split(" ", 1)[0]  # type: ignore[union-attr]
        found[key] = (pages, problems, elements, row.find_all("td")[-1].get_text())
    return found


def assert_problem_tables_agree(index: str, db_path: Path, scan_id: int, summary: Counted) -> None:
    """The tables by rule and by criterion: each row as count_problems counts the scan's
    findings of that rule or criterion; the rules' problems add up to the site's."""
    findings = [
        f
        for f in findings_in_scan(
            open_database(db_path, create=False), scan_id, kind="accessibility", outcome="violation"
        )
        if not is_decided(f.decision)  # set aside by a person: in no table
    ]
    rules = problem_table(index, "rules")
    assert sum(problems for _, problems, _, _ in rules.values()) == summary.problems
    assert sum(elements for _, _, elements, _ in rules.values()) == summary.elements
    for rule, (pages, problems, elements, teams) in rules.items():
        counted = count_problems(f for f in findings if f.rule_id == rule)
        assert (pages, problems, elements) == (counted.pages, counted.problems, counted.elements)
        assert teams == ", ".join(sorted({f.team for f in findings if f.rule_id == rule}))
    criteria = problem_table(index, "criteria")
    numbers = {n for f in findings for n in (f.wcag or "").split(",") if n}
    assert numbers <= set(criteria)
    for number in numbers:
        counted = count_problems(f for f in findings if number in (f.wcag or "").split(","))
        assert criteria[number][:3] == (counted.pages, counted.problems, counted.elements)
    ordered = [pages for pages, *_ in rules.values()]
    assert ordered == sorted(ordered, reverse=True)


# The success criteria axe-core ties the forged scan's rules to.
CRITERIA = {
    "image-alt": "1.1.1",
    "color-contrast": "1.4.3",
    "link-name": "2.4.4,4.1.2",
    "label": "4.1.2",
}


def forged_scan(path: Path) -> None:
    """Two teams, one rule on two elements, a rule whose elements differ in impact, a
    layout problem on every page, a needs-review result and a broken link."""
    db = open_database(path)
    scan_id = start_scan(db, "http://127.0.0.1:9/", browser=1, axe_version="4.14.1")
    base = "http://127.0.0.1:9"
    pages = [
        (f"{base}/bins/", "Waste"),
        (f"{base}/bins/days.html", "Waste"),
        (f"{base}/tax/", "Tax"),
    ]
    batch = Batch()
    batch.add("pages", [{"scan_id": scan_id, "url": u, "title": u, "team": t} for u, t in pages])

    def finding(url: str, team: str, rule: str, impact: str | None, n: int, **extra: str) -> dict:
        return {
            "scan_id": scan_id,
            "url": url,
            "team": team,
            "kind": "accessibility",
            "outcome": "violation",
            "rule_id": rule,
            "impact": impact,
            "selector": json.dumps([f"#e{n}"]),
            "fingerprint": f"{rule}:{n}",
            "scope": "content",
            "wcag": CRITERIA.get(rule),
            **extra,
        }

    rows = [
        finding(pages[0][0], "Waste", "image-alt", "critical", 1),
        finding(pages[0][0], "Waste", "image-alt", "critical", 2),
        finding(pages[0][0], "Waste", "color-contrast", "moderate", 3),
        finding(pages[0][0], "Waste", "color-contrast", "serious", 4),
        finding(pages[1][0], "Waste", "image-alt", "critical", 5),
        finding(pages[2][0], "Tax", "link-name", "serious", 6),
        finding(pages[2][0], "Tax", "aria-hidden-focus", "serious", 7, outcome="needs-review"),
        finding(pages[2][0], "Tax", "broken-link-internal", "serious", 8, kind="broken-link"),
    ]
    rows += [finding(u, "Web Team", "label", "critical", 9, scope="template") for u, _ in pages]
    batch.add("findings", rows)
    write_batch(db, batch)
    finish_scan(db, scan_id, "finished")
    db.conn.close()


def test_forged_scan_counts_agree_everywhere(tmp_path: Path) -> None:
    db = tmp_path / "scan.db"
    forged_scan(db)
    figures = scan_figures(open_database(db, create=False), 1)
    counts = figures.accessibility
    summary = Counted(
        counts.problems, counts.elements, counts.impact("critical"), counts.impact("serious")
    )
    # image-alt on two pages, color-contrast (worst serious), link-name, and the layout's label
    # counted once for its three pages: 5 problems on 7 elements.
    assert summary == Counted(5, 7, 3, 2)
    assert figures.template_problems == 1
    report = assert_outputs_agree(db, tmp_path / "report", summary)
    waste = report.team("Waste")
    assert waste is not None and waste.problems().problems == 3


def test_a_problem_is_one_rule_on_one_page_or_once_in_the_layout() -> None:
    @dataclass
    class F:
        url: str
        rule_id: str
        impact: str | None
        scope: str = "content"
        kind: str = "accessibility"
        outcome: str = "violation"
        fingerprint: str | None = None
        decision: str | None = None

    counts = count_problems(
        [
            F("/a", "image-alt", "minor"),
            F("/a", "image-alt", "critical"),  # the worst element gives the problem's impact
            F("/b", "image-alt", None),  # no impact counts as minor
            F("/a", "label", "serious", "template", fingerprint="label:1"),
            F("/b", "label", "serious", "template", fingerprint="label:1"),
            F("/b", "label", "serious", "template", fingerprint="label:2"),
            F("/b", "region", "moderate", outcome="needs-review"),
            F("/b", "stale", "moderate", kind="stale"),
        ]
    )
    assert (counts.problems, counts.elements) == (3, 5)
    assert counts.by_impact == {"critical": 1, "serious": 1, "moderate": 0, "minor": 1}


def test_site_name_names_the_council_and_the_host_stands_in(tmp_path: Path) -> None:
    db = tmp_path / "scan.db"
    forged_scan(db)
    named = load_report(open_database(db, create=False), site_name="Example Borough Council")
    write_report(named, tmp_path / "named")
    assert "Website audit: Example Borough Council" in (tmp_path / "named/index.html").read_text()
    team = named.team("Waste")
    assert team is not None
    subject = team_message(named, team, EmailConfig(), "the site")["Subject"]
    assert subject.endswith(" - Example Borough Council")
    unnamed = load_report(open_database(db, create=False))
    write_report(unnamed, tmp_path / "unnamed")
    assert "Website audit: 127.0.0.1</" in (tmp_path / "unnamed/team-tax.html").read_text()


def test_site_name_must_be_one_line() -> None:
    assert config_from_dict({"site": {"name": "Example Borough Council"}}).site.name
    with pytest.raises(ConfigError, match=r"site\.name must be one line"):
        config_from_dict({"site": {"name": "Council\r\nBcc: everyone@example.org"}})


@pytest.mark.browser
def test_demo_scan_counts_agree_everywhere(council_site: Site, tmp_path: Path) -> None:
    db, out = tmp_path / "scan.db", tmp_path / "report"
    result = run_siteaudit(
        "scan", council_site.url("/"), "--db", str(db), "--config", "app/demo.toml",
        "--browsers", "2", "--report", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    printed = re.search(
        r"Accessibility: (\d+) problems? on (\d+) elements? \((\d+) critical, (\d+) serious",
        result.stderr,
    )
    assert printed, result.stderr
    summary = Counted(*map(int, printed.groups()))
    # The demo's failures: image-alt (two images), color-contrast, link-name, Libraries'
    # unlabelled postcode box, the search box of the shared layout, counted once, and the
    # empty heading on /benefits/ (siteaudit-heading-empty, moderate).
    assert summary == Counted(6, 7, 3, 2)
    assert_outputs_agree(db, tmp_path / "again", summary)
    # The report the scan itself wrote says the same.
    assert card((out / "index.html").read_text(), "Accessibility problems") == summary
    assert "Website audit: Example Borough Council" in (out / "index.html").read_text()
