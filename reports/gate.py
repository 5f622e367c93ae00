"""The CI gate: which problems are new against a baseline, and whether they fail the release.

A problem is identified by its page (the normalised path and query, ignoring scheme and
host, so a baseline taken on the live site applies to a staging host) and its fingerprint.
A problem fails the gate when ALL of these hold:

1. it is an accessibility violation (or a needs-review result, with --fail-on-needs-review);
2. its (page, fingerprint) is not in the baseline;
3. no live decision (or waiver) in the decisions file matches it (vocabulary/decisions.py);
   one whose expiry has passed no longer does, and the problem is flagged as such;
4. its impact is at or above --fail-on (minor < moderate < serious < critical; a result
   without an impact counts as minor);
5. its rule existed in the baseline's axe-core version, or there is no baseline, or
   --fail-on-new-rules is given. Otherwise it is reported as a "new rule", not a regression.

Exit codes: 0 the gate passed; 1 the tool could not do its job (bad input, a page that
could not be fetched or audited, a missing browser); 2 the gate failed.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from store.database import now, open_database
from store.findings import findings_in_scan
from store.pages import page_audits, page_fetches
from store.scans import latest_finished_scan, scan_row
from vocabulary.decisions import Decision, DecisionIndex
from vocabulary.decisions import london_today as london_today  # the gate's "today"
from vocabulary.findings import Finding
from vocabulary.impacts import at_least, impact_rank
from vocabulary.urls import path_and_query

BASELINE_FORMAT = 1


class GateError(Exception):
    """Bad gate input (baseline or decisions); the message names the file and the fix."""


@dataclass(frozen=True)
class Problem:
    page: str
    url: str
    fingerprint: str
    rule_id: str
    impact: str | None
    outcome: str
    wcag: str | None
    selector: str
    help: str
    help_url: str
    # The expiry day of a decision that no longer holds: the problem counts again, flagged.
    decision_expired: date | None = None
    # Where the element is, in words ("under 'Bin collection days', the 2nd image"): the
    # page's own text, escaped by each output.
    location: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.page, self.fingerprint)


@dataclass(frozen=True)
class Baseline:
    source: str
    axe_version: str | None
    axe_rules: frozenset[str] | None
    keys: frozenset[tuple[str, str]]


@dataclass(frozen=True)
class GatePolicy:
    fail_on: str = "serious"
    fail_on_needs_review: bool = False
    fail_on_new_rules: bool = False


@dataclass(frozen=True)
class PageStatus:
    url: str
    error: str | None


@dataclass
class GateResult:
    policy: GatePolicy
    baseline: Baseline | None
    failing: list[Problem] = field(default_factory=list)
    new_below_threshold: list[Problem] = field(default_factory=list)
    new_rules: list[Problem] = field(default_factory=list)
    in_baseline: list[Problem] = field(default_factory=list)
    # Problems a live decision (or waiver) holds for: they never fail the gate.
    decided: list[tuple[Problem, Decision]] = field(default_factory=list)
    expired_decisions: list[Decision] = field(default_factory=list)
    pages: list[PageStatus] = field(default_factory=list)

    @property
    def unchecked(self) -> list[PageStatus]:
        return [p for p in self.pages if p.error]

    @property
    def exit_code(self) -> int:
        if self.unchecked:
            return 1
        return 2 if self.failing else 0

    @property
    def new(self) -> list[Problem]:
        """Every problem not in the baseline and not decided, failing ones first."""
        return self.failing + self.new_below_threshold + self.new_rules


def counts_for_gate(problem: Problem, policy: GatePolicy) -> bool:
    """Conditions 1 and 4: the kind of result, and its impact against --fail-on."""
    if problem.outcome == "needs-review" and not policy.fail_on_needs_review:
        return False
    return at_least(problem.impact, policy.fail_on)


def evaluate(
    problems: list[Problem],
    pages: list[PageStatus],
    baseline: Baseline | None,
    decisions: list[Decision],
    policy: GatePolicy,
    today: date,
) -> GateResult:
    """Sort every problem into exactly one bucket and decide the gate."""
    result = GateResult(
        policy,
        baseline,
        pages=pages,
        expired_decisions=[d for d in decisions if d.expired_on(today)],
    )
    index = DecisionIndex.of(decisions)
    for problem in problems:
        decision = index.holding(problem.fingerprint, problem.rule_id, problem.page, today)
        if decision is not None and decision.expired_on(today):
            problem = replace(problem, decision_expired=decision.expires)
            decision = None
        if baseline is not None and problem.key in baseline.keys:
            result.in_baseline.append(problem)
        elif decision is not None:
            result.decided.append((problem, decision))
        elif is_new_rule(problem, baseline) and not policy.fail_on_new_rules:
            result.new_rules.append(problem)
        elif counts_for_gate(problem, policy):
            result.failing.append(problem)
        else:
            result.new_below_threshold.append(problem)
    # Most severe first; an impact axe-core does not have (a page's own axe) last.
    result.failing.sort(key=lambda p: (impact_rank(p.impact), p.page, p.rule_id))
    return result


def is_new_rule(problem: Problem, baseline: Baseline | None) -> bool:
    return bool(
        baseline and baseline.axe_rules is not None and problem.rule_id not in baseline.axe_rules
    )


# Reading scans and baselines.


def problems_in_scan(db: Any, scan_id: int) -> list[Problem]:
    return [problem_from(f) for f in findings_in_scan(db, scan_id, kind="accessibility")]


def problem_from(finding: Finding) -> Problem:
    return Problem(
        page=path_and_query(finding.url),
        url=finding.url,
        fingerprint=finding.fingerprint or "",
        rule_id=finding.rule_id or "",
        impact=finding.impact,
        outcome=finding.outcome or "",
        wcag=finding.wcag,
        selector=finding.selector or "[]",
        help=finding.help or "",
        help_url=finding.help_url or "",
        location=finding.location,
    )


def page_statuses(db: Any, scan_id: int) -> list[PageStatus]:
    """Every page the check asked for: audited, or why not.

    Only the pages themselves: an external link that fails (another site down, a name
    that does not resolve) is a broken-link finding, never a page that could not be checked.
    A page that could not be fetched at all has no kind, as its content type is unknown.
    """
    statuses: dict[str, str | None] = {}
    for url, status, error in page_fetches(db, scan_id):
        statuses[url] = error or (
            f"the server answered {status}" if status and status >= 400 else None
        )
    for url, error, browser in page_audits(db, scan_id):
        statuses[url] = f"could not be audited: {error}" if error and browser else None
    return [PageStatus(url, error) for url, error in sorted(statuses.items())]


def load_baseline(path: str) -> Baseline:
    """A baseline file (JSON, from `siteaudit baseline export`) or a scan database."""
    if not Path(path).is_file():
        raise GateError(
            f"{path}: no such baseline; give a scan database or a file written "
            "by siteaudit baseline export"
        )
    if Path(path).suffix.lower() == ".json":
        return baseline_from_file(path)
    return baseline_from_database(path)


def baseline_from_file(path: str) -> Baseline:
    try:
        data = json.loads(Path(path).read_bytes().decode("utf-8"))
        if not isinstance(data, dict) or data.get("siteaudit_baseline") != BASELINE_FORMAT:
            raise ValueError("not a siteaudit baseline (format 1)")
        if not isinstance(data["problems"], list):
            raise ValueError("problems is not a list")
        keys = frozenset(baseline_key(p) for p in data["problems"])
        rules = axe_rules_from(data.get("axe_rules"))
        version = data.get("axe_version")
        if version is not None and not isinstance(version, str):
            raise ValueError("axe_version is not a string")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise GateError(
            f"{path}: not a valid baseline file ({err}); write it again with "
            "siteaudit baseline export"
        ) from None
    return Baseline(path, version, rules, keys)


def baseline_key(problem: Any) -> tuple[str, str]:
    """A baseline problem's (page, fingerprint), both strings."""
    page, fingerprint = problem["page"], problem["fingerprint"]
    if not isinstance(page, str) or not isinstance(fingerprint, str):
        raise ValueError("a problem's page or fingerprint is not a string")
    return (page, fingerprint)


