"""Render a scan as a static HTML site: an index, a page and a CSV for every team.

The pages carry no script at all (their Content-Security-Policy forbids it), escape
everything that came from the crawled site, pass axe-core, and print.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from reports.data import Issue, ScanReport, TeamReport
from reports.escape import file_text, http_url, spreadsheet_cell
from reports.files import write_atomic
from vocabulary.impacts import IMPACTS
from vocabulary.labels import READING_AGE_METHOD
from vocabulary.problems import count_problems, plural

TEMPLATES = Path(__file__).resolve().parent / "templates"
# What an editor reads first; the developers' columns (rule, selector, code, fingerprint) last.
CSV_COLUMNS = (
    "team",
    "url",
    "title",
    "page_score",
    "kind",
    "help",
    "impact",
    "impact_meaning",
    "wcag",
    "wcag_level",
    "first_seen",
    "decision",
    "location",
    "picture",
    "outcome",
    "rule_id",
    "summary",
    "selector",
    "snippet",
    "help_url",
    "fingerprint",
)
# Excel reads a CSV as UTF-8 only when it starts with a byte-order mark.
BYTE_ORDER_MARK = "\ufeff"


def environment() -> Environment:
    # Autoescape everything: titles, snippets and URLs come from the crawled site.
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=visible_controls,
    )
    # A crawled URL becomes a link only if it is http(s): never javascript: or data:.
    env.filters["http_url"] = http_url
    env.globals["known_impacts"] = IMPACTS
    env.globals["reading_age_method"] = READING_AGE_METHOD
    env.filters["plural"] = plural
    return env


def visible_controls(value: object) -> object:
    """Every printed value: control characters shown as escapes (then autoescaped).
    Markup is a macro's output, already made of values that passed through here."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return file_text(value)
    return value


def content_security_policy(css: str) -> str:
    """No script, no plug-ins, no forms; only the one inline stylesheet, by its hash."""
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    return (
        f"default-src 'none'; script-src 'none'; style-src 'sha256-{digest}'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'"
    )


def write_report(report: ScanReport, out: Path) -> list[Path]:
    """Write index.html and team-*.html/.csv into out; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    env = environment()
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    common = {
        "css": css,
        "csp": content_security_policy(css),
        "scan": report.scan,
        "site_name": report.site_name,
    }
    written = [
        render(
            env, "index.html", out / "index.html", report=report, **index_figures(report), **common
        )
    ]
    for team in report.teams:
        written.append(
            render(
                env,
                "team.html",
                out / f"team-{team.slug}.html",
                team=team,
                template_count=template_count(report, team),
                template_owner=report.template_owner,
                **common,
            )
        )
        written.append(write_csv(team, out / f"team-{team.slug}.csv"))
    return written + write_pictures(report, out)


def write_pictures(report: ScanReport, out: Path) -> list[Path]:
    """Every picture the report shows, as a file in its pictures/ folder. The folder is
    made afresh if something else (a symlink planted there) has its name."""
    if not report.picture_files or report.read_picture is None:
        return []
    folder = out / "pictures"
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        folder.unlink()
    folder.mkdir(exist_ok=True)
    written = []
    for path, picture_id in sorted(report.picture_files.items()):
        image = report.read_picture(picture_id)
        if image is not None:
            written.append(write_atomic(out / path, image))
    return written


def render(env: Environment, template: str, path: Path, **context: object) -> Path:
    return write_atomic(path, env.get_template(template).render(**context))


def index_figures(report: ScanReport) -> dict[str, int]:
    pages = [p for t in report.teams for p in t.pages]
    return {
        "page_count": len(pages),
        "audited_count": sum(1 for p in pages if p.error is None and report.scan["browser"]),
        # The same count as every other output's: vocabulary/problems.py.
        "violation_count": report.problems.problems,
        "element_count": report.problems.elements,
        "critical_count": report.problems.impact("critical"),
        "serious_count": report.problems.impact("serious"),
    }


def template_count(report: ScanReport, team: TeamReport) -> int:
    """Template problems that also appear on this team's pages."""
    urls = {p.url for p in team.pages}
    return count_problems(t.issue for t in report.templates if urls & t.urls).problems


def write_csv(team: TeamReport, path: Path) -> Path:
    """Every problem on the team's pages and documents, one row each, for spreadsheets."""
    rows = [(p.url, p.title, p.score, issue) for p in team.pages for issue in p.issues]
    rows += [(doc.url, doc.title, None, issue) for doc in team.documents for issue in doc.issues]
    buffer = io.StringIO(newline="")
    buffer.write(BYTE_ORDER_MARK)
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(
        csv_row(url, title, issue, team=team.name, score=score) for url, title, score, issue in rows
    )
    return write_atomic(path, buffer.getvalue())


def csv_row(
    url: str, title: str | None, i: Issue, *, team: str = "", score: float | None = None
) -> list[str]:
    """One problem; every cell made safe, as any of them can come from the crawled site
    (a page's own axe can even send the rule id, help text and help URL)."""
    cells = [
        team,
        url,
        title,
        "" if score is None else f"{score:.1f}",
        i.kind,
        i.help,
        i.impact,
        i.impact_meaning,
        "; ".join(i.criteria),
        i.level,
        i.first_seen,
        "",  # decision: recorded decisions come with the --decisions file (issue 13)
        i.location,
        i.picture,  # the file in the report folder, beside the CSV
        i.outcome,
        i.rule_id,
        i.summary,
        i.selector_text,
        i.snippet,
        i.help_url,
        i.fingerprint,
    ]
    return [spreadsheet_cell(cell) for cell in cells]
