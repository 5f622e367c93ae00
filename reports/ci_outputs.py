"""The gate's outputs: a terminal summary, JUnit XML, SARIF 2.1.0 and Markdown."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import quote

from reports.escape import (
    http_url,
    markdown_code,
    markdown_link,
    markdown_text,
    one_line,
    terminal,
    xml_text,
)
from reports.files import write_atomic
from reports.gate import GateResult, Problem
from reports.gate_policy import ACCESSIBILITY, GATE_KINDS, KIND_HELP, GatePolicy
from vocabulary.decisions import Decision
from vocabulary.findings import selector_text
from vocabulary.wcag import describe_criteria

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
DEFAULT_HELP = "https://dequeuniversity.com/rules/axe/"
# Characters a URI reference may hold as they are (RFC 3986), "%" for existing escapes.
URI_SAFE = "/:?#[]@!$&'()*+,;=-._~%"
SARIF_LEVELS = {"critical": "error", "serious": "error", "moderate": "warning", "minor": "note"}


def problem_line(problem: Problem) -> str:
    if problem.kind != ACCESSIBILITY:
        return content_line(problem)
    criteria = "; ".join(describe_criteria(problem.wcag)) or "no WCAG criterion"
    expired = (
        f" (decision expired on {problem.decision_expired})" if problem.decision_expired else ""
    )
    where = f", {one_line(problem.location)}," if problem.location else ""
    return (
        f"[{problem.impact or 'minor'}] {problem.rule_id} ({criteria}) on {problem.page}{where} "
        f"at {selector_text(problem.selector)}{expired}"
    )


def content_line(problem: Problem) -> str:
    """A content finding: its kind, page (or document) and what is wrong, in its words."""
    expired = (
        f" (decision expired on {problem.decision_expired})" if problem.decision_expired else ""
    )
    said = first_line(problem.summary) or one_line(problem.help)
    return (
        f"[{problem.impact or 'minor'}] {problem.rule_id} ({problem.kind}) on {problem.page}: "
        f"{said}{expired}"
    )


def first_line(text: str) -> str:
    """A content finding's summary says what is wrong, then (next line) how to fix it."""
    return one_line(text.split("\n", 1)[0])


def decided_line(problem: Problem, decision: Decision) -> str:
    """A problem a decision holds for, and the decision: kind, expiry, who and why."""
    return f"{problem_line(problem)}: {decision.terms()}"


def verdict(result: GateResult) -> str:
    if result.unchecked:
        return f"ERROR: {len(result.unchecked)} page(s) could not be checked"
    if result.failing:
        return f"FAILED: {len(result.failing)} new problem(s) at or above {levels(result.policy)}"
    return "PASSED"


def levels(policy: GatePolicy) -> str:
    """The gate's levels: --fail-on's alone, as before issue 17, or each kind's."""
    if policy.only_accessibility:
        return policy.fail_on
    return f"--fail-on-kinds {policy.describe()}"


def below_levels(policy: GatePolicy) -> str:
    if policy.only_accessibility:
        return f"--fail-on {policy.fail_on}"
    return f"--fail-on-kinds {policy.describe()}"


def terminal_summary(result: GateResult) -> str:
    """New problems first, then what the baseline and waivers hid, then the verdict."""
    lines = []
    if result.unchecked:
        lines.append("Could not check:")
        lines += [f"  {p.url}: {p.error}" for p in result.unchecked]
    if result.failing:
        lines.append(f"New problems that fail the gate ({len(result.failing)}):")
        lines += [f"  {problem_line(p)}" for p in result.failing]
    if result.new_below_threshold:
        lines.append(
            f"New problems below {below_levels(result.policy)} ({len(result.new_below_threshold)}):"
        )
        lines += [f"  {problem_line(p)}" for p in result.new_below_threshold]
    if result.new_rules:
        lines.append(
            f"From rules new since the baseline's axe-core ({len(result.new_rules)}, not failing):"
        )
        lines += [f"  {problem_line(p)}" for p in result.new_rules]
    if result.decided:
        lines.append(f"Decided or waived, not failing ({len(result.decided)}):")
        lines += [f"  {decided_line(p, d)}" for p, d in result.decided]
    if result.expired_decisions:
        lines.append(
            f"Expired decisions and waivers ({len(result.expired_decisions)}), no longer applied:"
        )
        lines += [f"  {d.describe()}" for d in result.expired_decisions]
    source = result.baseline.source if result.baseline else "no baseline"
    lines.append(
        f"Pages checked: {len(result.pages) - len(result.unchecked)} of "
        f"{len(result.pages)}; already in baseline ({source}): "
        f"{len(result.in_baseline)}; decided or waived: {len(result.decided)}"
    )
    lines.append(f"Gate: {verdict(result)}")
    # Rule ids, selectors, URLs and errors can come from a page: no escape sequences.
    return "\n".join(terminal(line) for line in lines)


