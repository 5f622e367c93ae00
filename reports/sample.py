"""A sample of pages for a detailed test by hand, chosen as the public-sector monitoring
chooses one, with each page's checklist of what automatic checks cannot settle; and the
retest of that sample in a later scan, criterion by criterion."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from reports.changes import ReportError
from reports.statement import checked_scan
from store.sample import (
    accessibility_results,
    later_finished_scan,
    links_matching,
    pages_linking_documents,
    pages_with_form_fields,
    pages_with_media,
    sample_pages,
    statement_page,
)
from vocabulary.checks import rules_of
from vocabulary.coverage import WCAG21_AA, covered_criteria, criterion_order
from vocabulary.urls import path_and_query

# A service's start page usually says what to do first: "Apply for...", "Pay your...".
SERVICE_VERBS = re.compile(
    r"^\s*(apply|pay|report|book|register|request|renew|order|start|claim|make)\b", re.I
)
NEEDS_REVIEW, NOT_CHECKED = "needs-review", "no-automatic-check"


@dataclass(frozen=True)
class CheckItem:
    """A criterion a person must test on a page, and why the scan could not settle it."""

    criterion: str
    why: str  # NEEDS_REVIEW or NOT_CHECKED
    rules: tuple[str, ...] = ()  # the rules that asked for review


@dataclass
class SampledPage:
    url: str
    title: str
    reasons: list[str] = field(default_factory=list)
    checklist: list[CheckItem] = field(default_factory=list)


@dataclass
class Sample:
    scan_id: int
    start_url: str
    scan_day: str
    pages: list[SampledPage]
    missing: list[str]  # what the monitoring asks for that the scan has no page for


def load_sample(db: Any, scan_id: int | None, option: str = "--scan") -> Sample:
    """The sample of a finished scan (the latest when scan_id is None), with checklists;
    `option` is what gave the scan, for an error."""
    scan = checked_scan(db, scan_id, option)
    pages = sample_pages(db, scan["id"])
    if not pages:
        raise ReportError(f"scan {scan['id']} read no pages to sample; scan the site again")
    chosen, missing = choose(db, scan, pages)
    add_checklists(db, scan, chosen)
    return Sample(
        scan["id"], scan["start_url"] or "", (scan["started_at"] or "")[:10], chosen, missing
    )


def choose(
    db: Any, scan: dict[str, Any], pages: list[dict[str, Any]]
) -> tuple[list[SampledPage], list[str]]:
    """The pages the monitoring's sample asks for, each once with every reason it is in."""
    scan_id = scan["id"]
    by_url = {p["url"]: p for p in pages}
    sample: dict[str, SampledPage] = {}
    missing: list[str] = []

    def add(url: str | None, reason: str, wanted: str) -> None:
        if url is None or url not in by_url:
            missing.append(wanted)
            return
        page = sample.setdefault(url, SampledPage(url, by_url[url]["title"] or ""))
        page.reasons.append(reason)

    add(home_page(scan["start_url"], pages), "the home page", "a home page")
    contact = contact_page(db, scan_id, pages)
    add(contact, "the contact page", "a contact page")
    statement, why = statement_page(db, scan_id) or (None, "")
    add(statement, why, "an accessibility statement")
    for section, url in section_pages(pages):
        add(url, f"the top-level section /{section}/", f"a page of /{section}/")
    for number, (url, size) in enumerate(template_pages(pages, sample), start=1):
        add(url, f"layout {number} of the site's pages, shared by {size} pages", "")
    form = first_of(pages_with_form_fields(db, scan_id))
    add(form, "a form: its fields are in its own content", "a page with a form")
    start = next((p["url"] for p in pages if SERVICE_VERBS.match(p["title"] or "")), None)
    if start is not None:
        add(start, "a service's start page: its title says what to do", "")
    document = first(pages_linking_documents(db, scan_id))
    add(document, "a page linking to a document", "a page linking to a document")
    media = pages_with_media(db, scan_id)
    shows = f" ({media[0][1]})" if media else ""
    add(media[0][0] if media else None, f"a page with media{shows}", "a page with media")
    return list(sample.values()), [m for m in missing if m]


def first(rows: list[tuple[str, int]]) -> str | None:
    return rows[0][0] if rows else None


def first_of(urls: list[str]) -> str | None:
    return urls[0] if urls else None


def home_page(start_url: str | None, pages: list[dict[str, Any]]) -> str | None:
    """The start URL if it was read, else the page with the shortest path at depth 0."""
    urls = {p["url"] for p in pages}
    if start_url in urls:
        return start_url
    roots = [p["url"] for p in pages if path_and_query(p["url"]) == "/"]
    return roots[0] if roots else pages[0]["url"]


def contact_page(db: Any, scan_id: int, pages: list[dict[str, Any]]) -> str | None:
    """A page whose address or title says "contact", else the one the most "contact"
    links go to."""
    for page in pages:
        path = urlsplit(page["url"]).path.lower()
        if "contact" in path or (page["title"] or "").lower().startswith("contact"):
            return page["url"]
    return first(links_matching(db, scan_id, "contact"))


def section_of(url: str) -> str | None:
    """The first segment of a page's path when it is a folder ("/news/..." is news); None
    for the home page and pages at the top level ("/accessibility.html")."""
    parts = urlsplit(url).path.split("/")
    return parts[1] if len(parts) > 2 and parts[1] else None


