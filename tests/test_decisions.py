"""Decisions on findings (issue 13): one file for scan, report and check, its every bad entry
refused in one line, and decided findings kept out of counts, scores, emails and the gate."""

from __future__ import annotations

import csv
import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from app.demo import serve_site
from reports.data import load_report
from reports.gate import GatePolicy, PageStatus, Problem, evaluate
from settings.decisions import load_decisions
from settings.loader import ConfigError
from store.database import open_database
from tests.conftest import Site, query, run_in_process, run_siteaudit
from tests.test_counts_agree import Counted, assert_outputs_agree, card
from vocabulary.decisions import EXPIRED, Decision, decide
from vocabulary.problems import count_problems

TODAY = date(2026, 11, 22)


def decisions_file(tmp_path: Path, text: str, name: str = "decisions.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# Reading the file.

GOOD = """
[[decision]]
fingerprint = "label:1"
decision = "fixed-pending"
reason = "Label added in the content system; publishes Friday"

[[decision]]
fingerprint = "image-alt:2"
page = "/bins/collection-days?week=1"
decision = "accepted"
reason = "Map supplied by a third party; replacement due in March"
expires = 2027-03-31
decided_by = "j.smith"

[[waiver]]
rule = "frame-title"
url = "/planning/maps/*"
reason = "Third-party map viewer"
approved_by = "Planning service manager"
expires = 2027-03-31
"""


def test_decisions_and_old_waivers_are_one_format(tmp_path: Path) -> None:
    template, accepted, waiver = load_decisions(str(decisions_file(tmp_path, GOOD)))
    assert (template.decision, template.page, template.expires) == ("fixed-pending", None, None)
    assert (accepted.page, accepted.expires, accepted.decided_by) == (
        "/bins/collection-days?week=1",
        date(2027, 3, 31),
        "j.smith",
    )
    # An old [[waiver]] is an accepted decision; its approver is who decided.
    assert (waiver.decision, waiver.decided_by, waiver.rule) == (
        "accepted",
        "Planning service manager",
        "frame-title",
    )


def test_a_template_decision_by_fingerprint_alone_matches_on_every_page() -> None:
    template = Decision("false-positive", "why", fingerprint="label:1")
    one_page = Decision("false-positive", "why", fingerprint="image-alt:2", page="/a")
    findings = [
        (1, "label:1", "label", "/a"),
        (2, "label:1", "label", "/b?x=1"),
        (3, "image-alt:2", "image-alt", "/a"),
        (4, "image-alt:2", "image-alt", "/b"),
    ]
    statuses, applied = decide([template, one_page], findings, TODAY)
    assert statuses == {1: "false-positive", 2: "false-positive", 3: "false-positive"}
    # Recorded once each, as written: the template one on every page (no page).
    assert [(a.fingerprint, a.page) for a in applied] == [("label:1", None), ("image-alt:2", "/a")]


def test_an_accepted_decision_holds_through_its_expiry_day_then_comes_back() -> None:
    accepted = Decision("accepted", "why", TODAY, fingerprint="fp")
    assert decide([accepted], [(1, "fp", "r", "/a")], TODAY)[0] == {1: "accepted"}
    statuses, (applied,) = decide([accepted], [(1, "fp", "r", "/a")], date(2026, 11, 23))
    assert statuses == {1: EXPIRED} and applied.expired


BAD = [
    (
        '[[decision]]\nfingerprint = "fp"\ndecision = "wontfix"\nreason = "r"\n',
        'decision[0].decision is "wontfix": use one of false-positive, accepted, fixed-pending',
    ),
    (
        '[[decision]]\nfingerprint = "fp"\ndecision = "accepted"\nreason = "r"\n',
        "decision[0].expires is missing: give the last day it holds, "
        "e.g. expires = 2027-03-31 (no quotes)",
    ),
    (
        '[[decision]]\nfingerprint = "fp"\ndecision = "accepted"\nreason = "r"\n'
        'expires = "2027-03-31"\n',
        "decision[0].expires must be a date such as 2026-12-31 (no quotes)",
    ),
    (
        '[[decision]]\nfingerprint = "fp"\ndecision = "false-positive"\n',
        "decision[0].reason is missing: say why, in a sentence",
    ),
    (
        '[[decision]]\ndecision = "false-positive"\nreason = "r"\n',
        "decision[0].fingerprint is missing: copy it from the report's CSV or the check",
    ),
    (
        '[[decision]]\nfingerprint = "fp"\npage = "https://www.example.gov.uk/bins?week=1"\n'
        'decision = "false-positive"\nreason = "r"\n',
        "decision[0].page must be the page's path and query without the host, e.g. "
        'page = "/bins?week=1" (leave page out for a problem in the shared template)',
    ),
    (
        '[[decision]]\nfingerprint = "fp"\ndecision = "false-positive"\nreason = "r"\n'
        'approved_by = "a"\n',
        "decision[0]: unknown key approved_by; use decided_by, decision, expires, "
        "fingerprint, page, reason",
    ),
    (
        '[[decision]]\nfingerprint = "fp"\ndecision = "false-positive"\nreason = "r"\n'
        '[[decision]]\nfingerprint = "fp"\ndecision = "fixed-pending"\nreason = "s"\n',
        "decision[1] is about the same finding as decision[0]; keep one of them",
    ),
    ("[decision]\nfingerprint = 1\n", "decision must be an array of tables ([[decision]])"),
    (
        "[[decisions]]\n",
        "unknown table decisions; decisions are [[decision]] tables "
        "(older files' [[waiver]] tables are read too)",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_a_bad_entry_is_one_line_naming_file_entry_and_fix(
    tmp_path: Path, text: str, message: str
) -> None:
    path = decisions_file(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_decisions(str(path))
    assert str(err.value) == f"{path}: {message}"


@pytest.mark.parametrize("command", ["scan", "check", "check-waivers", "report", "demo"])
def test_every_command_refuses_a_bad_file_before_it_starts(tmp_path: Path, command: str) -> None:
    path = decisions_file(tmp_path, BAD[1][0])
    db = tmp_path / "scan.db"
    args = {
        "scan": ["scan", "http://127.0.0.1:1/", "--db", str(db), "--decisions", str(path)],
        "check": ["check", "http://127.0.0.1:1/", "--decisions", str(path)],
        "check-waivers": ["check", "http://127.0.0.1:1/", "--waivers", str(path)],
        "report": ["report", "--db", str(db), "--out", str(tmp_path / "r"),
                   "--decisions", str(path)],
        "demo": ["demo", "--db", str(db), "--decisions", str(path)],
    }[command]  # fmt: skip
    run = run_in_process(*args)
    assert run.returncode == 1
    assert run.errors == [f"Error: {path}: {BAD[1][1]}"]
    assert not db.exists() and not (tmp_path / "r").exists()


def test_a_missing_file_says_which_option(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    run = run_in_process("check", "http://127.0.0.1:1/", "--waivers", str(missing))
    assert run.errors == [f"Error: {missing}: no such decisions file; check the --decisions path"]


# Counting and the gate, without a browser.


def test_count_problems_leaves_out_live_decisions_and_counts_expired_ones() -> None:
    from dataclasses import dataclass

    @dataclass
    class F:
        url: str
        rule_id: str
        decision: str | None = None
        impact: str | None = "serious"
        scope: str = "content"
        kind: str = "accessibility"
        outcome: str = "violation"
        fingerprint: str | None = None

    counts = count_problems(
        [
            F("/a", "image-alt", "false-positive"),
            F("/a", "label", "accepted"),
            F("/b", "label", "fixed-pending"),
            F("/c", "label", EXPIRED),
            F("/d", "label"),
        ]
    )
    assert (counts.problems, counts.elements) == (2, 2)


def problem(page: str = "/a", fingerprint: str = "fp1") -> Problem:
    url = f"https://staging.example.gov.uk{page}"
    return Problem(
        page, url, fingerprint, "image-alt", "critical", "violation", "1.1.1", '["img"]', "", ""
    )


def test_the_gate_passes_a_decided_problem_and_flags_an_expired_one() -> None:
    pages = [PageStatus("https://staging.example.gov.uk/a", None)]
    false_positive = Decision("false-positive", "Decorative", fingerprint="fp1")
    result = evaluate([problem()], pages, None, [false_positive], GatePolicy(), TODAY)
    assert result.exit_code == 0 and result.decided == [(problem(), false_positive)]
    past = Decision("accepted", "Supplier fix", date(2026, 1, 31), fingerprint="fp1", page="/a")
    result = evaluate([problem(), problem("/b")], pages, None, [past], GatePolicy(), TODAY)
    assert result.exit_code == 2 and result.expired_decisions == [past]
    assert [(p.page, p.decision_expired) for p in result.failing] == [
        ("/a", date(2026, 1, 31)),
        ("/b", None),
    ]


# Real scans of the demo council site.


def fingerprints(db: Path) -> dict[str, str]:
    """rule id -> fingerprint of each accessibility violation of scan 1 (one per rule but
    image-alt, of which the first)."""
    rows = query(
        db,
        "SELECT rule_id, fingerprint, scope FROM findings WHERE scan_id = 1 "
        "AND kind = 'accessibility' AND outcome = 'violation' ORDER BY rowid",
    )
    found: dict[str, str] = {}
    for rule, fingerprint, scope in rows:
        found.setdefault("template" if scope == "template" else rule, fingerprint)
    return found


@pytest.fixture(scope="module")
def undecided(council_site: Site, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scan of the demo site without decisions: 5 problems on 6 elements."""
    db = tmp_path_factory.mktemp("undecided") / "scan.db"
    result = run_siteaudit(
        "scan", council_site.url("/"), "--db", str(db), "--config", "app/demo.toml",
        "--browsers", "2", "--checks", "axe",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return db


def demo_decisions(tmp_path: Path, db: Path) -> Path:
    """The layout's unlabelled search box decided by fingerprint alone (every page), the
    contrast problem a false positive on its page, an image accepted until a day now past,
    and link-name waived by an old [[waiver]] rule."""
    fp = fingerprints(db)
    return decisions_file(
        tmp_path,
        f"""
[[decision]]
fingerprint = "{fp["template"]}"
decision = "fixed-pending"
reason = "Search box label added in the CMS template; publishes Friday"
decided_by = "web.team"

[[decision]]
fingerprint = "{fp["color-contrast"]}"
page = "/council-tax/pay.html"
decision = "false-positive"
reason = "Text over a gradient: 7:1 measured by hand"

[[decision]]
fingerprint = "{fp["image-alt"]}"
page = "/bins-and-recycling/collection-days.html"
decision = "accepted"
reason = "Map supplied by a third party"
expires = 2026-01-31
decided_by = "j.smith"

[[waiver]]
rule = "link-name"
url = "/planning/*"
reason = "Icon link replaced in the next release"
approved_by = "Planning service manager"
expires = 2099-12-31
""",
    )


def summary_counts(stderr: str) -> Counted:
    printed = re.search(
        r"Accessibility: (\d+) problems? on (\d+) elements? \((\d+) critical, (\d+) serious",
        stderr,
    )
    assert printed, stderr
    return Counted(*map(int, printed.groups()))


@pytest.mark.browser
def test_a_scan_with_decisions_records_them_and_counts_without_them(
    council_site: Site, undecided: Path, tmp_path: Path
) -> None:
    db, out = tmp_path / "scan.db", tmp_path / "report"
    shutil.copy(undecided, db)  # scan 2 reuses scan 1's audits: decisions are never copied
    decisions = demo_decisions(tmp_path, undecided)
    result = run_siteaudit(
        "scan", council_site.url("/"), "--db", str(db), "--config", "app/demo.toml",
        "--browsers", "2", "--decisions", str(decisions), "--report", str(out), "--checks", "axe",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    # Left: both image-alt elements (one's acceptance has expired) and Libraries' label.
    summary = summary_counts(result.stderr)
    assert summary == Counted(2, 3, 2, 0)
    report = assert_outputs_agree(db, tmp_path / "again", summary)
    revenues, planning = report.team("Revenues and Benefits"), report.team("Planning")
    assert revenues is not None and planning is not None
    assert [i.rule_id for i in revenues.decided] == ["color-contrast"]
    assert [i.decided.decided_by for i in planning.decided if i.decided] == [
        "Planning service manager"
    ]
    assert not report.templates and len(report.decided_templates) == 1
    assert card((out / "index.html").read_text(), "Accessibility problems") == summary
    # Recorded with scan 2 only, each as it applied.
    rows = query(db, "SELECT scan_id, page, decision, expires, decided_by, expired FROM decisions")
    assert sorted(rows, key=str) == sorted(
        [
            (2, None, "fixed-pending", None, "web.team", 0),
            (2, "/council-tax/pay.html", "false-positive", None, None, 0),
            (2, "/bins-and-recycling/collection-days.html", "accepted", "2026-01-31", "j.smith", 1),
            (2, "/planning/applications.html", "accepted", "2099-12-31",
             "Planning service manager", 0),
        ],
        key=str,
    )  # fmt: skip
    by_scan = dict(
        query(db, "SELECT scan_id, group_concat(DISTINCT decision) FROM findings GROUP BY 1")
    )
    assert by_scan[1] is None
    assert set(by_scan[2].split(",")) == {"fixed-pending", "false-positive", EXPIRED, "accepted"}
    # The layout's decision matched on every page that shows the search box.
    template = "SELECT count(*) FROM findings WHERE scan_id = 2 AND scope = 'template'"
    ((decided,),) = query(db, template + " AND decision = 'fixed-pending'")
    ((every,),) = query(db, template)
    assert decided == every > 10
    # Scores leave decided findings out: the contrast page scores as without it.
    score = "SELECT score FROM pages WHERE scan_id = ? AND url LIKE '%/council-tax/pay.html'"
    assert query(db, score, 2)[0][0] > query(db, score, 1)[0][0]
    assert_decided_shown(out)
    assert_passes_axe(out, tmp_path / "report-audit.db")


def assert_passes_axe(out: Path, db: Path) -> None:
    """The report with its Decided lists and expired flags, audited as any site is."""
    with serve_site(out) as base:
        urls = [f"{base}/{page.name}" for page in sorted(out.glob("*.html"))]
        result = run_siteaudit(
            "scan", *urls, "--db", str(db), "--max-depth", "0", "--best-practices"
        )
    assert result.returncode == 0, result.stderr
    violations = (
        "SELECT url, rule_id FROM findings WHERE outcome = 'violation' AND kind = 'accessibility'"
    )
    assert query(db, violations) == []


def assert_decided_shown(out: Path) -> None:
    """The Decided lists (who, why, until when) and the expired flag, in the HTML and CSV."""
    revenues = BeautifulSoup((out / "team-revenues-and-benefits.html").read_text(), "html.parser")
    decided = revenues.select_one("table.decided")
    assert decided is not None
    text = " ".join(decided.get_text(" ").split())
    assert "Not a problem (false positive)" in text and "7:1 measured by hand" in text
    index = (out / "index.html").read_text()
    assert "No open problem in the shared layout" in index
    assert "Search box label added in the CMS template" in index and "web.team" in index
    waste = BeautifulSoup((out / "team-waste-and-recycling.html").read_text(), "html.parser")
    assert (
        "Decision expired on 2026-01-31: it was accepted (Map supplied by a third party, "
        "decided by j.smith)" in " ".join(waste.get_text(" ").split())
    )
    assert ("false-positive", "violation", "color-contrast") in csv_decisions(
        out / "team-revenues-and-benefits.csv"
    )
    assert ("expired", "violation", "image-alt") in csv_decisions(
        out / "team-waste-and-recycling.csv"
    )


def csv_decisions(path: Path) -> set[tuple[str, str, str]]:
    """(decision, outcome, rule) of each row of a team's CSV."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {(r["decision"], r["outcome"], r["rule_id"]) for r in csv.DictReader(handle)}


@pytest.mark.browser
def test_report_applies_a_changed_file_to_the_scan_again(undecided: Path, tmp_path: Path) -> None:
    db = tmp_path / "scan.db"
    shutil.copy(undecided, db)
    (before,) = query(db, "SELECT score FROM scans WHERE id = 1")
    decisions = demo_decisions(tmp_path, undecided)
    run = run_in_process(
        "report", "--db", str(db), "--out", str(tmp_path / "r"), "--decisions", str(decisions)
    )
    assert run.returncode == 0, run.stderr
    assert "Applied 4 decisions to scan 1" in run.stderr
    assert query(db, "SELECT count(*) FROM decisions WHERE scan_id = 1") == [(4,)]
    (after,) = query(db, "SELECT score FROM scans WHERE id = 1")
    assert after > before
    report = load_report(open_database(db, create=False))
    assert report.problems.problems == 2 and not report.templates
    # The file emptied: nothing decided, the scores as the scan made them.
    empty = decisions_file(tmp_path, "", "empty.toml")
    again = run_in_process(
        "report", "--db", str(db), "--out", str(tmp_path / "r"), "--decisions", str(empty)
    )
    assert again.returncode == 0, again.stderr
    assert query(db, "SELECT count(*) FROM decisions") == [(0,)]
    assert query(db, "SELECT count(*) FROM findings WHERE decision IS NOT NULL") == [(0,)]
    assert query(db, "SELECT score FROM scans WHERE id = 1") == [before]


# The CI gate, for real.


@pytest.fixture(scope="module")
def image_fingerprint(browser_site: Site, tmp_path_factory: pytest.TempPathFactory) -> str:
    db = tmp_path_factory.mktemp("gate") / "check.db"
    result = run_siteaudit("check", browser_site.url("/image.html"), "--db", str(db))
    assert result.returncode == 2, result.stderr
    ((fingerprint,),) = query(db, "SELECT fingerprint FROM findings WHERE rule_id = 'image-alt'")
    return fingerprint


@pytest.mark.browser
@pytest.mark.parametrize("option", ["--decisions", "--waivers"])
def test_a_false_positive_does_not_fail_the_gate(
    browser_site: Site, image_fingerprint: str, tmp_path: Path, option: str
) -> None:
    decisions = decisions_file(
        tmp_path,
        f'[[decision]]\nfingerprint = "{image_fingerprint}"\npage = "/image.html"\n'
        'decision = "false-positive"\nreason = "A spacer image, hidden from screen readers"\n',
    )
    sarif, db = tmp_path / "out.sarif", tmp_path / "check.db"
    result = run_siteaudit(
        "check", browser_site.url("/image.html"), option, str(decisions), "--sarif", str(sarif),
        "--db", str(db),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Decided or waived, not failing (1):" in result.stdout
    assert "false-positive: A spacer image, hidden from screen readers" in result.stdout
    (decided,) = json.loads(sarif.read_text())["runs"][0]["results"]
    assert decided["suppressions"][0]["justification"].startswith("false-positive: A spacer")
    assert query(db, "SELECT decision FROM findings WHERE rule_id = 'image-alt'") == [
        ("false-positive",)
    ]


@pytest.mark.browser
def test_an_old_waivers_file_works_as_decisions(browser_site: Site, tmp_path: Path) -> None:
    waivers = decisions_file(
        tmp_path,
        '[[waiver]]\nrule = "image-alt"\nurl = "/image*"\nreason = "Photo credits rewritten"\n'
        'approved_by = "Web manager"\nexpires = 2099-07-01\n',
    )
    result = run_siteaudit("check", browser_site.url("/image.html"), "--decisions", str(waivers))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "accepted, expires 2099-07-01, decided by Web manager" in result.stdout


def test_the_example_decisions_file_loads() -> None:
    decisions = load_decisions("config/example-decisions.toml")
    assert [d.decision for d in decisions] == [
        "accepted",
        "false-positive",
        "fixed-pending",
        "accepted",
    ]
    assert decisions[2].page is None and decisions[3].rule == "frame-title"
