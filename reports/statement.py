"""A draft of the accessibility statement's "Non-accessible content" section, drawn from a
scan, in the model statement's structure, as Markdown or HTML for a person to finish."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup

from reports.changes import ReportError
from reports.escape import markdown_link, markdown_text
from reports.html import TEMPLATES, content_security_policy, environment
from store.statement import (
    accessibility_violations,
    document_findings,
    failing_documents,
    finished_scan,
    page_titles,
)
from vocabulary.checks import OWN_RULES
from vocabulary.coverage import criterion_order
from vocabulary.explanations import explanation_for
from vocabulary.urls import path_and_query
from vocabulary.wcag import CRITERION_LEVELS, CRITERION_NAMES

EXAMPLES = 3  # pages named under each failing criterion
EXEMPTION_DAY = dt.date(2018, 9, 23)  # documents published before it may be out of scope
BEFORE, SINCE, UNKNOWN = "before", "since", "unknown"
KINDS = {"pdf": "PDF", "docx": "Word", "xlsx": "Excel", "pptx": "PowerPoint"}
TO_COMPLETE = "[To complete:"


@dataclass(frozen=True)
class PageLink:
    url: str
    title: str


@dataclass
class FailingCriterion:
    """One WCAG success criterion the scan found failing, with what fails and where."""

    number: str
    what_fails: list[str] = field(default_factory=list)  # one plain sentence or two per rule
    urls: set[str] = field(default_factory=set)
    in_layout: bool = False  # some of it is in the shared layout (every page shows it)
    examples: list[PageLink] = field(default_factory=list)

    @property
    def name(self) -> str:
        return CRITERION_NAMES.get(self.number, "")

    @property
    def level(self) -> str:
        return CRITERION_LEVELS.get(self.number, "")

    @property
    def title(self) -> str:
        return f"{self.number} {self.name} (Level {self.level})" if self.name else self.number


@dataclass(frozen=True)
class FailingDocument:
    """A document that fails its checks, and what its stored dates say of the exemption."""

    url: str
    title: str
    kind: str
    published: str | None  # the day the verdict rests on, as stored
    date_source: str | None  # "created" or "modified"
    verdict: str  # BEFORE, SINCE or UNKNOWN
    problems: tuple[str, ...]
    criteria: tuple[str, ...]


@dataclass
class Draft:
    scan_id: int
    start_url: str
    scan_day: str
    criteria: list[FailingCriterion]
    documents: list[FailingDocument]
    browser: bool = True  # the scan audited pages in Chromium (axe-core ran)

    def documents_where(self, verdict: str) -> list[FailingDocument]:
        return [d for d in self.documents if d.verdict == verdict]


def load_draft(db: Any, scan_id: int | None) -> Draft:
    """The draft of a finished scan (the latest when scan_id is None); ReportError when
    there is none."""
    scan = checked_scan(db, scan_id)
    titles = page_titles(db, scan["id"])
    return Draft(
        scan["id"],
        scan["start_url"] or "",
        (scan["started_at"] or "")[:10],
        failing_criteria(accessibility_violations(db, scan["id"]), titles),
        documents_of(failing_documents(db, scan["id"]), document_findings(db, scan["id"])),
        browser=bool(scan["browser"]),
    )


def checked_scan(db: Any, scan_id: int | None, option: str = "--scan") -> dict[str, Any]:
    """A finished scan's row, or ReportError naming the option, what is wrong and what to
    give."""
    scan = finished_scan(db, scan_id)
    if scan is None and scan_id is None:
        raise ReportError("the database has no finished scan; run siteaudit scan first")
    if scan is None:
        raise ReportError(
            f"{option} {scan_id}: there is no scan {scan_id} in this database; "
            + ("leave out --scan for the latest" if option == "--scan" else "give a scan it has")
        )
    if scan["status"] != "finished":
        raise ReportError(
            f"{option} {scan_id}: scan {scan_id} is {scan['status']}; give a finished scan"
        )
    return scan


def failing_criteria(rows: list[dict[str, Any]], titles: dict[str, str]) -> list[FailingCriterion]:
    """One entry per criterion the violations fail, in the standard's order."""
    found: dict[str, FailingCriterion] = {}
    rules: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        for number in filter(None, (row["wcag"] or "").split(",")):
            entry = found.setdefault(number, FailingCriterion(number))
            entry.urls.add(row["url"])
            entry.in_layout |= row["scope"] == "template"
            if row["rule_id"] not in rules[number]:
                rules[number].append(row["rule_id"])
                words = plain_words(row["rule_id"], row["help"])
                if words not in entry.what_fails:
                    entry.what_fails.append(words)
    for entry in found.values():
        chosen = sorted(entry.urls, key=lambda url: (len(path_and_query(url)), url))[:EXAMPLES]
        entry.examples = [PageLink(url, titles.get(url) or path_and_query(url)) for url in chosen]
    return sorted(found.values(), key=lambda e: criterion_order(e.number))


