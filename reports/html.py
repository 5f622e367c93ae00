"""Render a scan as a static HTML site: an index, a page and a CSV for every team.

The pages carry no script at all (their Content-Security-Policy forbids it), escape
everything that came from the crawled site, pass axe-core, and print.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from reports.data import Issue, ScanReport, TeamReport, TemplateIssue
from reports.escape import file_text, http_url, spreadsheet_cell
from reports.files import write_atomic
from reports.pictures import PictureFiles
from reports.score_reasons import sentence
from reports.spelling import spelling_rows
from vocabulary.checks import AXE, CHECKS
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
    "layout_pages",
    "kind",
    "help",
    "impact",
    "impact_meaning",
    "wcag",
    "wcag_level",
    "first_seen",
    "history",
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
# Excel holds at most 32,767 characters in a cell: a longer list of pages is cut short.
CELL_LIMIT = 32_000


def own_checks_run(checks: str | None) -> list[str]:
    """The own checks a scan ran (scans.checks, JSON), in run order; none for an older scan
    or a value that is not a list of names."""
    try:
        names = json.loads(checks) if checks else []
    except ValueError:
        return []
    return [c for c in CHECKS if c != AXE and isinstance(names, list) and c in names]


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
    env.globals["spelling_rows"] = spelling_rows
    env.filters["plural"] = plural
    env.filters["picture_file"] = no_file  # write_report's own, when it has the pictures
    env.filters["lowered_by"] = sentence
    env.filters["own_checks"] = own_checks_run
    # Unlike capitalize, keeps a team's own capitals ("Web Team (shared layout)").
    env.filters["first_upper"] = lambda text: text[:1].upper() + text[1:]
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


def write_report(report: ScanReport, out: Path, pictures: PictureFiles | None = None) -> list[Path]:
    """Write index.html and team-*.html/.csv into out, and with `pictures` the pictures of
    elements they show into out/pictures/; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    env = environment()
    picture_file = pictures.path if pictures else no_file
    env.filters["picture_file"] = picture_file
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    common = {
        # Our own stylesheet, not the crawled site's: printed as it is (escaping a ">" in
        # it would break the rule and the Content-Security-Policy hash alike).
        "css": Markup(css),
        "csp": content_security_policy(css),
        "scan": report.scan,
        "site_name": report.site_name,
        "compared": {"id": report.previous_id, "day": report.previous_day},
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
                charts=report.trends.team(team.name),
                template_count=template_count(report, team),
                template_owner=report.template_owner,
                template_page=template_page(report),
                **common,
            )
        )
        written.append(write_csv(team, out / f"team-{team.slug}.csv", picture_file))
    return written + (pictures.write(out) if pictures else [])


def no_file(picture_id: str | None) -> str:
    """No picture files: a report written without the scan's database has none."""
    return ""


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


def template_page(report: ScanReport) -> str:
    """Where the shared layout's problems are listed with their pages: its owner's team
    page, or the index's section when the owner has none."""
    owner = report.team(report.template_owner) if report.template_owner else None
    return f"team-{owner.slug}.html#layout" if owner else "index.html#template"


def template_count(report: ScanReport, team: TeamReport) -> int:
    """Template problems of every kind that also appear on this team's pages, as the pages'
    scores count them (0 for the team that owns the layout: its page lists them)."""
    if team.templates:
        return 0
    urls = {p.url for p in team.pages}
    shown = [t.issue for t in report.templates if urls & t.urls]
    return sum(count_problems(shown, kind).problems for kind in {i.kind for i in shown})


def write_csv(
    team: TeamReport, path: Path, picture_file: Callable[[str | None], str] = no_file
) -> Path:
    """Every problem on the team's pages and documents, one row each, for spreadsheets; and,
    for the team that owns the shared layout, each of its problems once, with its pages."""
    rows = [(p.url, p.title, p.score, issue) for p in team.pages for issue in p.issues]
    rows += [(doc.url, doc.title, None, issue) for doc in team.documents for issue in doc.issues]
    buffer = io.StringIO(newline="")
    buffer.write(BYTE_ORDER_MARK)
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(
        csv_row(url, title, i, team=team.name, score=s, picture=picture_file(i.pictures.picture))
        for url, title, s, i in rows
    )
    writer.writerows(layout_row(t, team.name, picture_file) for t in team.templates)
    return write_atomic(path, buffer.getvalue())


def layout_row(
    template: TemplateIssue, team: str, picture_file: Callable[[str | None], str] = no_file
) -> list[str]:
    """A problem in the shared layout: no one page, but every page it is on."""
    title = f"Shared layout, on {plural(template.pages, 'page')}"
    issue, picture = template.issue, picture_file(template.issue.pictures.picture)
    return csv_row("", title, issue, team=team, pages=template.sorted_urls, picture=picture)


def page_list(urls: list[str]) -> str:
    """URLs one to a line, cut short to fit in a spreadsheet cell."""
    kept: list[str] = []
    length = 0
    for url in urls:
        length += len(url) + 1
        if length > CELL_LIMIT:
            return "\n".join([*kept, f"and {len(urls) - len(kept)} more (see the team's page)"])
        kept.append(url)
    return "\n".join(kept)


def csv_row(
    url: str,
    title: str | None,
    i: Issue,
    *,
    team: str = "",
    score: float | None = None,
    pages: list[str] | None = None,
    picture: str = "",
) -> list[str]:
    """One problem; every cell made safe, as any of them can come from the crawled site
    (a page's own axe can even send the rule id, help text and help URL). `pages` are a
    layout problem's pages; `picture` its element's picture file in the report folder."""
    cells = [
        team,
        url,
        title,
        "" if score is None else f"{score:.1f}",
        page_list(pages or []),
        i.kind,
        i.help,
        i.impact,
        i.impact_meaning,
        "; ".join(i.criteria),
        i.level,
        i.first_seen,
        i.history,  # new, returning or open since the last scan (findings.history)
        i.decision,  # findings.decision: from the --decisions file, "expired" when past
        i.pictures.location,
        picture,  # the element's picture: its file in the report folder, beside the CSV
        i.outcome,
        i.rule_id,
        i.summary,
        i.selector_text,
        i.snippet,
        i.help_url,
        i.fingerprint,
    ]
    return [spreadsheet_cell(cell) for cell in cells]
