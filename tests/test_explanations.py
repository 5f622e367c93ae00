"""Every axe rule a scan can report has a plain-English explanation that reads at the target age."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from functools import cache

import pytest
from bs4 import BeautifulSoup

from audits.content import readability_finding
from audits.readability import measure
from audits.statement import RULES
from browser.axe_core import axe_source_path
from reports.data import issue_from
from reports.html import environment
from settings.model import AuditConfig, ReadabilityConfig
from vocabulary.checks import OWN_RULES
from vocabulary.explanations import (
    TEXT_FIELDS,
    WHO_FIXES,
    Criterion,
    all_explanations,
    explanation_for,
)
from vocabulary.findings import Finding
from vocabulary.wcag import criteria_from_tags, run_only_tags

# Rules axe-core itself lists for the tags a scan runs with, as app/scan.py asks for them.
GET_RULES = """
const axe = require(process.argv[1]);
const rules = axe.getRules(JSON.parse(process.argv[2]));
console.log(JSON.stringify(Object.fromEntries(rules.map((r) => [r.ruleId, r.tags]))));
"""


@cache
def axe_rules(best_practices: bool) -> dict[str, list[str]]:
    """Rule id -> tags of every rule axe-core runs at the default level, by asking axe-core."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed to read axe-core's rule list (see scripts/setup.sh)")
    tags = run_only_tags(AuditConfig().wcag, best_practices)
    result = subprocess.run(
        [node, "-e", GET_RULES, str(axe_source_path()), json.dumps(tags)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


def all_rules() -> dict[str, list[str]]:
    return axe_rules(best_practices=True)


def test_axe_lists_the_rules_of_both_sets() -> None:
    default, with_best_practice = axe_rules(False), axe_rules(True)
    assert {"image-alt", "color-contrast", "label"} <= set(default)
    assert "region" not in default and "region" in with_best_practice
    assert set(default) < set(with_best_practice)


def test_every_rule_in_the_default_and_best_practice_sets_has_an_explanation() -> None:
    missing = sorted(rule for rule in all_rules() if explanation_for(rule) is None)
    assert missing == []


def test_there_is_no_explanation_for_a_rule_neither_axe_nor_siteaudit_has() -> None:
    assert sorted(set(all_explanations()) - set(all_rules()) - set(OWN_RULES) - set(RULES)) == []
    assert explanation_for("no-such-rule") is None


def test_every_field_is_filled_and_who_fixes_is_from_the_fixed_list() -> None:
    for rule_id, explanation in all_explanations().items():
        assert explanation.rule_id == rule_id
        for name in TEXT_FIELDS:
            assert len(getattr(explanation, name).split()) >= 3, (rule_id, name)
        assert explanation.who_fixes in WHO_FIXES, rule_id
        assert explanation.standard(), rule_id


def test_criteria_are_the_ones_axe_tags_the_rule_with() -> None:
    for rule_id, tags in all_rules().items():
        explanation = explanation_for(rule_id)
        assert explanation is not None
        assert [c.number for c in explanation.criteria] == criteria_from_tags(tags), rule_id
        # A rule at the WCAG level has a criterion; a best-practice rule has none.
        assert bool(explanation.criteria) == ("best-practice" not in tags), rule_id


def test_a_criterion_is_shown_by_number_name_and_level() -> None:
    image_alt = explanation_for("image-alt")
    assert image_alt is not None
    assert image_alt.criteria == (Criterion("1.1.1", "Non-text Content", "A"),)
    assert image_alt.standard() == "1.1.1 Non-text Content (Level A)"
    contrast = explanation_for("color-contrast")
    assert contrast is not None and contrast.standard() == "1.4.3 Contrast (Minimum) (Level AA)"
    region = explanation_for("region")
    assert region is not None and region.standard() == "Good practice: not required by WCAG"


@pytest.mark.parametrize("rule_id", sorted(all_explanations()))
def test_each_explanation_reads_at_the_default_reading_age_target(rule_id: str) -> None:
    """Judged as content findings judge a page (audits/content.py), at any length of text."""
    explanation = explanation_for(rule_id)
    assert explanation is not None
    readability = measure(explanation.texts(), lang="en-GB")
    target = ReadabilityConfig().max_reading_age
    assert readability.measured
    assert readability_finding(readability, target, min_words=0) is None, (
        f"{rule_id} reads at age {readability.reading_age} (target {target:g})"
    )


def test_the_texts_hold_no_html() -> None:
    markup = re.compile(r"[<>]|&[#\w]+;")
    for rule_id, explanation in all_explanations().items():
        for text in explanation.texts():
            assert not markup.search(text), (rule_id, text)


def rendered_issue(finding: Finding) -> BeautifulSoup:
    """One issue as the team page shows it, through the report's own macro."""
    template = environment().from_string(
        '{% from "macros.html" import issue_block %}{{ issue_block(issue) }}'
    )
    return BeautifulSoup(template.render(issue=issue_from(finding)), "html.parser")


def test_the_report_shows_the_explanation_and_folds_axes_text_into_technical_details() -> None:
    page = rendered_issue(
        Finding(
            kind="accessibility",
            rule_id="image-alt",
            impact="critical",
            wcag="1.1.1",
            summary="Fix any of the following: Element does not have an alt attribute",
            help="Images must have alternative text",
            help_url="https://dequeuniversity.com/rules/axe/4.14/image-alt",
        )
    )
    facts = {dt.get_text(): dt.find_next_sibling("dd").get_text() for dt in page.select("dl dt")}
    image_alt = explanation_for("image-alt")
    assert image_alt is not None
    assert facts["What is wrong"] == image_alt.what_is_wrong
    assert facts["How to fix it"] == image_alt.how_to_fix
    assert facts["Who fixes it"] == "Page editor"
    assert facts["WCAG"] == "1.1.1 Non-text Content (Level A)"
    details = page.find("details")
    assert details is not None and details.summary.get_text() == "Technical details"
    assert "Element does not have an alt attribute" in details.get_text()
    assert details.find("a")["href"].startswith("https://dequeuniversity.com/")
    assert not page.find("script")


def test_a_finding_without_an_explanation_is_shown_as_before() -> None:
    page = rendered_issue(
        Finding(kind="readability", rule_id="reading-age", summary="Reading age 14", help="Hard")
    )
    assert page.find("details") is None
    assert "Reading age 14" in page.find("pre").get_text()
    # A content check that shares no id with axe never borrows an axe rule's explanation.
    assert issue_from(Finding(kind="broken-link", rule_id="link-name")).explanation is None


def test_every_rule_of_the_statement_check_has_an_explanation_naming_the_law() -> None:
    for rule_id in RULES:
        explanation = explanation_for(rule_id)
        assert explanation is not None, rule_id
        assert explanation.criteria == () and "regulation 8" in explanation.standard()
    issue = issue_from(Finding(kind="statement", rule_id="statement-enforcement"))
    assert issue.explanation is not None and "Equality Advisory" in issue.how_to_fix


def test_every_rule_of_siteaudits_own_checks_has_an_explanation() -> None:
    missing = sorted(rule for rule in OWN_RULES if explanation_for(rule) is None)
    assert missing == []
    for rule in OWN_RULES.values():
        numbers = [c.number for c in explanation_for(rule.id).criteria]  # type: ignore[union-attr]
        assert numbers == list(rule.criteria), rule.id
