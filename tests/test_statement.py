"""The accessibility statement found and checked against the model statement and the scan
(issue 16): fixture statements each give exactly their expected findings."""

from __future__ import annotations

import csv
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from app.demo import serve_site
from app.summary import statement_line
from audits.page import parse_page
from audits.statement import RULES, choose_statements, no_statement, statement_findings
from audits.statement_reading import StatementReading
from tests.conftest import SITES, query, run_in_process, run_siteaudit
from vocabulary.findings import Finding

STATEMENTS = SITES / "statements"
ENGLISH_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
WELSH_MONTHS = [
    "Ionawr",
    "Chwefror",
    "Mawrth",
    "Ebrill",
    "Mai",
    "Mehefin",
    "Gorffennaf",
    "Awst",
    "Medi",
    "Hydref",
    "Tachwedd",
    "Rhagfyr",
]
# The scan reads its failures from this, on each fixture site: an empty heading on bins.html.
FAILING = {"1.3.1": 1, "2.4.6": 1}


def written(day: date, months: list[str] = ENGLISH_MONTHS) -> str:
    return f"{day.day} {months[day.month - 1]} {day.year}"


def months_before(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, 28))


def replacements(today: date) -> dict[str, str]:
    """The fixture statements' dates, from the day the test runs: recent ones stay recent."""
    recent, prepared = today - timedelta(days=60), today - timedelta(days=90)
    return {
        "{{RECENT}}": written(recent),
        "{{PREPARED}}": written(prepared),
        "{{OLD}}": written(months_before(today, 18)),
        "{{OLDER}}": written(months_before(today, 20)),
        "{{RECENT_CY}}": written(recent, WELSH_MONTHS),
        "{{PREPARED_CY}}": written(prepared, WELSH_MONTHS),
    }


def reading(site: str, today: date | None = None) -> StatementReading:
    """The statement of a fixture site, as the page reader reads it."""
    html = (STATEMENTS / site / "accessibility-statement.html").read_text()
    for placeholder, value in replacements(today or date.today()).items():
        html = html.replace(placeholder, value)
    structure = parse_page(html).structure
    assert structure is not None and structure.statement is not None
    return structure.statement


def rules(found: list) -> list[str]:
    return [f.rule_id for f in found]


# --- reading and judging one statement ---


def test_a_statement_following_the_model_has_every_part() -> None:
    model = reading("model")
    assert model.scope and model.scope.endswith(
        "This accessibility statement applies to the Example Council website at this address."
    )
    assert (model.status, model.non_accessible, model.criteria) == (
        "partially",
        True,
        ("1.3.1", "2.4.6"),
    )
    assert model.contact == ("email",)
    assert model.enforcement == "https://www.equalityadvisoryservice.com/"
    assert not model.welsh
    assert statement_findings(model, FAILING, date.today()) == []


def test_a_welsh_statement_is_read_in_welsh() -> None:
    welsh = reading("welsh")
    assert welsh.welsh and welsh.scope and welsh.status == "partially"
    assert welsh.non_accessible and welsh.criteria == ("1.3.1", "2.4.6")
    assert welsh.prepared == (date.today() - timedelta(days=90)).isoformat()
    assert statement_findings(welsh, FAILING, date.today()) == []


def test_a_claim_of_full_compliance_is_judged_by_the_scan() -> None:
    full = reading("full")
    assert full.status == "fully" and not full.non_accessible
    assert statement_findings(full, {}, date.today()) == []
    (found,) = statement_findings(full, FAILING, date.today())
    assert found.rule_id == "statement-status-inconsistent" and found.impact == "serious"
    assert "1.3.1 Info and Relationships (1 page); 2.4.6 Headings and Labels (1 page)" in (
        found.summary or ""
    )


def test_criteria_the_scan_found_failing_are_listed_when_the_statement_leaves_them_out() -> None:
    (found,) = statement_findings(reading("model"), {**FAILING, "2.4.2": 3}, date.today())
    assert found.rule_id == "statement-criteria-unlisted"
    assert "1 WCAG success criterion this scan found failing: 2.4.2 Page Titled (3 pages)" in (
        found.summary or ""
    )


def test_a_review_is_overdue_the_day_after_twelve_months() -> None:
    model = reading("model", date(2026, 6, 1))  # last reviewed 60 days before: 2 April 2026
    assert model.reviewed == "2026-04-02"
    assert statement_findings(model, FAILING, date(2027, 4, 2)) == []
    assert rules(statement_findings(model, FAILING, date(2027, 4, 3))) == [
        "statement-review-overdue"
    ]


