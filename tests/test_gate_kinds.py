"""siteaudit check --fail-on-kinds: content problems (broken links, documents, spelling) can
fail the gate when the policy names them, with the same baseline and decision rules."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import jsonschema
import pikepdf
import pytest
from lxml import etree

from app.demo import serve_site
from reports.gate import Baseline, Problem, evaluate
from reports.gate_policy import GatePolicy, PolicyError, parse_fail_on_kinds
from tests.conftest import Site, query, run_in_process, run_siteaudit
from tests.test_check import JUNIT_XSD, sarif_schema

TODAY = date(2026, 12, 3)
DEAD_SITE = "http://does-not-exist.invalid/"

# A release's page, clean for axe-core, that adds a broken link to a page of its own site
# (and one to another site that does not exist), and links its new document.
RELEASE_PAGE = f"""<!doctype html>
<html lang="en"><head><title>Bin collection changes</title></head>
<body><main><h1>Bin collection changes</h1>
<p>Read <a href="/bins/collection-days.html">the new collection days</a> and
<a href="/report.pdf">the waste report</a>, or ask
<a href="{DEAD_SITE}">the contractor</a>.</p>
</main></body></html>
"""


def content_problem(
    kind: str, impact: str, rule_id: str = "r", outcome: str = "violation"
) -> Problem:
    return Problem(
        page="/page.html",
        url="https://www.example.gov.uk/page.html",
        fingerprint=f"{kind}:{rule_id}",
        rule_id=rule_id,
        impact=impact,
        outcome=outcome,
        wcag=None,
        selector="[]",
        help="Help",
        help_url="",
        kind=kind,
        summary="“recieve” is misspelt.\nWrite “receive”.",
    )


def policy(kinds: str, fail_on: str = "serious") -> GatePolicy:
    return GatePolicy(fail_on, kinds=parse_fail_on_kinds(kinds))


# The policy itself: which kinds, at what level.


def test_by_default_only_accessibility_can_fail() -> None:
    spelling = content_problem("spelling", "critical")
    assert not evaluate([spelling], [], None, [], GatePolicy(), TODAY).failing


def test_a_named_spelling_finding_fails_and_passes_when_not_named() -> None:
    spelling = content_problem("spelling", "minor")
    named = evaluate([spelling], [], None, [], policy("accessibility,spelling"), TODAY)
    assert named.failing == [spelling] and named.exit_code == 2
    unnamed = evaluate([spelling], [], None, [], policy("accessibility"), TODAY)
    assert unnamed.exit_code == 0 and not unnamed.new


def test_a_content_kind_level_is_its_own_threshold() -> None:
    external = content_problem("broken-link", "moderate", "broken-link-external")
    internal = content_problem("broken-link", "serious", "broken-link-internal")
    result = evaluate([external, internal], [], None, [], policy("broken-link:serious"), TODAY)
    assert result.failing == [internal] and result.new_below_threshold == [external]
    # Accessibility's level stays --fail-on, whatever the content kinds' levels.
    assert policy("accessibility,spelling:critical", "minor").threshold("accessibility") == "minor"


def test_an_exempt_document_never_fails() -> None:
    exempt = content_problem("document", "critical", outcome="exempt")
    assert not evaluate([exempt], [], None, [], policy("document"), TODAY).failing


def test_content_rules_are_never_new_rules_of_the_baseline() -> None:
    """The baseline's rule list is axe-core's and the own checks': a content finding not
    in the baseline is new, not a rule new since it."""
    baseline = Baseline("b.json", "4.10.0", frozenset({"image-alt"}), frozenset())
    problem = content_problem("spelling", "minor")
    result = evaluate([problem], [], baseline, [], policy("spelling"), TODAY)
    assert result.failing == [problem] and not result.new_rules


def test_a_waiver_by_rule_sets_content_problems_aside(tmp_path: Path) -> None:
    from app.check import load_gate_decisions

    waivers = tmp_path / "waivers.toml"
    waivers.write_text(
        '[[waiver]]\nrule = "broken-link-internal"\nurl = "/page*"\n'
        'reason = "The old plan returns next week"\napproved_by = "Planning"\n'
        "expires = 2027-01-31\n"
    )
    link = content_problem("broken-link", "serious", "broken-link-internal")
    other = replace(link, page="/other.html")
    result = evaluate(
        [link, other], [], None, load_gate_decisions(str(waivers)), policy("broken-link"), TODAY
    )
    assert [p for p, _ in result.decided] == [link] and result.failing == [other]


def test_a_broken_internal_link_is_the_same_problem_on_any_host() -> None:
    from reports.gate import problem_from
    from vocabulary.findings import Finding

    def broken(host: str) -> Problem:
        target = f"https://{host}/planning/old-plan.html"
        finding = Finding(
            "broken-link", "broken-link-internal", snippet=target, fingerprint="broken-link:" + host
        )
        return problem_from(finding.placed(f"https://{host}/planning/", None))

    live, staging = broken("www.example.gov.uk"), broken("staging.example.gov.uk")
    assert live.fingerprint != staging.fingerprint and live.key == staging.key


@pytest.mark.parametrize(
    "text, message",
    [
        ("accessibility,speling", "unknown kind 'speling': give a comma-separated list of "),
        ("broken-link:severe", "unknown impact 'severe'"),
        ("accessibility:critical", "accessibility's level is --fail-on"),
        ("spelling,spelling", "'spelling' is named twice"),
        (" , ", "names no kind"),
    ],
)
def test_a_bad_policy_is_refused(text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_fail_on_kinds(text)


def test_an_unknown_kind_is_one_error_line_before_any_scan() -> None:
    run = run_in_process(
        "check", "https://www.example.gov.uk/", "--fail-on-kinds", "accessibility,typos"
    )
    assert run.returncode == 1
    (error,) = run.errors
    assert error.startswith("Error: --fail-on-kinds: unknown kind 'typos': ")
    assert "accessibility, broken-link, document, readability, stale, spelling" in error


def test_an_old_baseline_file_cannot_gate_content_kinds(tmp_path: Path) -> None:
    """A baseline exported before issue 17 holds accessibility problems alone: gating on a
    content kind with it would count every old broken link as new."""
    old = tmp_path / "baseline.json"
    old.write_text(json.dumps({"siteaudit_baseline": 1, "problems": []}))
    run = run_in_process(
        "check",
        "https://www.example.gov.uk/",
        "--baseline",
        str(old),
        "--fail-on-kinds",
        "accessibility,broken-link",
    )
    assert run.returncode == 1
    assert run.errors == [
        f"Error: {old}: this baseline records no broken-link problems (it was exported "
        "before the gate judged them): export it again with siteaudit baseline export, or "
        "leave them out of --fail-on-kinds"
    ]


def test_content_problems_from_a_page_are_escaped_in_every_output(tmp_path: Path) -> None:
    """A link's text and a word are the page's: they reach no terminal, XML, SARIF or
    Markdown as written, and a document with failures gets its own JUnit testcase."""
    from reports.ci_outputs import terminal_summary, write_junit, write_markdown, write_sarif
    from reports.gate import PageStatus
    from tests.test_hostile_outputs import assert_safe_markdown, assert_valid_gate_outputs

    link = content_problem("broken-link", "serious", "broken-link-internal")
    link = replace(link, summary="“<script>x</script>|\x1b[2J](javascript:x)” goes nowhere.")
    document = replace(
        content_problem("document", "serious", "pdf-untagged"),
        page="/report.pdf",
        url="https://www.example.gov.uk/report.pdf",
        help_url="javascript:alert(1)",
    )
    spelling = replace(content_problem("spelling", "minor"), summary="![x](https://evil/x.png)")
    pages = [PageStatus("https://www.example.gov.uk/page.html", None)]
    result = evaluate(
        [link, document, spelling], pages, None, [], policy("broken-link,document,spelling"), TODAY
    )
    assert len(result.failing) == 3
    write_junit(result, tmp_path / "junit.xml")
    write_sarif(result, tmp_path / "out.sarif", "0", "4.14.1")
    write_markdown(result, tmp_path / "summary.md")
    assert_valid_gate_outputs(tmp_path / "junit.xml", tmp_path / "out.sarif")
    assert_safe_markdown((tmp_path / "summary.md").read_text(), rows=3)
    assert "\x1b" not in terminal_summary(result)
    sarif = json.loads((tmp_path / "out.sarif").read_text())
    assert "javascript:" not in json.dumps(sarif["runs"][0]["tool"])
    cases = etree.parse(str(tmp_path / "junit.xml")).findall(".//testcase")
    assert [c.get("name") for c in cases] == [
        "https://www.example.gov.uk/page.html",
        "https://www.example.gov.uk/report.pdf",
    ]


# Real checks of a release on a local site, in Chromium (axe-core alone).


@pytest.fixture(scope="module")
def release_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A release page with a broken internal link, and an untagged PDF with no title."""
    root = tmp_path_factory.mktemp("release")
    (root / "release.html").write_text(RELEASE_PAGE, encoding="utf-8")
    pdf = pikepdf.Pdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    pdf.save(root / "report.pdf")
    with serve_site(root) as base:
        yield Site(base, root)