def axe_rules_from(rules: Any) -> frozenset[str] | None:
    """The baseline's axe-core rule ids: a list of strings, or nothing recorded."""
    if not rules:
        return None
    if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
        raise ValueError("axe_rules is not a list of rule ids")
    return frozenset(rules)


def baseline_from_database(path: str, scan_id: int | None = None) -> Baseline:
    try:
        db = open_database(path, create=False)
        scan_id = scan_id or latest_finished_scan(db, browser=True)
    except sqlite3.DatabaseError as err:
        raise GateError(f"{path}: not a siteaudit database ({err})") from None
    if scan_id is None:
        raise GateError(f"{path}: has no finished browser scan to use as a baseline")
    scan = scan_row(db, scan_id) or {}
    version, rules = scan.get("axe_version"), scan.get("axe_rules")
    keys = frozenset(p.key for p in problems_in_scan(db, scan_id))
    try:
        axe_rules = axe_rules_from(json.loads(rules) if rules else None)
    except ValueError as err:
        raise GateError(f"{path}: scan {scan_id}'s axe_rules are not valid ({err})") from None
    return Baseline(f"{path} (scan {scan_id})", version, axe_rules, keys)


def export_baseline(db: Any, scan_id: int) -> dict[str, Any]:
    """A baseline file's content: sorted, so that committing a new one gives a small diff."""
    scan = scan_row(db, scan_id) or {}
    rules = scan.get("axe_rules")
    problems = sorted(
        {
            (p.page, p.fingerprint, p.rule_id, p.impact, p.outcome)
            for p in problems_in_scan(db, scan_id)
        }
    )
    return {
        "siteaudit_baseline": BASELINE_FORMAT,
        "created": now(),
        "scan": scan_id,
        "start_url": scan.get("start_url"),
        "axe_version": scan.get("axe_version"),
        "axe_rules": json.loads(rules) if rules else None,
        "problems": [
            {"page": page, "fingerprint": fp, "rule_id": rule, "impact": impact, "outcome": outcome}
            for page, fp, rule, impact, outcome in problems
        ],
    }
