"""People's decisions on findings (false positive, accepted, fixed pending), and what each matches.

A decision names a finding by its fingerprint, on one page (the page's path and query, so
it holds on any host, as the CI gate's baseline does) or on every page (a problem in the
shared layout); an old [[waiver]] may name a rule and a glob on the page instead. A live
decision takes the finding out of every count and score; one whose expiry day has passed
no longer holds: the finding counts again, flagged as "expired". docs/ci.md describes the
file.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

DECISIONS = ("false-positive", "accepted", "fixed-pending")
EXPIRED = "expired"  # findings.decision of a finding whose decision's expiry has passed
LABELS = {
    "false-positive": "Not a problem (false positive)",
    "accepted": "Accepted for now",
    "fixed-pending": "Fixed, waiting for publication",
    EXPIRED: "Decision expired",
}
# Expiry days are council days: a decision holds through the whole of its day in London.
LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class Decision:
    """One entry of a decisions file (a [[decision]], or an old [[waiver]] read as accepted)."""

    decision: str  # one of DECISIONS
    reason: str
    expires: date | None = None  # required for accepted; the last day it holds
    decided_by: str | None = None
    fingerprint: str | None = None
    page: str | None = None  # path and query; None: every page (a template problem)
    rule: str | None = None  # an old waiver's rule, with url, a glob on the page
    url: str | None = None
    entry: str = ""  # where it is written: "decisions.toml: decision[2]"

    def matches(self, fingerprint: str | None, rule_id: str | None, page: str) -> bool:
        """Whether this decision is about a finding (its fingerprint, rule and page)."""
        if self.fingerprint and self.fingerprint != fingerprint:
            return False
        if self.rule and self.rule != rule_id:
            return False
        if self.page is not None and self.page != page:
            return False
        return not (self.url and not fnmatch.fnmatchcase(page, self.url))

    def expired_on(self, today: date) -> bool:
        """True from the day after its expiry day (Europe/London); never without one."""
        return self.expires is not None and today > self.expires

    def active_on(self, today: date) -> bool:
        return not self.expired_on(today)

    def target(self) -> str:
        """What it is about, in a few words: "fp on /page", "fp on every page", "rule on /a*"."""
        what = self.fingerprint or f"rule {self.rule}"
        where = self.page or self.url or ("every page" if self.fingerprint else "*")
        return f"{what} on {where}"

    def terms(self) -> str:
        """The decision itself: "accepted, expires 2027-03-31, decided by j.smith: why"."""
        parts = [self.decision]
        if self.expires:
            parts.append(f"expires {self.expires}")
        if self.decided_by:
            parts.append(f"decided by {self.decided_by}")
        return f"{', '.join(parts)}: {self.reason}"

    def describe(self) -> str:
        """One line for a terminal or a CI summary: what it is about, and its terms."""
        return f"{self.target()} ({self.terms()})"


@dataclass(frozen=True)
class Applied:
    """A decision as it applied to a scan: a row of the decisions table."""

    fingerprint: str
    page: str | None
    decision: str
    reason: str
    expires: date | None
    decided_by: str | None
    expired: bool


def is_decided(decision: str | None) -> bool:
    """A finding with a live decision: out of counts, scores, emails and the gate."""
    return decision in DECISIONS


def london_today(at: datetime | None = None) -> date:
    return (at or datetime.now(LONDON)).astimezone(LONDON).date()


def decision_for(
    decisions: Sequence[Decision],
    fingerprint: str | None,
    rule_id: str | None,
    page: str,
    today: date,
) -> Decision | None:
    """The decision that holds for a finding: the first live one that matches, else the
    first expired one (which flags the finding); None when none matches."""
    matching = [d for d in decisions if d.matches(fingerprint, rule_id, page)]
    live = next((d for d in matching if d.active_on(today)), None)
    return live or next(iter(matching), None)


@dataclass(frozen=True)
class DecisionIndex:
    """Decisions looked up by fingerprint, so a site's findings times a long file's entries
    are not all compared; the file's order still says which of two matching ones holds."""

    by_fingerprint: dict[str, list[tuple[int, Decision]]]
    by_rule: list[tuple[int, Decision]]  # old waivers naming a rule, not a fingerprint

    @classmethod
    def of(cls, decisions: Sequence[Decision]) -> DecisionIndex:
        by_fingerprint: dict[str, list[tuple[int, Decision]]] = {}
        by_rule = []
        for position, decision in enumerate(decisions):
            if decision.fingerprint:
                by_fingerprint.setdefault(decision.fingerprint, []).append((position, decision))
            else:
                by_rule.append((position, decision))
        return cls(by_fingerprint, by_rule)

    def holding(
        self, fingerprint: str | None, rule_id: str | None, page: str, today: date
    ) -> Decision | None:
        """decision_for, among the decisions that can match this fingerprint."""
        candidates = self.by_fingerprint.get(fingerprint or "", []) + self.by_rule
        ordered = [d for _, d in sorted(candidates, key=lambda c: c[0])]
        return decision_for(ordered, fingerprint, rule_id, page, today)


def status_of(decision: Decision | None, today: date) -> str | None:
    """findings.decision for a finding this decision holds for: its kind, or "expired"."""
    if decision is None:
        return None
    return EXPIRED if decision.expired_on(today) else decision.decision


def decide(
    decisions: Sequence[Decision],
    findings: Iterable[tuple[int, str | None, str, str]],
    today: date,
) -> tuple[dict[int, str], list[Applied]]:
    """For (row id, fingerprint, rule id, page) of each finding: the decision status of each
    row a decision holds for, and the decisions that applied, each once per (fingerprint,
    page) (an old waiver's rule matches many, so it is recorded for each it matched)."""
    statuses: dict[int, str] = {}
    applied: dict[tuple[str, str | None, int], Applied] = {}
    index = DecisionIndex.of(decisions)
    for row, fingerprint, rule_id, page in findings:
        decision = index.holding(fingerprint, rule_id, page, today)
        if decision is None:
            continue
        statuses[row] = status_of(decision, today) or ""
        fingerprint = decision.fingerprint or fingerprint or ""
        where = decision.page if decision.fingerprint else page
        applied.setdefault(
            (fingerprint, where, id(decision)),
            Applied(
                fingerprint,
                where,
                decision.decision,
                decision.reason,
                decision.expires,
                decision.decided_by,
                decision.expired_on(today),
            ),
        )
    return statuses, list(applied.values())
