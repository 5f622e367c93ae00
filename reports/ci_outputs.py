"""The gate's outputs: a terminal summary, JUnit XML, SARIF 2.1.0 and Markdown."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from typing import Any

from audits.wcag import describe_criteria
from reports.gate import GateResult, Problem

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVELS = {"critical": "error", "serious": "error", "moderate": "warning", "minor": "note"}


def selector_text(problem: Problem) -> str:
    parts = json.loads(problem.selector or "[]")
    return " ➜ ".join(" ".join(p) if isinstance(p, list) else str(p) for p in parts)


def problem_line(problem: Problem) -> str:
    criteria = "; ".join(describe_criteria(problem.wcag)) or "no WCAG criterion"
    return (
        f"[{problem.impact or 'minor'}] {problem.rule_id} ({criteria}) on {problem.page} "
        f"at {selector_text(problem)}"
    )


def verdict(result: GateResult) -> str:
    if result.unchecked:
        return f"ERROR: {len(result.unchecked)} page(s) could not be checked"
    if result.failing:
        return f"FAILED: {len(result.failing)} new problem(s) at or above {result.policy.fail_on}"
    return "PASSED"


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
            f"New problems below --fail-on {result.policy.fail_on} "
            f"({len(result.new_below_threshold)}):"
        )
        lines += [f"  {problem_line(p)}" for p in result.new_below_threshold]
    if result.new_rules:
        lines.append(
            f"From rules new since the baseline's axe-core ({len(result.new_rules)}, not failing):"
        )
        lines += [f"  {problem_line(p)}" for p in result.new_rules]
    if result.expired_waivers:
        lines.append(f"Expired waivers ({len(result.expired_waivers)}), no longer applied:")
        lines += [f"  {w.describe()}" for w in result.expired_waivers]
    source = result.baseline.source if result.baseline else "no baseline"
    lines.append(
        f"Pages checked: {len(result.pages) - len(result.unchecked)} of "
        f"{len(result.pages)}; already in baseline ({source}): "
        f"{len(result.in_baseline)}; waived: {len(result.waived)}"
    )
    lines.append(f"Gate: {verdict(result)}")
    return "\n".join(lines)


def write_junit(result: GateResult, path: Path) -> None:
    """A testsuite with a testcase per page; each failing problem is a <failure>."""
    failing = defaultdict(list)
    for problem in result.failing:
        failing[problem.url].append(problem)
    suite = ET.Element(
        "testsuite",
        name="siteaudit accessibility gate",
        tests=str(len(result.pages)),
        failures=str(len(failing)),
        errors=str(len(result.unchecked)),
        skipped="0",
        time="0",
    )
    for page in result.pages:
        case = ET.SubElement(suite, "testcase", classname="siteaudit", name=page.url, time="0")
        if page.error:
            ET.SubElement(case, "error", message=page.error, type="not-checked").text = page.error
        for problem in failing.get(page.url, []):
            ET.SubElement(
                case, "failure", message=problem_line(problem), type=problem.rule_id
            ).text = (
                f"{problem.help}\nRule: {problem.rule_id}\n"
                f"WCAG: {'; '.join(describe_criteria(problem.wcag))}\n"
                f"Impact: {problem.impact}\nSelector: {selector_text(problem)}\n"
                f"Fingerprint: {problem.fingerprint}\nHow to fix: {problem.help_url}"
            )
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def sarif_result(problem: Problem, failing: bool, state: str) -> dict[str, Any]:
    return {
        "ruleId": problem.rule_id,
        "level": SARIF_LEVELS.get(problem.impact or "minor", "note") if failing else "note",
        "message": {"text": f"{problem.help} ({selector_text(problem)})"},
        "locations": [
            {
                "physicalLocation": {"artifactLocation": {"uri": problem.url}},
                "logicalLocations": [
                    {"fullyQualifiedName": selector_text(problem), "kind": "element"}
                ],
            }
        ],
        "partialFingerprints": {"siteaudit/v1": problem.fingerprint},
        "baselineState": state,
        "properties": {
            "impact": problem.impact,
            "wcag": describe_criteria(problem.wcag),
            "page": problem.page,
            "outcome": problem.outcome,
        },
    }


def write_sarif(result: GateResult, path: Path, tool_version: str, axe_version: str | None) -> None:
    """SARIF 2.1.0: axe's rule id as ruleId, new problems as results, the baseline's as
    unchanged."""
    failing = {id(p) for p in result.failing}
    entries = [(p, "new") for p in result.new] + [(p, "unchanged") for p in result.in_baseline]
    rules: dict[str, dict[str, Any]] = {}
    for problem, _ in entries:
        rules.setdefault(
            problem.rule_id,
            {
                "id": problem.rule_id,
                "shortDescription": {"text": problem.help or problem.rule_id},
                "helpUri": problem.help_url or "https://dequeuniversity.com/rules/axe/",
                "properties": {"tags": describe_criteria(problem.wcag)},
            },
        )
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
                "results": [sarif_result(p, id(p) in failing, state) for p, state in entries],
                "invocations": [
                    {"executionSuccessful": not result.unchecked, "exitCode": result.exit_code}
                ],
            }
        ],
    }
    path.write_text(json.dumps(sarif, indent=2), encoding="utf-8")


def markdown_cell(text: str) -> str:
    """Crawled text in a table cell: no pipes or newlines to break the table, no HTML."""
    return (
        text.replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\n", " ")
    )


def write_markdown(result: GateResult, path: Path) -> None:
    """A summary fit for a CI job summary page."""
    lines = [f"## Accessibility gate: {verdict(result)}", ""]
    if result.failing:
        lines += ["| Impact | Rule | WCAG | Page | Element |", "|---|---|---|---|---|"]
        lines += [
            f"| {p.impact} | [{p.rule_id}]({p.help_url}) | "
            f"{markdown_cell('; '.join(describe_criteria(p.wcag)))} | "
            f"{markdown_cell(p.page)} | `{markdown_cell(selector_text(p))}` |"
            for p in result.failing
        ]
        lines.append("")
    if result.unchecked:
        lines += ["Could not check:", ""]
        lines += [
            f"- {markdown_cell(p.url)}: {markdown_cell(p.error or '')}" for p in result.unchecked
        ]
        lines.append("")
    lines += [
        f"- Pages checked: {len(result.pages) - len(result.unchecked)} of {len(result.pages)}",
        f"- New problems below `--fail-on {result.policy.fail_on}`: "
        f"{len(result.new_below_threshold)}",
        f"- From rules new since the baseline: {len(result.new_rules)}",
        f"- Already in the baseline: {len(result.in_baseline)}",
        f"- Waived: {len(result.waived)}; expired waivers: {len(result.expired_waivers)}",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