def check(site: Site, *options: str, base: str | None = None) -> tuple[int, str]:
    urls = [(base or site.base) + path for path in ("/release.html", "/report.pdf")]
    result = run_siteaudit("check", *urls, "--checks", "axe", "--browsers", "1", *options)
    assert "Error" not in result.stderr, result.stderr
    return result.returncode, result.stdout


@pytest.fixture(scope="module")
def gated_db(release_site: Site, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The release checked with broken links in the policy; its database is a baseline."""
    db = tmp_path_factory.mktemp("gated") / "check.db"
    code, out = check(release_site, "--fail-on-kinds", "accessibility,broken-link", "--db", str(db))
    assert code == 2, out
    return db


@pytest.mark.browser
def test_a_broken_link_does_not_fail_the_default_gate(release_site: Site) -> None:
    code, out = check(release_site)
    assert code == 0, out
    assert "Gate: PASSED" in out and "broken-link" not in out


@pytest.mark.browser
def test_a_new_broken_internal_link_fails_when_the_policy_names_it(
    release_site: Site, gated_db: Path, tmp_path: Path
) -> None:
    outputs = {"--junit": "junit.xml", "--sarif": "out.sarif", "--markdown": "summary.md"}
    options = [x for flag, name in outputs.items() for x in (flag, str(tmp_path / name))]
    code, out = check(release_site, "--fail-on-kinds", "accessibility,broken-link", *options)
    assert code == 2, out
    assert (
        "[serious] broken-link-internal (broken-link) on /release.html: “the new collection "
        "days” goes to a page on this site that answered 404." in out
    )
    # Named alone, a content kind fails on any impact: the other site's dead link too.
    assert "[moderate] broken-link-external (broken-link) on /release.html" in out
    assert "Gate: FAILED: 2 new problem(s) at or above --fail-on-kinds " in out
    # The document is no kind of this policy: not judged, not shown.
    assert "document" not in out
    # The link's target was checked by its status alone, as a link, never audited.
    assert query(gated_db, "SELECT kind, status_code FROM fetches WHERE url LIKE '%/bins/%'") == [
        ("link", 404)
    ]

    junit = etree.parse(str(tmp_path / "junit.xml"))
    assert etree.XMLSchema(etree.parse(str(JUNIT_XSD))).validate(junit)
    assert {f.get("type") for f in junit.findall(".//failure")} == {
        "broken-link-internal",
        "broken-link-external",
    }
    sarif = json.loads((tmp_path / "out.sarif").read_text())
    jsonschema.validate(sarif, sarif_schema())
    rules = {r["id"]: r for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    internal = rules["broken-link-internal"]
    assert internal["helpUri"] == "https://www.gov.uk/guidance/content-design/links"
    assert internal["properties"]["tags"] == ["broken-link"]
    assert internal["fullDescription"]["text"].startswith("A link whose target")
    (result,) = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "broken-link-internal"]
    assert result["level"] == "error" and result["properties"]["kind"] == "broken-link"
    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith("## Release gate: FAILED: 2 new problem(s)")
    assert (
        "| serious | [broken-link-internal](https://www.gov.uk/guidance/content-design/links)"
        in (summary)
    )


@pytest.mark.browser
def test_a_document_failing_its_checks_fails_when_the_policy_names_it(
    release_site: Site, tmp_path: Path
) -> None:
    junit = tmp_path / "junit.xml"
    code, out = check(
        release_site, "--fail-on-kinds", "accessibility,document", "--junit", str(junit)
    )
    assert code == 2, out
    assert "(document) on /report.pdf: " in out and "broken-link" not in out
    # The document is no page: its failures are a testcase of their own.
    (case,) = [
        c for c in etree.parse(str(junit)).findall(".//testcase") if c.get("name").endswith(".pdf")
    ]
    assert case.findall("failure")


@pytest.mark.browser
def test_the_baseline_holds_content_problems_across_hosts(
    release_site: Site, gated_db: Path, tmp_path: Path
) -> None:
    """Exported from the live site's scan, the baseline holds on staging: a broken internal
    link is the same problem whatever host its target names."""
    baseline = tmp_path / "baseline.json"
    exported = run_siteaudit("baseline", "export", "--db", str(gated_db), "--out", str(baseline))
    assert exported.returncode == 0, exported.stderr
    staging = release_site.base.replace("127.0.0.1", "localhost")
    kinds = "accessibility,broken-link,document"
    code, out = check(
        release_site, "--fail-on-kinds", kinds, "--baseline", str(baseline), base=staging
    )
    assert code == 0, out
    assert "New problems" not in out
    assert "already in baseline" in out and "Gate: PASSED" in out


@pytest.mark.browser
def test_a_decided_broken_link_does_not_fail(
    release_site: Site, gated_db: Path, tmp_path: Path
) -> None:
    ((fingerprint,),) = query(
        gated_db, "SELECT fingerprint FROM findings WHERE rule_id = 'broken-link-internal'"
    )
    decisions = tmp_path / "decisions.toml"
    decisions.write_text(
        "[[decision]]\n"
        f'fingerprint = "{fingerprint}"\n'
        'page = "/release.html"\n'
        'decision = "fixed-pending"\n'
        'reason = "The collection days page publishes with the next release"\n'
    )
    code, out = check(
        release_site,
        "--fail-on-kinds",
        "accessibility,broken-link:serious",
        "--decisions",
        str(decisions),
    )
    assert code == 0, out
    assert "Decided or waived, not failing (1):" in out
    assert "broken-link-internal (broken-link) on /release.html" in out
    # The other site's dead link is moderate: below broken-link:serious, reported only.
    assert "New problems below --fail-on-kinds accessibility:serious,broken-link:serious (1):" in (
        out
    )


# A release page whose only problem is a misspelt word (clean for axe-core).
MISSPELT_PAGE = """<!doctype html>
<html lang="en"><head><title>Garden waste</title></head>
<body><main><h1>Garden waste</h1>
<p>You will recieve a new brown bin for your garden waste within two weeks.</p>
</main></body></html>
"""


@pytest.mark.browser
def test_a_new_misspelling_fails_the_gate_only_when_the_policy_names_spelling(
    tmp_path: Path,
) -> None:
    (tmp_path / "garden.html").write_text(MISSPELT_PAGE, encoding="utf-8")
    with serve_site(tmp_path) as base:
        url = f"{base}/garden.html"
        options = ("--checks", "axe", "--browsers", "1")
        named = run_siteaudit("check", url, *options, "--fail-on-kinds", "accessibility,spelling")
        default = run_siteaudit("check", url, *options)
    assert named.returncode == 2, named.stdout + named.stderr
    assert "misspelling (spelling) on /garden.html" in named.stdout
    assert "recieve" in named.stdout
    assert default.returncode == 0, default.stdout + default.stderr
    assert "Gate: PASSED" in default.stdout and "recieve" not in default.stdout