def write_junit(result: GateResult, path: Path) -> None:
    """A testsuite with a testcase per page; each failing problem is a <failure>."""
    failing = defaultdict(list)
    for problem in result.failing:
        failing[problem.url].append(problem)
    suite = ET.Element(
        "testsuite",
        name=f"siteaudit {gate_name(result.policy).lower()}",
        tests=str(len(result.pages)),
        failures=str(len(failing)),
        errors=str(len(result.unchecked)),
        skipped="0",
        time="0",
    )
    # A document checked is no page, but its failing problems need a testcase of their own.
    pages = [page.url for page in result.pages]
    urls = pages + sorted(set(failing) - set(pages))
    errors = {page.url: page.error for page in result.pages if page.error}
    for url in urls:
        case = ET.SubElement(suite, "testcase", classname="siteaudit", name=xml_text(url), time="0")
        if url in errors:
            error = xml_text(errors[url])
            ET.SubElement(case, "error", message=error, type="not-checked").text = error
        for problem in failing.get(url, []):
            ET.SubElement(
                case,
                "failure",
                message=xml_text(problem_line(problem)),
                type=xml_text(problem.rule_id),
            ).text = xml_text(failure_text(problem))
    suite.set("tests", str(len(urls)))
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    xml = ET.tostring(root, encoding="unicode")
    write_atomic(path, f'<?xml version="1.0" encoding="utf-8"?>\n{xml}\n')


def failure_text(problem: Problem) -> str:
    """A JUnit failure's body: what, where and how to fix, for an accessibility problem or a
    content one."""
    if problem.kind != ACCESSIBILITY:
        return (
            f"{problem.help}\nKind: {problem.kind}\nRule: {problem.rule_id}\n"
            f"Impact: {problem.impact}\n{problem.summary}\n"
            f"Fingerprint: {problem.fingerprint}\nHow to fix: {problem.help_url}"
        )
    return (
        f"{problem.help}\nRule: {problem.rule_id}\n"
        f"WCAG: {'; '.join(describe_criteria(problem.wcag))}\n"
        f"Impact: {problem.impact}\nWhere on the page: {problem.location or 'not known'}\n"
        f"Selector: {selector_text(problem.selector)}\n"
        f"Fingerprint: {problem.fingerprint}\nHow to fix: {problem.help_url}"
    )


def gate_name(policy: GatePolicy) -> str:
    """Accessibility gate, as before issue 17, or the release gate of a wider policy."""
    return "Accessibility gate" if policy.only_accessibility else "Release gate"


def sarif_uri(url: str) -> str:
    """A page URL as a valid URI reference: anything outside URI characters encoded."""
    return quote(one_line(url), safe=URI_SAFE)


def sarif_result(
    problem: Problem, failing: bool, state: str, decision: Decision | None = None
) -> dict[str, Any]:
    where = one_line(selector_text(problem.selector))
    location: dict[str, Any] = {
        "physicalLocation": {"artifactLocation": {"uri": sarif_uri(problem.url)}}
    }
    if where:  # a content finding is on the whole page or document: no element
        location["logicalLocations"] = [{"fullyQualifiedName": where, "kind": "element"}]
    result = {
        "ruleId": one_line(problem.rule_id) or "unknown",
        "level": SARIF_LEVELS.get(problem.impact or "minor", "note") if failing else "note",
        "message": {"text": sarif_message(problem, where)},
        "locations": [location],
        "partialFingerprints": {"siteaudit/v1": str(problem.fingerprint or "")},
        "baselineState": state,
        "properties": {
            "kind": problem.kind,
            "impact": problem.impact,
            "wcag": describe_criteria(problem.wcag),
            "page": problem.page,
            "outcome": problem.outcome,
        },
    }
    if problem.decision_expired:
        result["properties"]["decisionExpired"] = problem.decision_expired.isoformat()
    if decision is not None:
        # A decided problem is suppressed, not hidden: SARIF viewers show it as dismissed.
        result["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": decision_text(decision)}
        ]
    return result


def decision_text(decision: Decision) -> str:
    return one_line(decision.terms())


