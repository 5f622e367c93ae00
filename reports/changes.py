"""What changed since an earlier scan: the violations new (or returning), fixed, and removed
with their page, by team."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from store.findings import findings_in_scan
from store.history import first_seen_in_scan
from store.pages import page_urls, pages_without_error
from store.scans import default_team, latest_finished_scan, scan_row
from vocabulary.decisions import is_decided
from vocabulary.findings import Finding
from vocabulary.urls import path_and_query

LAYOUT = "(shared layout)"  # the page of a layout problem's key: no path looks like this
NEW, RETURNING = "new", "returning"

ByTeam = dict[str, list[Finding]]


class ReportError(Exception):
    """The database holds no scan that can be reported (or compared with)."""


@dataclass
class Change:
    """A problem new, returning, fixed or removed with its page since an earlier scan: a
    rule on a page."""

    url: str
    rule_id: str
    help: str
    elements: int = 1
    # A new one's: "returning" if a scan before the earlier one found it, else "new".
    history: str = ""
    first_seen: str = ""  # the day a scan of the site first found it (new ones only)


@dataclass
class TeamChanges:
    """The violations that changed between two scans, by team."""

    new: ByTeam
    fixed: ByTeam
    removed: ByTeam  # on a page that is in the earlier scan and no longer on the site
    # (page URL, fingerprint) -> (scan, day) each violation of the later scan was first seen.
    first_seen: dict[tuple[str, str], tuple[int | None, str]]
    earlier: int | None = None

    def lists(self, team: str) -> tuple[list[Change], list[Change], list[Change]]:
        """A team's new (and returning), fixed and removed problems, one line per rule on
        a page."""
        new = [self.with_history(c, f) for c, f in changes_with_first(self.new.get(team, []))]
        return new, changes(self.fixed.get(team, [])), changes(self.removed.get(team, []))

    def with_history(self, change: Change, finding: Finding) -> Change:
        """A new problem is returning if first seen before the earlier scan: then it was
        there once, gone in the earlier scan, and is back."""
        key = (finding.url, finding.fingerprint or "")
        seen_scan, seen_at = self.first_seen.get(key, (None, ""))
        returning = seen_scan is not None and self.earlier is not None and seen_scan < self.earlier
        change.history, change.first_seen = (RETURNING if returning else NEW), seen_at
        return change


def change_since(db: Any, scan_id: int, previous: int | None) -> tuple[ByTeam, ByTeam]:
    """New and fixed violations by team (changes_between)."""
    found = changes_between(db, scan_id, previous)
    return found.new, found.fixed


def changes_between(db: Any, scan_id: int, earlier: int | None) -> TeamChanges:
    """New, fixed and removed violations by team. A problem is fixed only if its page was
    audited (without error) in both scans: a page that failed to load has not been fixed.
    It is removed with its page when the page is in the earlier scan and not in this one at
    all. One in the shared layout is new or fixed once, not once for each page showing it.
    One a person has decided on is neither: it is still there, set aside."""
    if earlier is None:
        return TeamChanges({}, {}, {}, {})
    now, before = violations_with_teams(db, scan_id), violations_with_teams(db, earlier)
    decided = decided_keys(db, scan_id) | decided_keys(db, earlier)
    audited_both = audited_pages(db, scan_id) & audited_pages(db, earlier)
    gone = {path_and_query(u) for u in page_urls(db, earlier)} - {
        path_and_query(u) for u in page_urls(db, scan_id)
    }
    found = TeamChanges(defaultdict(list), defaultdict(list), defaultdict(list), {}, earlier)
    for key, (team, finding) in now.items():
        if key not in before and key not in decided:
            found.new[team].append(finding)
    for key, (team, finding) in before.items():
        if key in now or key in decided:
            continue
        if key[0] in gone:
            found.removed[team].append(finding)
        elif key[0] in audited_both or (key[0] == LAYOUT and audited_both):
            found.fixed[team].append(finding)
    found.new, found.fixed, found.removed = dict(found.new), dict(found.fixed), dict(found.removed)
    found.first_seen = first_seen_in_scan(db, scan_id)
    return found


def compared_scan(db: Any, scan_id: int, compare: int | None) -> int | None:
    """The scan the report compares with: --compare's, checked, else the latest finished
    one before the report's (None for a site's first scan)."""
    if compare is None:
        return latest_finished_scan(db, before=scan_id)
    row, reported = scan_row(db, compare), scan_row(db, scan_id)
    fix = "give --compare an earlier finished scan of the same site"
    if row is None:
        raise ReportError(f"--compare {compare}: there is no scan {compare}; {fix}")
    if compare == scan_id:
        raise ReportError(f"--compare {compare}: that is the scan being reported; {fix}")
    if row["status"] != "finished":
        raise ReportError(f"--compare {compare}: scan {compare} is {row['status']}; {fix}")
    if compare > scan_id:
        raise ReportError(f"--compare {compare}: it is later than scan {scan_id}; {fix}")
    if reported is not None and row["start_url"] != reported["start_url"]:
        raise ReportError(
            f"--compare {compare}: scan {compare} is of {row['start_url']}, not "
            f"{reported['start_url']}; {fix}"
        )
    return compare


def changes(findings: list[Finding]) -> list[Change]:
    """Violations new or fixed, one line per rule on a page (each counts its elements)."""
    return [change for change, _ in changes_with_first(findings)]


def changes_with_first(findings: list[Finding]) -> list[tuple[Change, Finding]]:
    """One line per rule on a page, each with the first finding of it."""
    by_problem: dict[tuple[str, str], tuple[Change, Finding]] = {}
    for finding in findings:
        key = (change_page(finding), finding.rule_id or "")
        if key in by_problem:
            by_problem[key][0].elements += 1
        else:
            change = Change(finding.url, finding.rule_id or "", finding.help or "")
            by_problem[key] = (change, finding)
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
