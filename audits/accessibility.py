"""Turn axe-core results into findings: criteria, impact, selector and fingerprint."""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from typing import Any

from audits.fingerprint import fingerprints
from vocabulary.findings import Finding
from vocabulary.impacts import IMPACTS
from vocabulary.wcag import criteria_from_tags, level_of

OUTCOMES = (("violations", "violation"), ("incomplete", "needs-review"))
# axe-core links every rule to its page on Deque's site, and nowhere else.
HELP_URL = re.compile(r"https://dequeuniversity\.com/[A-Za-z0-9._~/?=&%+-]*")
REJECTED = "axe-core result rejected"


def check_axe_result(result: dict[str, Any], rules: Collection[str]) -> str | None:
    """None if the result is one this axe-core could have given; else what is wrong with it.

    axe runs where the page's scripts cannot reach it, but what comes back is still
    checked: only rule ids this axe-core has (`rules`, as in scans.axe_rules), known
    impacts and help URLs on Deque's site are stored. The answer quotes the offending
    value, escaped and shortened, for pages.error.
    """
    for key, _ in OUTCOMES:
        found = result.get(key)
        if not isinstance(found, list):
            return f"{REJECTED}: {key} is not a list"
        for rule in found:
            if problem := _rule_problem(rule, rules, needs_impact=key == "violations"):
                return f"{REJECTED}: {problem}"
    return None


def _rule_problem(rule: Any, rules: Collection[str], needs_impact: bool) -> str | None:
    if not isinstance(rule, dict):
        return f"a rule is {_shown(rule)}"
    if not isinstance(rule.get("id"), str) or rule["id"] not in rules:
        return f"unknown rule id {_shown(rule.get('id'))}"
    if not (rule.get("impact") in IMPACTS or (rule.get("impact") is None and not needs_impact)):
        return f"unknown impact {_shown(rule.get('impact'))}"
    if not isinstance(rule.get("helpUrl"), str) or not HELP_URL.fullmatch(rule["helpUrl"]):
        return f"help URL not on dequeuniversity.com: {_shown(rule.get('helpUrl'))}"
    tags, nodes = rule.get("tags"), rule.get("nodes")
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        return f"tags of {rule['id']} are {_shown(tags)}"
    if not isinstance(nodes, list):
        return f"elements of {rule['id']} are {_shown(nodes)}"
    for node in nodes:
        if problem := _node_problem(node):
            return f"an element of {rule['id']}: {problem}"
    return None


def _node_problem(node: Any) -> str | None:
    if not isinstance(node, dict):
        return f"{_shown(node)}"
    if node.get("impact") not in (None, *IMPACTS):
        return f"unknown impact {_shown(node.get('impact'))}"
    if not isinstance(node.get("target"), list):
        return f"selector {_shown(node.get('target'))}"
    for text in ("html", "failureSummary"):
        if not isinstance(node.get(text), (str, type(None))):
            return f"{text} {_shown(node.get(text))}"
    return None


def _shown(value: Any, limit: int = 80) -> str:
    """A page-supplied value as JSON in ASCII (control characters escaped), shortened."""
    text = json.dumps(value, ensure_ascii=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def findings_from_axe(result: dict[str, list[dict[str, Any]]]) -> list[Finding]:
    """One finding per element per rule, violations then needs-review, with fingerprints."""
    found = [
        (rule, node, outcome)
        for key, outcome in OUTCOMES
        for rule in result.get(key, [])
        for node in rule.get("nodes", [])
    ]
    # axe's shortest unique selector depends on what else is on the page; the full
    # ancestry path does not, so the fingerprint follows the element across pages.
    prints = fingerprints(
        [
            (rule["id"], node.get("ancestry") or node.get("target", []), node.get("html", ""))
            for rule, node, _ in found
        ]
    )
    return [
        _finding(rule, node, outcome, fingerprint)
        for (rule, node, outcome), fingerprint in zip(found, prints, strict=True)
    ]


def _finding(rule: dict[str, Any], node: dict[str, Any], outcome: str, fingerprint: str) -> Finding:
    tags = rule.get("tags", [])
    return Finding(
        kind="accessibility",
        rule_id=rule["id"],
        impact=node.get("impact") or rule.get("impact"),
        wcag=",".join(criteria_from_tags(tags)) or None,
        level=level_of(tags),
        outcome=outcome,
        selector=json.dumps(node.get("target", [])),
        snippet=node.get("html", ""),
        summary=node.get("failureSummary"),
        help=rule.get("help"),
        help_url=rule.get("helpUrl"),
        fingerprint=fingerprint,
    )
