"""The statement's draft, the sample and its retest on a small site changed between two
scans (issue 16): documents and the 2018 exemption, fixed / still failing / new, escaping,
and bad input refused with one line."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pikepdf
import pytest
from pikepdf import Name

from app.demo import serve_site
from reports.sample import section_of
from reports.statement import publication_day
from store.database import open_database
from tests.conftest import query, run_in_process, run_siteaudit
from vocabulary.coverage import WCAG21_AA, covered_criteria

HOSTILE_TITLE = "Parks <script>alert(1)</script> [x](javascript:alert(1)) *now* | `c`"
SECTIONS = ("waste", "tax", "parks")


def empty_heading(section: str) -> str:
    """An empty heading of the page's own (its own fingerprint): 1.3.1 and 2.4.6 fail."""
    return f'<p>Intro.</p><h2 class="part-{section}"></h2>'


def write_site(root: Path, broken: set[str]) -> None:
    """A home page linking three sections; the sections in `broken` have an empty heading;
    /tax/ links three PDFs: created in 2015, in 2020, and with no date."""
    links = "".join(f'<li><a href="/{s}/">The {s} section</a></li>' for s in SECTIONS)
    bodies = {"": f"<h1>Home</h1><ul>{links}</ul>"}
    for section in SECTIONS:
        body = f"<h1>About {section}</h1>" + (empty_heading(section) if section in broken else "")
        if section == "tax":  # the same heading twice: needs review (2.4.6)
            body += "<h2>Forms</h2><p>One.</p><h2>Forms</h2><p>Two.</p>"
            body += "".join(
                f'<p><a href="/docs/{name}.pdf">The {name} leaflet (PDF)</a></p>'
                for name in ("old", "new", "undated")
            )
        bodies[section] = body
    for section, body in bodies.items():
        folder = root / section
        folder.mkdir(parents=True, exist_ok=True)
        title = HOSTILE_TITLE if section == "parks" else f"{section or 'Home'} - Council"
        (folder / "index.html").write_text(
            f'<!DOCTYPE html><html lang="en"><head><title>{title}</title></head>'
            f"<body><main>{body}</main></body></html>"
        )


def write_pdfs(folder: Path) -> None:
    """Untagged PDFs with no title or language, so each fails its checks."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, created in (("old", "D:20150101"), ("new", "D:20200101"), ("undated", None)):
        pdf = pikepdf.Pdf.new()
        pdf.add_blank_page(page_size=(595, 842))
        if created:
            pdf.docinfo[Name.CreationDate] = created
        pdf.save(folder / f"{name}.pdf")


def scan(db: Path, base: str) -> None:
    result = run_siteaudit(
        "scan", base + "/", "--db", str(db), "--no-browser", "--checks", "headings"
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def two_scans(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Scan 1: /waste/ and /parks/ fail. Scan 2: /waste/ fixed, /tax/ new, /parks/ still."""
    tmp = tmp_path_factory.mktemp("statement")
    site, db = tmp / "site", tmp / "scan.db"
    write_pdfs(site / "docs")
    with serve_site(site) as base:
        write_site(site, {"waste", "parks"})
        scan(db, base)
        write_site(site, {"tax", "parks"})
        scan(db, base)
    yield db


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_retest_lists_fixed_still_failing_and_new(two_scans: Path, tmp_path: Path) -> None:
    out = tmp_path / "retest.csv"
    result = run_siteaudit("sample", "--db", str(two_scans), "--retest", "1", "--out", str(out))
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    found = sorted((path_of(r["page"]), r["criterion"], r["status"]) for r in rows)
    assert found == [
        ("/parks/", "1.3.1", "still failing"),
        ("/parks/", "2.4.6", "still failing"),
        ("/tax/", "1.3.1", "new"),
        ("/tax/", "2.4.6", "new"),
        ("/waste/", "1.3.1", "fixed"),
        ("/waste/", "2.4.6", "fixed"),
    ]
    table = run_siteaudit("sample", "--db", str(two_scans), "--retest", "1")
    assert table.returncode == 0, table.stderr
    assert "in scan 2" in table.stdout and "2 still failing, 2 new, 2 fixed" in table.stdout
    page = tmp_path / "retest.html"
    html = run_siteaudit("sample", "--db", str(two_scans), "--retest", "1", "--out", str(page))
    assert html.returncode == 0, html.stderr
    text = page.read_text(encoding="utf-8")
    assert "<h1>Retest of the sample of scan 1</h1>" in text
    assert "<li>Fixed: 2</li>" in text and "<li>New: 2</li>" in text