def plain_words(rule_id: str, help_text: str | None) -> str:
    """What a rule's failure means in plain words: its explanation, else its one line."""
    explanation = explanation_for(rule_id)
    if explanation:
        return explanation.what_is_wrong
    if rule_id in OWN_RULES:
        return OWN_RULES[rule_id].help + "."
    return (help_text or rule_id).rstrip(".") + "."


def documents_of(rows: list[dict[str, Any]], checks: list[dict[str, Any]]) -> list[FailingDocument]:
    """Each failing document with its problems and what its dates say of the exemption."""
    problems: dict[str, list[str]] = defaultdict(list)
    criteria: dict[str, list[str]] = defaultdict(list)
    for check in checks:
        problems[check["url"]].append(first_sentence(check["summary"] or check["rule_id"] or ""))
        for number in filter(None, (check["wcag"] or "").split(",")):
            if number not in criteria[check["url"]]:
                criteria[check["url"]].append(number)
    documents = []
    for row in rows:
        published, source = publication_day(row["created"], row["modified"])
        verdict = UNKNOWN if published is None else BEFORE if published < EXEMPTION_DAY else SINCE
        documents.append(
            FailingDocument(
                row["url"],
                row["title"] or path_and_query(row["url"]),
                KINDS.get(row["kind"] or "", "Document"),
                published.isoformat() if published else None,
                source,
                verdict,
                tuple(problems[row["url"]]),
                tuple(sorted(criteria[row["url"]], key=criterion_order)),
            )
        )
    return documents


def first_sentence(text: str) -> str:
    """What a document check found, without how to fix it (the sentences after)."""
    head, dot, _ = " ".join(text.split()).partition(". ")
    return head + "." if dot else head


def publication_day(created: str | None, modified: str | None) -> tuple[dt.date | None, str | None]:
    """The day a document was published as its stored dates tell: created, else last
    modified (as the scan judged the exemption); (None, None) when neither is a date."""
    for value, source in ((created, "created"), (modified, "modified")):
        try:
            return dt.date.fromisoformat((value or "")[:10]), source
        except ValueError:
            continue
    return None, None


# --- Markdown -------------------------------------------------------------------------


def draft_markdown(draft: Draft) -> str:
    """The draft as Markdown: every text a page supplied escaped."""
    lines = [
        "# Accessibility statement: non-accessible content (draft)",
        "",
        *note_markdown(draft_note(draft)),
        "",
        "## Non-accessible content",
        "",
        "This part of the statement lists the content of the website that is not fully "
        "accessible, and why.",
        "",
        *non_compliance_markdown(draft),
        *burden_markdown(),
        *scope_markdown(draft),
    ]
    return "\n".join(lines).rstrip() + "\n"


def draft_note(draft: Draft) -> list[str]:
    """The note at the top, as plain sentences: a draft (the first), where it came from,
    and what a person must do."""
    return [
        "This is a draft. A person must check and edit it before it is published.",
        f"siteaudit wrote it from scan {draft.scan_id} of {draft.start_url}, run on "
        f"{draft.scan_day}.",
        "Automatic checks find only some accessibility problems: test the site by hand and "
        "with disabled people too, add what they find, fill in every part marked "
        f"{TO_COMPLETE} ...], and delete this note before publishing.",
    ] + (
        []
        if draft.browser
        else [
            "This scan did not audit the pages in a browser (--no-browser), so axe-core's "
            "checks did not run: draft from a full scan."
        ]
    )


def note_markdown(note: list[str]) -> list[str]:
    """The note as a quote, its first sentence in bold."""
    first, *rest = [markdown_text(sentence) for sentence in note]
    return [f"> **{first}**", *(f"> {sentence}" for sentence in rest)]


