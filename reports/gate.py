"""The CI gate: which problems are new against a baseline, and whether they fail the release.

A problem is identified by its page (the normalised path and query, ignoring scheme and
host, so a baseline taken on the live site applies to a staging host) and its fingerprint
(for a broken link within the site, its target's path and query: the target's host is the
page's). A problem fails the gate when ALL of these hold:

1. its kind is in the policy (--fail-on-kinds, default accessibility alone:
   reports/gate_policy.py), and it is a violation (or a needs-review result, with
   --fail-on-needs-review);
2. its (page, fingerprint) is not in the baseline;
3. no live decision (or waiver) in the decisions file matches it (vocabulary/decisions.py);
   one whose expiry has passed no longer does, and the problem is flagged as such;
4. its impact is at or above its kind's level: --fail-on for accessibility, the level named
   with a content kind (KIND:IMPACT), else any (minor < moderate < serious < critical; a
   result without an impact counts as minor);
5. for accessibility: its rule existed in the baseline's axe-core version, or there is no
   baseline, or --fail-on-new-rules is given. Otherwise it is reported as a "new rule", not
   a regression.

Exit codes: 0 the gate passed; 1 the tool could not do its job (bad input, a page that
could not be fetched or audited, a missing browser); 2 the gate failed.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from reports.gate_policy import ACCESSIBILITY, GATE_KINDS, GatePolicy
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
    kind: str = ACCESSIBILITY
    # A content finding's words: what is wrong and how to fix it (the page's own text).
    summary: str = ""
    # The fingerprint without the site's host, where it holds one (a broken internal link).
    identity: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.page, self.identity or self.fingerprint)


@dataclass(frozen=True)
class Baseline:
    source: str
    axe_version: str | None
    axe_rules: frozenset[str] | None
    keys: frozenset[tuple[str, str]]
    # The kinds of finding it records: a file exported before issue 17 has accessibility's.
    kinds: frozenset[str] = frozenset(GATE_KINDS)


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
    """Conditions 1 and 4: the kind and outcome of the result, and its impact against its
    kind's level."""
    threshold = policy.threshold(problem.kind)
    if threshold is None:
        return False
    if problem.outcome == "needs-review":
        if not policy.fail_on_needs_review:
            return False
    elif problem.kind != ACCESSIBILITY and problem.outcome != "violation":
        return False  # a document the 2018 exemption covers (outcome exempt)
    return at_least(problem.impact, threshold)


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
        if policy.threshold(problem.kind) is None:
            continue  # a kind the policy does not name is not judged, nor shown
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
    """Condition 5, for accessibility: a rule the baseline's scan could not report."""
    return bool(
        problem.kind == ACCESSIBILITY
        and baseline
        and baseline.axe_rules is not None
        and problem.rule_id not in baseline.axe_rules
    )


# Reading scans and baselines.


def problems_in_scan(
    db: Any, scan_id: int, kinds: Iterable[str] = (ACCESSIBILITY,)
) -> list[Problem]:
    """The scan's findings of these kinds, as the gate judges them."""
    return [problem_from(f) for kind in kinds for f in findings_in_scan(db, scan_id, kind=kind)]


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
        kind=finding.kind,
        summary=finding.summary or "",
        identity=host_free_identity(finding),
    )


def host_free_identity(finding: Finding) -> str:
    """A broken internal link's fingerprint hashes its target's whole URL, host and all:
    the gate hashes its path and query, so a live site's baseline holds on staging."""
    if finding.rule_id != "broken-link-internal" or not finding.snippet:
        return ""
    target = path_and_query(finding.snippet)
    return "broken-link:" + hashlib.sha256(target.encode()).hexdigest()[:16]


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
        kinds = kinds_from(data.get("kinds"))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise GateError(
            f"{path}: not a valid baseline file ({err}); write it again with "
            "siteaudit baseline export"
        ) from None
    return Baseline(path, version, rules, keys, kinds)


def baseline_key(problem: Any) -> tuple[str, str]:
    """A baseline problem's (page, fingerprint), both strings; its host-free identity in
    place of the fingerprint where it has one (a broken internal link)."""
    page, fingerprint = problem["page"], problem.get("identity") or problem["fingerprint"]
    if not isinstance(page, str) or not isinstance(fingerprint, str):
        raise ValueError("a problem's page or fingerprint is not a string")
    return (page, fingerprint)


def kinds_from(kinds: Any) -> frozenset[str]:
    """The kinds of finding a baseline file records: accessibility alone in a file
    exported before the gate judged other kinds."""
    if kinds is None:
        return frozenset({ACCESSIBILITY})
    if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
        raise ValueError("kinds is not a list of kinds of finding")
    return frozenset(kinds)


def check_baseline_kinds(baseline: Baseline, policy: GatePolicy) -> None:
    """A kind the policy gates on must be in the baseline, or all its old problems would
    count as new."""
    missing = [kind for kind in policy.kind_names if kind not in baseline.kinds]
    if missing:
        raise GateError(
            f"{baseline.source}: this baseline records no {', '.join(missing)} problems "
            "(it was exported before the gate judged them): export it again with "
            "siteaudit baseline export, or leave them out of --fail-on-kinds"
        )


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
    keys = frozenset(p.key for p in problems_in_scan(db, scan_id, GATE_KINDS))
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
            (p.page, p.fingerprint, p.rule_id, p.impact, p.outcome, p.kind, p.identity)
            for p in problems_in_scan(db, scan_id, GATE_KINDS)
        },
        key=lambda p: tuple(value or "" for value in p),
    )
    return {
        "siteaudit_baseline": BASELINE_FORMAT,
        "created": now(),
        "scan": scan_id,
        "start_url": scan.get("start_url"),
        "axe_version": scan.get("axe_version"),
        "axe_rules": json.loads(rules) if rules else None,
        "kinds": list(GATE_KINDS),
        "problems": [baseline_entry(*problem) for problem in problems],
    }


def baseline_entry(
    page: str, fp: str, rule: str, impact: str | None, outcome: str, kind: str, identity: str
) -> dict[str, Any]:
    """One problem of a baseline file; accessibility's read exactly as before issue 17."""
    entry = {"page": page, "fingerprint": fp, "rule_id": rule, "impact": impact}
    entry["outcome"] = outcome
    if kind != ACCESSIBILITY:
        entry["kind"] = kind
    if identity:
        entry["identity"] = identity
    return entry