def test_an_empty_statement_lacks_every_part() -> None:
    bare = StatementReading(welsh=False)
    assert rules(statement_findings(bare, FAILING, date.today())) == [
        "statement-scope",
        "statement-status",
        "statement-criteria-unlisted",
        "statement-contact",
        "statement-enforcement",
        "statement-dates",
    ]
    partly = StatementReading(welsh=False, status="partially")
    assert "statement-non-accessible" in rules(statement_findings(partly, {}, date.today()))


def test_the_statement_is_the_configured_page_else_the_most_linked_that_names_it() -> None:
    pages = {"/a", "/s", "/help", "/cy/s"}
    linked = [
        ("/help", "Accessibility", 9),
        ("/s", "Accessibility statement", 5),
        ("/cy/s", "Datganiad hygyrchedd", 2),
        ("/gone", "Accessibility statement", 50),  # not a page of the scan
    ]
    assert choose_statements(linked, pages, None) == ["/cy/s", "/s"]
    assert choose_statements(linked, pages, "/a") == ["/a"]
    assert choose_statements([("/a", "Contact us", 9)], pages, None) == []


def test_no_statement_says_why() -> None:
    assert "No page of the site links" in (no_statement(None).summary or "")
    configured = no_statement("https://www.example.gov.uk/a11y").summary or ""
    assert "No accessibility statement was found at https://www.example.gov.uk/a11y" in configured
    page = no_statement(None, "https://www.example.gov.uk/help").summary or ""
    assert "(https://www.example.gov.uk/help) does not read as one" in page


def test_only_a_page_that_speaks_of_accessibility_is_read_as_a_statement() -> None:
    html = "<html><head><title>Bins</title></head><body><h1>Bins</h1></body></html>"
    assert parse_page(html).structure.statement is None  # type: ignore[union-attr]


def test_a_statement_url_that_is_not_a_url_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "site.toml"
    config.write_text('[statement]\nurl = "accessibility"\n')
    run = run_in_process("scan", "http://127.0.0.1:1/", "--config", str(config))
    assert run.returncode == 1
    assert run.errors == [
        f"Error: {config}: statement.url: 'accessibility' is not an absolute http(s) URL; "
        "give it as https://www.example.gov.uk/"
    ]


# --- five fixture statements, each scanned ---


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    """Each fixture site scanned without the browser: the empty heading its bins page has
    is the scan's one failure (WCAG 1.3.1 and 2.4.6)."""
    folder = tmp_path_factory.mktemp("statements")
    done = {}
    with serve_site(STATEMENTS, replacements=replacements(date.today())) as base:
        for site in ("model", "full", "noenforcement", "stale", "welsh", "nolink"):
            config = folder / f"{site}.toml"
            statement = f'url = "{base}/{site}/accessibility-statement.html"'
            config.write_text(
                "[links]\ncheck_external = false\n"
                + (f"[statement]\n{statement}\n" if site == "nolink" else "")
            )
            db = folder / f"{site}.db"
            result = run_siteaudit(
                "scan", f"{base}/{site}/", "--db", str(db), "--no-browser",
                "--checks", "headings,statement", "--config", str(config),
            )  # fmt: skip
            assert result.returncode == 0, result.stderr
            done[site] = (db, base)
    return done


def statement_rows(scans: dict[str, tuple[Path, str]], site: str) -> list[tuple[str, ...]]:
    db, base = scans[site]
    rows = query(
        db,
        "SELECT url, rule_id, scope, team FROM findings WHERE kind = 'statement' "
        "ORDER BY url, rule_id",
    )
    return [(url.removeprefix(f"{base}/{site}/"), *rest) for url, *rest in rows]


@pytest.mark.parametrize(
    ("site", "expected"),
    [
        ("model", []),
        ("full", ["statement-status-inconsistent"]),
        ("noenforcement", ["statement-enforcement"]),
        ("stale", ["statement-review-overdue"]),
        ("welsh", []),
    ],
)
def test_each_fixture_statement_gives_exactly_its_findings(
    scans: dict[str, tuple[Path, str]], site: str, expected: list[str]
) -> None:
    assert statement_rows(scans, site) == [
        ("accessibility-statement.html", rule, "content", "Unassigned") for rule in expected
    ]


def test_the_scan_found_the_failures_the_statements_are_judged_by(
    scans: dict[str, tuple[Path, str]],
) -> None:
    db, base = scans["full"]
    assert query(
        db, "SELECT url, wcag FROM findings WHERE kind = 'accessibility' AND outcome = 'violation'"
    ) == [(f"{base}/full/bins.html", "2.4.6,1.3.1")]
    (summary,) = query(db, "SELECT summary FROM findings WHERE kind = 'statement'")[0]
    assert "says the site is fully compliant, but this scan found failures of 2" in summary