def test_sample_gives_each_section_and_the_document_page(two_scans: Path) -> None:
    result = run_siteaudit("sample", "--db", str(two_scans))
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "why: the home page" in text
    for section in SECTIONS:
        assert f"why: the top-level section /{section}/" in text
    assert "/tax/" in text and "a page linking to a document" in text
    assert "Not found in the scan: a contact page; an accessibility statement" in text
    tax = text.split("/tax/  ", 1)[1].split("\n 4. ", 1)[0]
    assert "needs review: 2.4.6 (siteaudit-heading-duplicate)" in tax


def test_checklist_holds_needs_review_and_what_no_rule_covers(
    two_scans: Path, tmp_path: Path
) -> None:
    out = tmp_path / "sample.csv"
    result = run_siteaudit("sample", "--db", str(two_scans), "--scan", "1", "--out", str(out))
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    checklist: dict[str, dict[str, str]] = {}
    for row in rows:
        checklist.setdefault(path_of(row["page"]), {})[row["criterion"]] = row["why_by_hand"]
    assert set(checklist) == {"/", "/waste/", "/tax/", "/parks/"}
    # Without the browser no axe rule ran: 1.1.1 and 1.4.3 are for a person everywhere.
    assert checklist["/parks/"]["1.1.1"] == "no automatic check covers it"
    assert "1.4.3" in checklist["/"]
    # The headings check covers 2.4.6: on the checklist only where it asked for review.
    assert "2.4.6" not in checklist["/parks/"]
    assert (
        checklist["/tax/"]["2.4.6"] == "needs review: siteaudit-heading-duplicate could not decide"
    )
    assert len(checklist["/parks/"]) == 50 - 3  # WCAG 2.1 A and AA less 2.4.6, 1.3.1, 3.3.2


