"""The shared vocabulary and the checks that run once the crawl ends, without a crawl."""

from __future__ import annotations

import pytest

from audits.document_findings import document_findings
from audits.document_report import DocumentIssue, DocumentReport
from audits.links import CheckedLink, broken_link_finding
from audits.templates import template_fingerprints, template_threshold
from vocabulary.findings import Finding, selector_text
from vocabulary.impacts import IMPACTS, at_least, impact_rank, severity


def link(status: int | None = None, error: str | None = None, internal: bool = True) -> CheckedLink:
    return CheckedLink(
        "https://example.gov.uk/a", "https://example.gov.uk/b", "Bins", internal, status, error
    )


def test_impacts_run_from_critical_to_minor_and_unknown_ones_count_as_minor() -> None:
    assert IMPACTS == ("critical", "serious", "moderate", "minor")
    ranks = [impact_rank(i) for i in (*IMPACTS, None, "bogus")]
    assert ranks == sorted(ranks) and len(set(ranks)) == 6
    assert [severity(i) for i in IMPACTS] == [3, 2, 1, 0]
    assert severity(None) == severity("bogus") == severity("minor")
    assert at_least("serious", "serious") and not at_least("moderate", "serious")


def test_a_finding_is_a_row_of_the_findings_table_and_reads_back_the_same() -> None:
    finding = Finding("stale", "stale", impact="moderate", fingerprint="stale:stale")
    row = finding.placed("https://example.gov.uk/a", "Waste").row(7)
    assert row["scan_id"] == 7 and row["url"] == "https://example.gov.uk/a"
    assert row["team"] == "Waste" and row["scope"] == "content" and row["outcome"] == "violation"
    assert Finding.from_row(row) == finding.placed("https://example.gov.uk/a", "Waste")


@pytest.mark.parametrize(
    ("selector", "text"),
    [
        ('["#main img"]', "#main img"),
        ('["iframe", ["#x", "button"]]', "iframe ➜ #x button"),
        (None, ""),
        ("not json", "not json"),
        ('{"a": 1}', "{'a': 1}"),
    ],
)
def test_selector_text(selector: str | None, text: str) -> None:
    assert selector_text(selector) == text


def test_a_link_is_broken_when_its_target_answered_an_error_or_could_not_be_reached() -> None:
    internal = broken_link_finding(link(404))
    assert internal is not None and internal.rule_id == "broken-link-internal"
    assert (
        internal.impact == "serious"
        and "“Bins” goes to a page on this site that answered 404" in (internal.summary or "")
    )
    external = broken_link_finding(link(error="DNS lookup failed", internal=False))
    assert external is not None and external.rule_id == "broken-link-external"
    assert external.impact == "moderate" and external.snippet == "https://example.gov.uk/b"
    assert broken_link_finding(link(200)) is None
    assert broken_link_finding(link(399)) is None
    assert broken_link_finding(link(error="disallowed by robots.txt")) is None


def test_a_problem_lives_in_the_template_from_the_threshold_on() -> None:
    assert template_threshold(10, min_pages=3, min_share=0.5) == 5
    assert template_threshold(2, min_pages=3, min_share=0.5) == 3
    assert template_threshold(11, min_pages=3, min_share=0.5) == 6
    spread = {"a": 6, "b": 5, "c": 4}
    assert template_fingerprints(spread, 5) == {"a", "b"}


def test_an_exempt_document_keeps_its_findings_marked_exempt() -> None:
    issue = DocumentIssue("pdf-untagged", "serious", "1.3.1", "Tag it.", "PDF is not tagged")
    report = DocumentReport(
        "pdf", "Bands", None, 1, "2017-01-01", None, False, True, False, True, [issue]
    )
    (finding,) = document_findings(report)
    assert (finding.kind, finding.outcome, finding.fingerprint) == (
        "document",
        "exempt",
        "document:pdf-untagged",
    )
    assert finding.snippet == "Bands" and finding.wcag == "1.3.1"
