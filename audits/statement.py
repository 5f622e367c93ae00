"""The accessibility statement judged against the regulations, the model statement and the scan.

Pure functions: what the statement page says (audits/statement_reading.py), the WCAG success
criteria the scan found failing and the scan's day in; findings of kind `statement` out, each
on the statement page (docs/checks.md, "The accessibility statement"). Where the statement is
(a configured URL, else the links that say so) and which pages do not link to it are decided
here too, from the links the crawl stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from audits.content import months_between
from audits.statement_reading import StatementReading
from vocabulary.findings import Finding
from vocabulary.wcag import CRITERION_NAMES

KIND = "statement"
MODEL_URL = "https://www.gov.uk/government/publications/sample-accessibility-statement"
REGULATIONS_URL = (
    "https://www.gov.uk/guidance/accessibility-requirements-for-public-sector-websites-and-apps"
)
REVIEW_MONTHS = 12  # the regulations ask for a statement kept under regular review
# Link text that names the statement: the words of the link, lower case.
STATEMENT_LINK = re.compile(r"\baccessibility\b|\bhygyrchedd\b", re.I)
NAMED_STATEMENT = re.compile(r"statement|datganiad", re.I)
WELSH_LINK = re.compile(r"hygyrchedd", re.I)


@dataclass(frozen=True)
class StatementRule:
    id: str
    impact: str
    help: str  # one line, as axe's


RULES = {
    r.id: r
    for r in (
        StatementRule("statement-missing", "serious",
                      "The site must publish an accessibility statement"),
        StatementRule("statement-link-missing", "moderate",
                      "Every page must link to the accessibility statement"),
        StatementRule("statement-scope", "moderate",
                      "The statement must say which website it applies to"),
        StatementRule("statement-status", "serious",
                      "The statement must give its compliance status in the model's words"),
        StatementRule("statement-status-inconsistent", "serious",
                      "The statement claims full compliance but the scan found failures"),
        StatementRule("statement-non-accessible", "serious",
                      "The statement must list the content that is not accessible"),
        StatementRule("statement-criteria-unlisted", "serious",
                      "The statement must name the WCAG criteria the site fails"),
        StatementRule("statement-contact", "serious",
                      "The statement must say how to report a problem or ask for another format"),
        StatementRule("statement-enforcement", "serious",
                      "The statement must link to the enforcement procedure"),
        StatementRule("statement-dates", "moderate",
                      "The statement must say when it was prepared and last reviewed"),
        StatementRule("statement-review-overdue", "moderate",
                      "The statement has not been reviewed for more than 12 months"),
    )
}  # fmt: skip
RULE_IDS = tuple(RULES)


def statement_finding(rule_id: str, problem: str, advice: str) -> Finding:
    """A finding on the whole statement page; its fingerprint is the rule (no element)."""
    rule = RULES[rule_id]
    return Finding(
        kind=KIND,
        rule_id=rule_id,
        impact=rule.impact,
        summary=f"{problem}\n{advice}",
        help=rule.help,
        help_url=REGULATIONS_URL if rule_id == "statement-missing" else MODEL_URL,
        fingerprint=f"{KIND}:{rule_id}",
    )


def choose_statements(
    linked: Iterable[tuple[str, str, int]], pages: set[str], configured: str | None
) -> list[str]:
    """The statement pages: the configured URL, else the page most linked to with text that
    names it (a link saying "statement" before one saying only "accessibility"), and a
    Welsh one the same way. linked gives (target, link text, pages linking so)."""
    if configured:
        return [configured]
    best: dict[bool, tuple[int, int, str]] = {}
    for target, text, count in linked:
        if target not in pages or not STATEMENT_LINK.search(text or ""):
            continue
        welsh = bool(WELSH_LINK.search(text))
        rank = (1 if NAMED_STATEMENT.search(text) else 0, count, target)
        if welsh not in best or rank > best[welsh]:
            best[welsh] = rank
    return sorted({rank[2] for rank in best.values()})


def no_statement(configured: str | None, page: str | None = None) -> Finding:
    """No statement found: at the configured URL, on the page linked as one, or linked from
    any page."""
    if page:
        problem = (
            f"The page given as the accessibility statement ({page}) does not read as one: "
            "neither its title nor its main heading speaks of accessibility."
        )
    elif configured:
        problem = (
            f"No accessibility statement was found at {configured} (statement.url): the scan "
            "did not reach that page, or it does not say it is an accessibility statement."
        )
    else:
        problem = (
            "No page of the site links to an accessibility statement: no link's text says "
            '"accessibility statement" (or "accessibility", or "datganiad hygyrchedd").'
        )
    return statement_finding(
        "statement-missing",
        problem,
        "Publish a statement in the model statement's form and link to it from every page, "
        "usually in the footer; or set [statement] url to where it is.",
    )


def missing_link(statements: list[str]) -> Finding:
    """On a page that links to none of the statement pages."""
    return statement_finding(
        "statement-link-missing",
        f"This page does not link to the accessibility statement ({', '.join(statements)}).",
        "Link to the statement from every page: a link in the shared footer does it once.",
    )


def statement_findings(
    reading: StatementReading, failing: Mapping[str, int], scan_day: date
) -> list[Finding]:
    """Each part the model statement requires that this statement lacks, or that the scan
    contradicts. failing maps each WCAG success criterion the scan found failing to the
    number of pages it fails on."""
    return [
        *_scope(reading),
        *_status(reading, failing),
        *_criteria(reading, failing),
        *_contact(reading),
        *_enforcement(reading),
        *_dates(reading, scan_day),
    ]


def _subject(reading: StatementReading) -> str:
    return "This Welsh statement" if reading.welsh else "The statement"


def _scope(reading: StatementReading) -> list[Finding]:
    if reading.scope:
        return []
    return [
        statement_finding(
            "statement-scope",
            f'{_subject(reading)} has no sentence saying what it covers ("This accessibility '
            'statement applies to ...").',
            "Start the statement by naming the website, or the part of it, that it covers.",
        )
    ]


def _status(reading: StatementReading, failing: Mapping[str, int]) -> list[Finding]:
    if reading.status is None:
        return [
            statement_finding(
                "statement-status",
                f"{_subject(reading)} does not say whether the site is fully, partially or not "
                "compliant with the Web Content Accessibility Guidelines version 2.1 AA "
                "standard, in the model statement's words.",
                "Add the compliance status in one of the model's three forms.",
            )
        ]
    if reading.status == "fully" and failing:
        return [
            statement_finding(
                "statement-status-inconsistent",
                f"{_subject(reading)} says the site is fully compliant, but this scan found "
                f"failures of {len(failing)} WCAG success "
                f"{'criterion' if len(failing) == 1 else 'criteria'}: {_listed(failing)}.",
                "Fix those failures, or say the site is partially compliant and list them "
                'under "Non-accessible content".',
            )
        ]
    if reading.status != "fully" and not reading.non_accessible:
        return [
            statement_finding(
                "statement-non-accessible",
                f"{_subject(reading)} says the site is {reading.status} compliant but has no "
                '"Non-accessible content" section.',
                "Add the section: each problem in plain words, the WCAG criterion it fails, "
                "and when you plan to fix it.",
            )
        ]
    return []


def _criteria(reading: StatementReading, failing: Mapping[str, int]) -> list[Finding]:
    """Criteria the scan found failing that a statement admitting failures does not name."""
    unlisted = {c: n for c, n in failing.items() if c not in reading.criteria}
    if reading.status == "fully" or not unlisted:
        return []  # a full claim is judged by the status check
    return [
        statement_finding(
            "statement-criteria-unlisted",
            f"{_subject(reading)} does not name {len(unlisted)} WCAG success "
            f"{'criterion' if len(unlisted) == 1 else 'criteria'} this scan found failing: "
            f"{_listed(unlisted)}.",
            'Add each to "Non-accessible content": what fails, in plain words, and the '
            "criterion by number and name.",
        )
    ]


def _contact(reading: StatementReading) -> list[Finding]:
    if reading.contact:
        return []
    return [
        statement_finding(
            "statement-contact",
            f"{_subject(reading)} gives no email address, phone number or form for reporting an "
            "accessibility problem or asking for information in another format.",
            "Say how to contact you, with at least one way, and how soon you will reply.",
        )
    ]


def _enforcement(reading: StatementReading) -> list[Finding]:
    if reading.enforcement:
        return []
    named = " names the enforcement service but" if reading.enforcement_named else ""
    return [
        statement_finding(
            "statement-enforcement",
            f"{_subject(reading)}{named} does not link to the Equality Advisory and Support "
            "Service (or, in Northern Ireland, the Equality Commission for Northern Ireland).",
            "Add the enforcement procedure with a link to the service, for people not happy "
            "with your answer.",
        )
    ]


def _dates(reading: StatementReading, scan_day: date) -> list[Finding]:
    last = reading.reviewed or reading.prepared
    if last is None:
        return [
            statement_finding(
                "statement-dates",
                f"{_subject(reading)} does not say when it was prepared or last reviewed.",
                'Add "This statement was prepared on ..." and "It was last reviewed on ...".',
            )
        ]
    reviewed = date.fromisoformat(last)
    months = months_between(reviewed, scan_day)
    if scan_day <= _months_after(reviewed, REVIEW_MONTHS):
        return []
    return [
        statement_finding(
            "statement-review-overdue",
            f"{_subject(reading)} was last reviewed on {last}, {months} months before this scan "
            f"({scan_day.isoformat()}).",
            "Review it against the site as it is now, and update its date.",
        )
    ]


def _months_after(day: date, months: int) -> date:
    """The same day that many months later (the month's last day if it has no such day)."""
    year, month = divmod(day.month - 1 + months, 12)
    for last_day in (day.day, 30, 29, 28):
        try:
            return date(day.year + year, month + 1, min(day.day, last_day))
        except ValueError:
            continue
    raise ValueError(day)


def _listed(criteria: Mapping[str, int]) -> str:
    """Criteria by number and name with their pages, in WCAG order."""
    return "; ".join(
        f"{c} {CRITERION_NAMES.get(c, '')} ({n} {'page' if n == 1 else 'pages'})".replace("  ", " ")
        for c, n in sorted(criteria.items(), key=lambda kv: _order(kv[0]))
    )


def _order(criterion: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in criterion.split("."))