def test_draft_sorts_failing_documents_by_the_2018_exemption(
    two_scans: Path, tmp_path: Path
) -> None:
    out = tmp_path / "statement.md"
    result = run_siteaudit("statement", "--db", str(two_scans), "--out", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Accessibility statement")
    assert "This is a draft. A person must check and edit it" in text
    scope = text.split("### Content that's not within the scope", 1)[1]
    in_scope = text.split("#### Documents published on or after", 1)[1].split("###", 1)[0]
    assert "/docs/new.pdf" in in_scope and "created 2020-01-01" in in_scope
    assert "/docs/old.pdf" not in in_scope and "/docs/old.pdf" in scope
    assert "created 2015-01-01" in scope
    undated = scope.split("with no date to show when", 1)[1]
    assert "/docs/undated.pdf" in undated and "cannot be decided" in undated
    assert "### Disproportionate burden" in text and "[To complete:" in text
    assert "did not audit the pages in a browser" in text
    started = query(two_scans, "SELECT substr(started_at, 1, 10) FROM scans WHERE id = 2")[0][0]
    assert "scan 2 of" in text and f"run on {started}" in text


def test_page_text_is_escaped_in_every_output(two_scans: Path, tmp_path: Path) -> None:
    texts = {}
    for name in ("statement.md", "statement.html", "sample.csv", "sample.html"):
        command = "statement" if name.startswith("statement") else "sample"
        out = tmp_path / name
        result = run_siteaudit(command, "--db", str(two_scans), "--out", str(out))
        assert result.returncode == 0, result.stderr
        texts[name] = out.read_text(encoding="utf-8-sig")
    markdown = texts["statement.md"]
    assert "<script>" not in markdown and "[x](javascript:" not in markdown
    assert r"Parks \<script\>alert(1)\</script\> \[x\](javascript:alert(1)) \*now\* \| \`c\`" in (
        markdown
    )
    for name in ("statement.html", "sample.html"):
        assert "<script>" not in texts[name] and "&lt;script&gt;alert(1)" in texts[name], name
        assert 'href="javascript' not in texts[name], name
    assert HOSTILE_TITLE in texts["sample.csv"]  # a CSV cell holds it as text


@pytest.fixture
def no_finished_scan(tmp_path: Path) -> Path:
    db = tmp_path / "running.db"
    database = open_database(db)
    database["scans"].insert({"started_at": "2026-12-01", "status": "running", "start_url": "x"})
    database.conn.commit()
    return db


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("statement", "--db", "{missing}", "--out", "{tmp}/s.md"), "{missing}"),
        (("statement", "--db", "{empty}", "--out", "{tmp}/s.md"), "no finished scan"),
        (("sample", "--db", "{empty}"), "no finished scan"),
        (("statement", "--db", "{db}", "--scan", "99", "--out", "{tmp}/s.md"), "--scan 99"),
        (("sample", "--db", "{db}", "--scan", "99"), "--scan 99"),
        (("statement", "--db", "{db}", "--out", "{tmp}/no/such/s.md"), "does not exist"),
        (("statement", "--db", "{db}", "--out", "{tmp}/s.pdf"), "unknown format .pdf"),
        (("sample", "--db", "{db}", "--out", "{tmp}/s.md"), "unknown format .md"),
        (("sample", "--db", "{db}", "--retest", "2"), "no finished scan of the same site after"),
        (("sample", "--db", "{db}", "--retest", "99"), "--retest 99: there is no scan 99"),
        (("sample", "--db", "{db}", "--retest", "1", "--scan", "1"), "not later than scan 1"),
        (("statement", "--db", "{empty}", "--scan", "1", "--out", "{tmp}/s.md"), "is running"),
    ],
)
def test_bad_input_is_one_error_line(
    args: tuple[str, ...], error: str, two_scans: Path, no_finished_scan: Path, tmp_path: Path
) -> None:
    places = {
        "db": str(two_scans),
        "empty": str(no_finished_scan),
        "missing": str(tmp_path / "missing.db"),
        "tmp": str(tmp_path),
    }
    result = run_in_process(*(a.format(**places) for a in args))
    assert result.returncode == 1
    assert len(result.errors) == 1, result.stderr
    assert error.format(**places) in result.errors[0]
    assert not list(tmp_path.glob("s.*"))


def test_criteria_covered_by_the_rules_a_scan_ran() -> None:
    assert len(WCAG21_AA) == 50 and "2.5.8" not in WCAG21_AA and "2.1.3" not in WCAG21_AA
    assert covered_criteria(["color-contrast", "image-alt"], "2.1-AA") == {"1.4.3", "1.1.1"}
    assert covered_criteria(["color-contrast", "image-alt"], "2.1-A") == {"1.1.1"}
    assert covered_criteria(["siteaudit-reflow", "region"], "2.1-AA") == {"1.4.10"}


def test_publication_day_and_sections() -> None:
    assert publication_day("2015-01-01", "2019-03-15") == (date(2015, 1, 1), "created")
    assert publication_day(None, "2019-03-15") == (date(2019, 3, 15), "modified")
    assert publication_day("not a date", None) == (None, None)
    assert [section_of(f"http://x{p}") for p in ("/", "/a.html", "/news/", "/news/a.html")] == [
        None,
        None,
        "news",
        "news",
    ]