def test_a_footer_without_the_link_is_one_problem_of_the_layout(
    scans: dict[str, tuple[Path, str]],
) -> None:
    """nolink's pages do not link to its statement, found through [statement] url alone."""
    rows = statement_rows(scans, "nolink")
    assert rows == [
        (page, "statement-link-missing", "template", "Web Team")
        for page in ("", "bins.html", "contact.html")
    ]
    db, _ = scans["nolink"]
    assert query(
        db, "SELECT count(DISTINCT fingerprint) FROM findings WHERE kind = 'statement'"
    ) == [(1,)]
    assert query(db, "SELECT found_via FROM pages WHERE url LIKE '%statement.html'") == [("start",)]


@pytest.mark.parametrize(
    ("site", "why"),
    [
        ("nolink", "the accessibility statement (statement.url)"),
        ("model", "the accessibility statement (it reads as one, and pages link to it)"),
    ],
)
def test_the_sample_takes_the_statement_the_check_found(
    scans: dict[str, tuple[Path, str]], site: str, why: str
) -> None:
    db, base = scans[site]
    result = run_siteaudit("sample", "--db", str(db))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    (at,) = [i for i, line in enumerate(lines) if "accessibility-statement" in line]
    assert f"{base}/{site}/accessibility-statement.html" in lines[at]
    assert why in lines[at + 1]  # the reasons, under the page


def test_statement_findings_are_in_the_team_report_and_its_csv(
    scans: dict[str, tuple[Path, str]], tmp_path: Path
) -> None:
    db, _ = scans["noenforcement"]
    out = tmp_path / "report"
    result = run_siteaudit("report", "--db", str(db), "--out", str(out))
    assert result.returncode == 0, result.stderr
    page = (out / "team-unassigned.html").read_text()
    assert "<h4>Accessibility statement (1)</h4>" in page
    assert RULES["statement-enforcement"].help in page
    assert "Equality Advisory and Support Service" in page
    with (out / "team-unassigned.csv").open(encoding="utf-8-sig") as f:
        rows = [row for row in csv.DictReader(f) if row["kind"] == "statement"]
    assert [row["rule_id"] for row in rows] == ["statement-enforcement"]


def test_a_site_without_a_statement_has_one_problem_for_the_layout(tmp_path: Path) -> None:
    db = tmp_path / "scan.db"
    with serve_site(SITES / "sitechecks") as base:
        result = run_siteaudit(
            "scan", base + "/", "--db", str(db), "--no-browser", "--checks", "headings,statement"
        )
    assert result.returncode == 0, result.stderr
    assert query(db, "SELECT url, rule_id, scope, team FROM findings WHERE kind = 'statement'") == [
        (base + "/", "statement-missing", "template", "Web Team")
    ]
    assert "  Accessibility statement: none found" in result.stderr
    # Not chosen (--checks without statement), the check finds nothing.
    with serve_site(SITES / "sitechecks") as base:
        result = run_siteaudit(
            "scan", base + "/", "--db", str(db), "--no-browser", "--checks", "headings"
        )
    assert result.returncode == 0, result.stderr
    assert query(db, "SELECT count(*) FROM findings WHERE kind = 'statement' AND scan_id = 2") == [
        (0,)
    ]


def test_an_attackers_statement_is_read_in_linear_time() -> None:
    """Runs of letters, word characters and dotted numbers that a careless pattern would
    read again from every position."""
    body = "a" * 90_000 + " " + "x." * 25_000 + " " + "1." * 25_000 + " x@" * 3000
    html = f"<html><head><title>Accessibility statement</title></head><body><main><p>{body}"
    started = time.monotonic()
    statement = parse_page(html + " reviewed on 1 May 2026</p></main></body></html>").structure
    assert statement is not None and statement.statement is not None
    assert statement.statement.reviewed == "2026-05-01"
    assert time.monotonic() - started < 5


def test_an_aim_is_no_claim_of_compliance() -> None:
    html = (
        "<html><head><title>Accessibility statement</title></head><body><main><p>We aim to "
        "make the site fully compliant with the Web Content Accessibility Guidelines.</p>"
        "</main></body></html>"
    )
    statement = parse_page(html).structure.statement  # type: ignore[union-attr]
    assert statement is not None and statement.status is None


def test_the_scan_summary_says_what_the_statement_check_found() -> None:
    on = [
        Finding(kind="statement", rule_id=rule, url="https://a.example/s")
        for rule in ("statement-scope", "statement-enforcement")
    ]
    unlinked = Finding(
        kind="statement", rule_id="statement-link-missing", url="https://a.example/x"
    )
    assert statement_line([*on, unlinked]) == (
        "  Accessibility statement: 2 problems on https://a.example/s; 1 page without a link to it"
    )
    assert statement_line([unlinked]) == "  Accessibility statement: 1 page without a link to it"
    assert statement_line([]) is None