def non_compliance_markdown(draft: Draft) -> list[str]:
    lines = ["### Non-compliance with the accessibility regulations", ""]
    if not draft.criteria:
        lines += [
            f"The scan of {draft.scan_day} found no failure of the Web Content Accessibility "
            "Guidelines (WCAG) version 2.1 AA that automatic checks can find.",
            "",
            f"{TO_COMPLETE} list what testing by hand found, or say that the site meets the "
            "standard if it does.]",
            "",
        ]
    else:
        lines += [
            "The content below does not meet the Web Content Accessibility Guidelines (WCAG) "
            f"version 2.1 AA standard. The scan of {draft.scan_day} found these failures.",
            "",
        ]
    for entry in draft.criteria:
        lines += criterion_markdown(entry)
    since = draft.documents_where(SINCE)
    if since:
        lines += ["#### Documents published on or after 23 September 2018", ""]
        lines += [
            "These documents fail their accessibility checks, and the regulations cover them:",
            "",
        ]
        lines += [f"- {document_line(d)}" for d in since]
        lines += ["", f"{TO_COMPLETE} say when each will be fixed or replaced by a web page.]", ""]
    return lines


def criterion_markdown(entry: FailingCriterion) -> list[str]:
    pages = f"{len(entry.urls)} page{'s' if len(entry.urls) != 1 else ''}"
    lines = [f"#### {markdown_text(entry.title)}", ""]
    lines += [markdown_text(text) for text in entry.what_fails]
    lines += [""]
    if entry.in_layout:
        lines += ["Some of this is in the layout every page shares, such as the header.", ""]
    lines += [f"Found on {pages}, for example:", ""]
    lines += [f"- {markdown_link(page.title, page.url)}" for page in entry.examples]
    lines += [
        "",
        f"This fails WCAG 2.1 success criterion {entry.number} ({markdown_text(entry.name)}). "
        f"{TO_COMPLETE} say when you plan to fix it.]",
        "",
    ]
    return lines


def document_line(document: FailingDocument) -> str:
    dated = (
        f"{document.date_source} {document.published}" if document.published else "no date found"
    )
    fails = " ".join(markdown_text(p) for p in document.problems)
    criteria = ", ".join(document.criteria)
    return (
        f"{markdown_link(document.title, document.url)} ({document.kind}, {dated})"
        + (f", WCAG {criteria}" if criteria else "")
        + (f": {fails}" if fails else "")
    )


def burden_markdown() -> list[str]:
    return [
        "### Disproportionate burden",
        "",
        f"{TO_COMPLETE} list any problem you have decided not to fix because fixing it would "
        "be a disproportionate burden, say why, and say that you have assessed that burden. "
        "Claim it only after the assessment. If there is nothing to list, say so.]",
        "",
    ]


def scope_markdown(draft: Draft) -> list[str]:
    lines = [
        "### Content that's not within the scope of the accessibility regulations",
        "",
        "#### PDFs and other documents",
        "",
        "Documents such as PDFs published before 23 September 2018 are outside the "
        "regulations, as long as no one needs them to use one of our services.",
        "",
    ]
    before, unknown = draft.documents_where(BEFORE), draft.documents_where(UNKNOWN)
    if before:
        lines += ["Published before 23 September 2018, failing their checks:", ""]
        lines += [f"- {document_line(d)}" for d in before]
        lines += [
            "",
            f"{TO_COMPLETE} check that none of these is needed to use a service; one that is "
            "must be fixed, and belongs under Non-compliance.]",
            "",
        ]
    if unknown:
        lines += ["Failing their checks, with no date to show when they were published:", ""]
        lines += [f"- {document_line(d)}" for d in unknown]
        lines += [
            "",
            "Whether the exemption covers these cannot be decided from the documents. "
            f"{TO_COMPLETE} find when each was published.]",
            "",
        ]
    if not before and not unknown:
        lines += ["The scan found no failing document that the exemption could cover.", ""]
    lines += [
        f"{TO_COMPLETE} add any other content outside the regulations' scope, such as "
        "recorded video published before 23 September 2020, live video, online maps or "
        "content from others that you do not pay for or control. Delete this line if "
        "there is none.]",
    ]
    return lines


# --- HTML -----------------------------------------------------------------------------


def draft_html(draft: Draft) -> str:
    """The draft as one HTML page, with no script, every text a page supplied escaped."""
    env = environment()
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    template = env.get_template("statement.html")
    return template.render(
        draft=draft,
        note=draft_note(draft),
        css=Markup(css),
        csp=content_security_policy(css),
        TO_COMPLETE=TO_COMPLETE,
        BEFORE=BEFORE,
        SINCE=SINCE,
        UNKNOWN=UNKNOWN,
    )


def render_draft(draft: Draft, out: Path) -> str:
    """The draft in the format out's extension names (.md or .html)."""
    return draft_html(draft) if out.suffix.lower() in (".html", ".htm") else draft_markdown(draft)
