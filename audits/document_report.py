"""What a document check found: the report and its issues, dates and the 2018 exemption."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

EXEMPTION_DATE = date(2018, 9, 23)  # the regulations cover documents published from this day
EARLIEST = date(1993, 1, 1)  # before PDF 1.0: a placeholder such as 1970-01-01 or 1601-01-01

# Titles that tools fill in by themselves: they name the file, not what it is about.
PLACEHOLDER_TITLE = re.compile(
    r"^(untitled|document\s*\d*|title|presentation\s*\d*|book\s*\d*|slide\s*\d*"
    r"|microsoft (word|excel|powerpoint) - .*"
    r"|.*\.(docx?|xlsx?|pptx?|pdf|rtf|odt|indd|pub|txt|html?))$",
    re.IGNORECASE,
)
XMP_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


@dataclass(frozen=True)
class DocumentIssue:
    rule_id: str  # e.g. "pdf-untagged", "office-no-title", "document-unreadable"
    impact: str  # critical / serious / moderate / minor
    wcag: str | None  # comma-separated success criteria, e.g. "1.3.1"
    summary: str  # what is wrong, in plain English for a page editor, and what to do
    help: str  # a short title, e.g. "PDF is not tagged"


@dataclass(frozen=True)
class DocumentReport:
    kind: str  # "pdf", "docx", "xlsx", "pptx" or "other"
    title: str | None
    language: str | None
    pages: int | None
    created: str | None  # ISO date
    modified: str | None  # ISO date
    tagged: bool | None
    has_text: bool | None
    encrypted: bool
    exempt_2018: bool  # created (or else modified) before 2018-09-23
    issues: list[DocumentIssue]
    error: str | None = None


# rule id -> (impact, WCAG success criteria, short title)
RULES: dict[str, tuple[str, str | None, str]] = {
    "pdf-untagged": ("serious", "1.3.1", "PDF is not tagged"),
    "pdf-no-title": ("moderate", "2.4.2", "PDF has no title"),
    "pdf-title-not-displayed": ("minor", "2.4.2", "PDF shows its file name, not its title"),
    "pdf-no-language": ("moderate", "3.1.1", "PDF has no language"),
    "pdf-no-text": ("critical", "1.1.1", "PDF has no text"),
    "pdf-no-bookmarks": ("moderate", "2.4.5", "Long PDF has no bookmarks"),
    "pdf-unlabelled-fields": ("serious", "4.1.2", "PDF form fields have no labels"),
    "pdf-encrypted-blocks-at": ("critical", "1.1.1", "PDF security blocks screen readers"),
    "office-no-title": ("moderate", "2.4.2", "Document has no title"),
    "office-no-language": ("moderate", "3.1.1", "Document has no language"),
    "document-unreadable": ("serious", None, "Document could not be opened"),
}


def issue(rule_id: str, summary: str) -> DocumentIssue:
    impact, wcag, help_title = RULES[rule_id]
    return DocumentIssue(rule_id, impact, wcag, summary, help_title)


# --- Reports ----------------------------------------------------------------------------


def empty_report(
    kind: str,
    issues: list[DocumentIssue] | None = None,
    error: str | None = None,
    encrypted: bool = False,
) -> DocumentReport:
    return DocumentReport(
        kind=kind,
        title=None,
        language=None,
        pages=None,
        created=None,
        modified=None,
        tagged=None,
        has_text=None,
        encrypted=encrypted,
        exempt_2018=False,
        issues=issues or [],
        error=error,
    )


def unreadable(kind: str, error: str) -> DocumentReport:
    summary = (
        f"This file could not be opened ({error}). It may be damaged, or not the kind of "
        "file its name or link says it is. Check that it opens on your own computer, then "
        "upload it again."
    )
    return empty_report(kind, [issue("document-unreadable", summary)], error)


def describe_error(err: BaseException) -> str:
    """The exception's message without qpdf's "stream <_io.BytesIO object at 0x...>: "."""
    message = re.sub(r"^stream <[^>]*>:\s*", "", str(err)).strip()
    return (message or type(err).__name__)[:300]


def is_exempt(created: date | None, modified: date | None) -> bool:
    published = created or modified
    return published is not None and published < EXEMPTION_DATE


def plausible(day: date) -> date | None:
    """Drop placeholder dates from before PDF existed, and dates in the future."""
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    return day if EARLIEST <= day <= tomorrow else None


def iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def is_placeholder_title(title: str) -> bool:
    return bool(PLACEHOLDER_TITLE.match(title.strip()))


def parse_iso_date(text: str | None) -> date | None:
    """An XMP or Office (W3CDTF) date: a year, a month, a day, or a full timestamp."""
    text = (text or "").strip()
    match = XMP_DATE.match(text)
    try:
        if match:
            year, month, day = match.groups()
            return plausible(date(int(year), int(month or 1), int(day or 1)))
        moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return plausible(moment.date())


def title_problem(thing: str, title: str | None) -> str:
    """The first sentence of a title issue: no title, or one a tool filled in."""
    if title:
        return (
            f'The title of this {thing} is "{title}", which names a file rather than '
            "saying what it is about."
        )
    return (
        f"This {thing} has no title in its properties, so screen readers and browsers "
        "announce the file name instead."
    )
