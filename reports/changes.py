"""What changed since the last scan: the violations new and fixed, by team."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from store.findings import findings_in_scan
from store.pages import pages_without_error
from store.scans import default_team
from vocabulary.decisions import is_decided
from vocabulary.findings import Finding
from vocabulary.urls import path_and_query

LAYOUT = "(shared layout)"  # the page of a layout problem's key: no path looks like this


@dataclass
class Change:
    """A problem new or fixed since the last scan: a rule on a page."""

    url: str
    rule_id: str
    help: str
    elements: int = 1


def change_since(
    db: Any, scan_id: int, previous: int | None
) -> tuple[dict[str, list[Finding]], dict[str, list[Finding]]]:
    """New and fixed violations by team. A problem is fixed only if its page was audited
    (without error) in both scans: a page that failed to load has not been fixed. One in the
    shared layout is new or fixed once, not once for each page showing it. One a person has
    decided on is neither new nor fixed: it is still there, set aside."""
    if previous is None:
        return {}, {}
    now, before = violations_with_teams(db, scan_id), violations_with_teams(db, previous)
    decided = decided_keys(db, scan_id) | decided_keys(db, previous)
    audited_both = audited_pages(db, scan_id) & audited_pages(db, previous)
    new: dict[str, list[Finding]] = defaultdict(list)
    fixed: dict[str, list[Finding]] = defaultdict(list)
    for key, (team, finding) in now.items():
        if key not in before and key not in decided:
            new[team].append(finding)
    for key, (team, finding) in before.items():
        fixable = key[0] in audited_both or (key[0] == LAYOUT and audited_both)
        if key not in now and fixable and key not in decided:
            fixed[team].append(finding)
    return dict(new), dict(fixed)


def changes(findings: list[Finding]) -> list[Change]:
    """Violations new or fixed, one line per rule on a page (each counts its elements)."""
    by_problem: dict[tuple[str, str], Change] = {}
    for finding in findings:
        key = (change_page(finding), finding.rule_id or "")
        if key in by_problem:
            by_problem[key].elements += 1
        else:
            by_problem[key] = Change(finding.url, finding.rule_id or "", finding.help or "")
    return list(by_problem.values())


def violations_with_teams(
    db: Any, scan_id: int
) -> dict[tuple[str, str | None], tuple[str, Finding]]:
    """(page, fingerprint) -> (owning team, the finding), for every violation of a scan; the
    page is LAYOUT for one in the shared layout."""
    unowned = default_team(db, scan_id)
    return {
        (change_page(f), f.fingerprint): (f.team or unowned, f)
        for f in findings_in_scan(db, scan_id, outcome="violation")
    }


def violations_by_key(db: Any, scan_id: int) -> dict[tuple[str, str | None], str]:
    """(page, fingerprint) -> owning team, for every violation of a scan."""
    return {key: team for key, (team, _) in violations_with_teams(db, scan_id).items()}


def decided_keys(db: Any, scan_id: int) -> set[tuple[str, str | None]]:
    """(page, fingerprint) of every violation of a scan a person has decided on."""
    return {
        (change_page(f), f.fingerprint)
        for f in findings_in_scan(db, scan_id, outcome="violation")
        if is_decided(f.decision)
    }


def change_page(finding: Finding) -> str:
    return LAYOUT if finding.scope == "template" else path_and_query(finding.url)


def audited_pages(db: Any, scan_id: int) -> set[str]:
    return {path_and_query(url) for url in pages_without_error(db, scan_id)}
