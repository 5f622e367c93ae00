"""Turn axe-core results into finding rows: criteria, impact, selector and fingerprint."""

from __future__ import annotations

import json
from typing import Any

from audits.fingerprint import fingerprints
from audits.wcag import criteria_from_tags, level_of

OUTCOMES = (("violations", "violation"), ("incomplete", "needs-review"))


def findings_from_axe(result: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One finding per element per rule, violations then needs-review, with fingerprints."""
    rows = []
    for key, outcome in OUTCOMES:
        for rule in result.get(key, []):
            rows += [_row(rule, node, outcome) for node in rule.get("nodes", [])]
    prints = fingerprints([(r["rule_id"], r["_path"], r["snippet"]) for r in rows])
    for row, fingerprint in zip(rows, prints, strict=True):
        row["fingerprint"] = fingerprint
        del row["_path"]
    return rows


def _row(rule: dict[str, Any], node: dict[str, Any], outcome: str) -> dict[str, Any]:
    tags = rule.get("tags", [])
    return {
        "kind": "accessibility",
        "rule_id": rule["id"],
        "impact": node.get("impact") or rule.get("impact"),
        "wcag": ",".join(criteria_from_tags(tags)) or None,
        "level": level_of(tags),
        "outcome": outcome,
        "selector": json.dumps(node.get("target", [])),
        "snippet": node.get("html", ""),
        "summary": node.get("failureSummary"),
        "help": rule.get("help"),
        "help_url": rule.get("helpUrl"),
        # axe's shortest unique selector depends on what else is on the page; the full
        # ancestry path does not, so the fingerprint follows the element across pages.
        "_path": node.get("ancestry") or node.get("target", []),
    }
