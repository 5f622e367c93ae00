"""The sample and its retest as a plain table for the terminal, CSV for a spreadsheet and
one HTML page for the people testing; every text a page supplied escaped."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from markupsafe import Markup

from reports.escape import spreadsheet_cell, terminal
from reports.html import BYTE_ORDER_MARK, TEMPLATES, content_security_policy, environment
from reports.sample import (
    FIXED,
    GONE,
    NEEDS_REVIEW,
    NEW,
    NOT_RETESTED,
    STILL,
    CheckItem,
    Retest,
    Sample,
)
from vocabulary.coverage import criterion_order, criterion_title
from vocabulary.problems import plural

FORMATS = {".html": "html", ".htm": "html", ".csv": "csv"}
STATUSES = (STILL, NEW, FIXED, NOT_RETESTED, GONE)  # the order a retest lists them in


def why_by_hand(item: CheckItem) -> str:
    """Why a person must test a criterion, in words."""
    if item.why == NEEDS_REVIEW:
        return f"needs review: {', '.join(item.rules)} could not decide"
    return "no automatic check covers it"


# --- the terminal -----------------------------------------------------------------------


def sample_text(sample: Sample) -> str:
    """The sample as lines for the terminal: the criteria to test by hand on every page
    (no automatic check covers them), then each page, why, and what needs review there."""
    everywhere = sorted(
        {i.criterion for page in sample.pages for i in page.checklist if i.why != NEEDS_REVIEW},
        key=criterion_order,
    )
    lines = [
        f"Sample of scan {sample.scan_id} ({sample.scan_day}) of {terminal(sample.start_url)}: "
        f"{plural(len(sample.pages), 'page')}",
        "Test by hand on every page (no automatic check covers them): "
        + (", ".join(everywhere) or "none"),
        "",
    ]
    for number, page in enumerate(sample.pages, start=1):
        lines.append(f"{number:>2}. {terminal(page.url)}  {terminal(page.title)}")
        lines.append(f"    why: {terminal('; '.join(page.reasons))}")
        review = [
            f"{i.criterion} ({', '.join(terminal(r) for r in i.rules)})"
            for i in page.checklist
            if i.why == NEEDS_REVIEW
        ]
        if review:
            lines.append(f"    also test by hand here, needs review: {'; '.join(review)}")
    if sample.missing:
        lines += ["", "Not found in the scan: " + terminal("; ".join(sample.missing))]
    return "\n".join(lines) + "\n"


def retest_text(retest: Retest) -> str:
    """The retest as lines for the terminal: counts, then each page's criteria by status."""
    counts = ", ".join(f"{retest.count(s)} {s}" for s in STATUSES if retest.count(s) or s != GONE)
    lines = [
        f"Retest of the sample of scan {retest.sample.scan_id} ({retest.sample.scan_day}) "
        f"in scan {retest.later_id} ({retest.later_day}): {counts}",
        "",
    ]
    for page in retest.sample.pages:
        mine = [line for line in retest.lines if line.url == page.url]
        if not mine:
            continue
        lines.append(terminal(page.url))
        for line in sorted(mine, key=lambda li: STATUSES.index(li.status)):
            rules = ", ".join(terminal(r) for r in line.rules)
            lines.append(f"    {line.status}: {criterion_title(line.criterion)} ({rules})")
    if not retest.lines:
        lines.append("No failing criterion on the sample's pages in either scan.")
    return "\n".join(lines) + "\n"


# --- CSV --------------------------------------------------------------------------------

SAMPLE_COLUMNS = (
    "page",
    "title",
    "why_chosen",
    "criterion",
    "level_and_name",
    "why_by_hand",
    "result",
)
RETEST_COLUMNS = ("page", "criterion", "level_and_name", "status", "rules")


def csv_text(header: tuple[str, ...], rows: list[list[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([[spreadsheet_cell(value) for value in row] for row in rows])
    return BYTE_ORDER_MARK + out.getvalue()


def sample_csv(sample: Sample) -> str:
    """One row per page and criterion to test by hand; `result` left for the tester."""
    rows: list[list[object]] = []
    for page in sample.pages:
        why = "; ".join(page.reasons)
        for item in page.checklist:
            name = criterion_title(item.criterion)
            rows.append([page.url, page.title, why, item.criterion, name, why_by_hand(item), ""])
    return csv_text(SAMPLE_COLUMNS, rows)


def retest_csv(retest: Retest) -> str:
    rows: list[list[object]] = [
        [
            line.url,
            line.criterion,
            criterion_title(line.criterion),
            line.status,
            " ".join(line.rules),
        ]
        for line in retest.lines
    ]
    return csv_text(RETEST_COLUMNS, rows)


# --- HTML -------------------------------------------------------------------------------


def sample_html(sample: Sample, retest: Retest | None = None) -> str:
    """The sample (or its retest) as one HTML page with no script."""
    env = environment()
    env.filters["criterion_title"] = criterion_title
    env.filters["why_by_hand"] = why_by_hand
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    return env.get_template("sample.html").render(
        sample=sample,
        retest=retest,
        statuses=STATUSES,
        NEEDS_REVIEW=NEEDS_REVIEW,
        css=Markup(css),
        csp=content_security_policy(css),
    )


def render_sample(sample: Sample, retest: Retest | None, out: Path | None) -> str:
    """The sample or retest in the format out's extension names; the plain table without."""
    kind = FORMATS.get(out.suffix.lower()) if out else None
    if kind == "html":
        return sample_html(sample, retest)
    if kind == "csv":
        return retest_csv(retest) if retest else sample_csv(sample)
    return retest_text(retest) if retest else sample_text(sample)