def section_pages(pages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(section, its page: the shallowest, then the shortest address) for each top-level
    section, by the section's name."""
    chosen: dict[str, str] = {}
    for page in pages:  # already ordered by depth, then address length
        section = section_of(page["url"])
        if section and section not in chosen:
            chosen[section] = page["url"]
    return sorted(chosen.items())


def template_pages(
    pages: list[dict[str, Any]], sample: dict[str, SampledPage]
) -> list[tuple[str, int]]:
    """(a page, the pages sharing its layout) for each layout: its navigation regions and
    site search in the same places. A page already in the sample stands for its layout."""
    layouts: dict[tuple[str, str], list[str]] = defaultdict(list)
    for page in pages:
        if page["navigation"] is not None or page["search"] is not None:
            layouts[(page["navigation"] or "", page["search"] or "")].append(page["url"])
    return [
        (next((u for u in urls if u in sample), urls[0]), len(urls))
        for urls in sorted(layouts.values(), key=len, reverse=True)
    ]


def add_checklists(db: Any, scan: dict[str, Any], pages: list[SampledPage]) -> None:
    """Each page's checklist: the criteria its needs-review results name, then those no
    rule the scan ran checks, in the standard's order."""
    covered = covered_criteria(rules_run(scan), scan["wcag"])
    review: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for row in accessibility_results(db, scan["id"], "needs-review"):
        for number in filter(None, (row["wcag"] or "").split(",")):
            rules = review[row["url"]][number]
            if row["rule_id"] not in rules:
                rules.append(row["rule_id"])
    for page in pages:
        asked = review.get(page.url, {})
        items = [CheckItem(n, NEEDS_REVIEW, tuple(asked[n])) for n in WCAG21_AA if n in asked] + [
            CheckItem(n, NOT_CHECKED) for n in WCAG21_AA if n not in covered and n not in asked
        ]
        page.checklist = sorted(items, key=lambda item: criterion_order(item.criterion))


def rules_run(scan: dict[str, Any]) -> list[str]:
    """The rule ids a scan ran: scans.axe_rules (NULL without the browser), and the own
    rules of the checks in scans.checks (which lists the browser's only when it ran)."""
    return [*json_names(scan["axe_rules"]), *rules_of(json_names(scan["checks"]))]


def json_names(value: str | None) -> list[str]:
    """A stored JSON list of names; none for NULL or a value that is not one."""
    try:
        names = json.loads(value or "[]")
    except ValueError:
        return []
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []


# --- the retest -----------------------------------------------------------------------

FIXED, STILL, NEW, NOT_RETESTED, GONE = (
    "fixed",
    "still failing",
    "new",
    "not checked again",
    "page gone",
)


@dataclass(frozen=True)
class RetestLine:
    url: str
    criterion: str
    status: str  # FIXED, STILL, NEW, NOT_RETESTED or GONE
    rules: tuple[str, ...]


@dataclass
class Retest:
    sample: Sample
    later_id: int
    later_day: str
    lines: list[RetestLine]

    def count(self, status: str) -> int:
        return sum(1 for line in self.lines if line.status == status)


def load_retest(db: Any, sample_scan: int, later: int | None) -> Retest:
    """The sample of `sample_scan` retested in `later` (the latest finished scan of the
    same site after it when None): each page's failing criteria fixed, still failing, new."""
    sample = load_sample(db, sample_scan, "--retest")
    later_scan = checked_later_scan(db, sample_scan, later)
    before = failing_by_page(db, sample.scan_id)
    now = failing_by_page(db, later_scan["id"])
    read_now = {path_and_query(p["url"]): p for p in sample_pages(db, later_scan["id"])}
    retested = covered_criteria(rules_run(later_scan), later_scan["wcag"])
    lines: list[RetestLine] = []
    for page in sample.pages:
        key = path_and_query(page.url)
        lines += page_retest(
            page.url, before.get(key, {}), now.get(key, {}), read_now.get(key), retested
        )
    return Retest(sample, later_scan["id"], (later_scan["started_at"] or "")[:10], lines)


def checked_later_scan(db: Any, sample_scan: int, later: int | None) -> dict[str, Any]:
    """The scan to retest in: given, or the latest finished one of the same site after the
    sample's; ReportError when there is none, or it is not later or not the same site."""
    fix = "scan the site again, or give --scan a later finished scan of the same site"
    if later is None:
        later = later_finished_scan(db, sample_scan)
        if later is None:
            raise ReportError(
                f"--retest {sample_scan}: no finished scan of the same site after it; {fix}"
            )
    scan, sampled = checked_scan(db, later), checked_scan(db, sample_scan, "--retest")
    if later <= sample_scan:
        raise ReportError(f"--scan {later}: it is not later than scan {sample_scan}; {fix}")
    if scan["start_url"] != sampled["start_url"]:
        raise ReportError(
            f"--scan {later}: scan {later} is of {scan['start_url']}, not "
            f"{sampled['start_url']}; {fix}"
        )
    return scan


def failing_by_page(db: Any, scan_id: int) -> dict[str, dict[str, list[str]]]:
    """page (path and query) -> criterion -> the rules failing it there, in a scan."""
    found: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for row in accessibility_results(db, scan_id, "violation"):
        for number in filter(None, (row["wcag"] or "").split(",")):
            rules = found[path_and_query(row["url"])][number]
            if row["rule_id"] not in rules:
                rules.append(row["rule_id"])
    return found


def page_retest(
    url: str,
    before: dict[str, list[str]],
    now: dict[str, list[str]],
    read: dict[str, Any] | None,
    retested: set[str],
) -> list[RetestLine]:
    """One page's failing criteria then and now. A criterion is fixed only on a page read
    without error again, by a scan whose rules check that criterion."""
    lines = []
    for number in sorted(set(before) | set(now), key=criterion_order):
        rules = tuple(dict.fromkeys([*before.get(number, []), *now.get(number, [])]))
        if number in now:
            status = STILL if number in before else NEW
        elif read is None:
            status = GONE
        elif read["error"] or number not in retested:
            status = NOT_RETESTED
        else:
            status = FIXED
        lines.append(RetestLine(url, number, status, rules))
    return lines