def write_sarif(result: GateResult, path: Path, tool_version: str, axe_version: str | None) -> None:
    """SARIF 2.1.0: axe's rule id as ruleId, new problems as results, the baseline's as
    unchanged."""
    failing = {id(p) for p in result.failing}
    entries = [(p, "new") for p in result.new] + [(p, "unchanged") for p in result.in_baseline]
    decided = {id(p): d for p, d in result.decided}
    entries += [(p, "new") for p, _ in result.decided]
    rules: dict[str, dict[str, Any]] = {}
    for problem, _ in entries:
        rule_id = one_line(problem.rule_id) or "unknown"
        rules.setdefault(rule_id, sarif_rule(rule_id, problem))
    sarif = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "siteaudit",
                        "version": tool_version,
                        "informationUri": "https://github.com/siteaudit/siteaudit",
                        "rules": list(rules.values()),
                        "properties": {"axeCoreVersion": axe_version},
                    }
                },
                "results": [
                    sarif_result(p, id(p) in failing, state, decided.get(id(p)))
                    for p, state in entries
                ],
                "invocations": [
                    {"executionSuccessful": not result.unchecked, "exitCode": result.exit_code}
                ],
            }
        ],
    }
    write_atomic(path, json.dumps(sarif, indent=2) + "\n")


def sarif_rule(rule_id: str, problem: Problem) -> dict[str, Any]:
    """A rule of the run: axe's or an own check's, or one of a content kind's, tagged with
    its kind."""
    rule: dict[str, Any] = {
        "id": rule_id,
        "shortDescription": {"text": one_line(problem.help) or rule_id},
        # Only a web page may be linked as the rule's help; never javascript: or data:.
        "helpUri": http_url(problem.help_url) or KIND_HELP.get(problem.kind, DEFAULT_HELP),
        "properties": {"tags": describe_criteria(problem.wcag)},
    }
    if problem.kind != ACCESSIBILITY:
        kind = GATE_KINDS.get(problem.kind, problem.kind)
        rule["fullDescription"] = {"text": kind}
        rule["properties"]["tags"] = [problem.kind, *rule["properties"]["tags"]]
    return rule


def sarif_message(problem: Problem, where: str) -> str:
    """What is wrong, where on the page in words when known, and the element's selector;
    for a content finding, what is wrong in its own words."""
    if problem.kind != ACCESSIBILITY:
        said = one_line(problem.help) or problem.kind
        return f"{said}: {first_line(problem.summary)}" if problem.summary else said
    said = one_line(problem.help) or "Accessibility problem"
    if problem.location:
        said += f", {one_line(problem.location)}"
    return f"{said} ({where})"


def element_cell(problem: Problem) -> str:
    """The Markdown table's element: where it is in words, then its selector as code; for
    a content finding, what is wrong."""
    if problem.kind != ACCESSIBILITY:
        return markdown_text(first_line(problem.summary) or problem.help)
    code = markdown_code(selector_text(problem.selector))
    return f"{markdown_text(problem.location)}: {code}" if problem.location else code


def page_cell(problem: Problem) -> str:
    if problem.decision_expired:
        return f"{problem.page} (decision expired on {problem.decision_expired})"
    return problem.page


def write_markdown(result: GateResult, path: Path) -> None:
    """A summary fit for a CI job summary page; everything from the pages escaped."""
    lines = [f"## {gate_name(result.policy)}: {verdict(result)}", ""]
    if result.failing:
        lines += ["| Impact | Rule | WCAG | Page | Element |", "|---|---|---|---|---|"]
        lines += [
            f"| {markdown_text(p.impact)} | {markdown_link(p.rule_id, p.help_url)} | "
            f"{markdown_text('; '.join(describe_criteria(p.wcag)))} | "
            f"{markdown_text(page_cell(p))} | {element_cell(p)} |"
            for p in result.failing
        ]
        lines.append("")
    if result.unchecked:
        lines += ["Could not check:", ""]
        lines += [
            f"- {markdown_text(p.url)}: {markdown_text(p.error or '')}" for p in result.unchecked
        ]
        lines.append("")
    lines += [
        f"- Pages checked: {len(result.pages) - len(result.unchecked)} of {len(result.pages)}",
        f"- New problems below {markdown_code(below_levels(result.policy))}: "
        f"{len(result.new_below_threshold)}",
        f"- From rules new since the baseline: {len(result.new_rules)}",
        f"- Already in the baseline: {len(result.in_baseline)}",
        f"- Decided or waived: {len(result.decided)}; "
        f"expired decisions and waivers: {len(result.expired_decisions)}",
    ]
    lines += [
        f"  - {markdown_text(p.rule_id)} on {markdown_text(p.page)}: "
        f"{markdown_text(decision_text(d))}"
        for p, d in result.decided
    ]
    write_atomic(path, "\n".join(lines) + "\n")
