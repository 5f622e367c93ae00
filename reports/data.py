"""Read one scan from the database into what the reports show: teams, pages, issues, change."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from audits.score import mean_score
from reports.escape import impact_rank, slug, unique_slugs
from vocabulary.wcag import describe_criteria


class ReportError(Exception):
    """The database holds no scan that can be reported."""


@dataclass
class Issue:
    kind: str
    rule_id: str
    impact: str | None
    outcome: str
    criteria: list[str]
    selector: list[Any]
    snippet: str
    summary: str
    help: str
    help_url: str
    fingerprint: str
    scope: str
    url: str = ""

    @property
    def selector_text(self) -> str:
        """axe's frame path, outermost first, joined for reading."""
        return " ➜ ".join(
            " ".join(map(str, part)) if isinstance(part, list) else str(part)
            for part in self.selector
        )


@dataclass
class PageReport:
    url: str
    title: str | None
    team: str
    score: float | None
    error: str | None
    reading_age: float | None
    reading_age_target: float | None
    reading_ease: float | None
    grade_level: float | None
    word_count: int | None
    readability_note: str | None
    long_sentences: list[str]
    words_to_avoid: list[tuple[str, int]]
    last_updated: str | None
    last_updated_source: str | None
    issues: list[Issue] = field(default_factory=list)

    def of_kind(self, kind: str, outcome: str = "violation") -> list[Issue]:
        return [i for i in self.issues if i.kind == kind and i.outcome == outcome]

    @property
    def violation_count(self) -> int:
        return sum(1 for i in self.issues if i.outcome == "violation")


@dataclass
class DocumentRow:
    url: str
    title: str | None
    kind: str | None
    team: str
    linked_from: str | None
    exempt_2018: bool
    check_error: str | None
    issues: list[Issue] = field(default_factory=list)


@dataclass
class TemplateIssue:
    issue: Issue
    urls: set[str]

    @property
    def pages(self) -> int:
        return len(self.urls)

    @property
    def example_urls(self) -> list[str]:
        return sorted(self.urls)[:3]


@dataclass
class TeamReport:
    name: str
    slug: str
    email: str | None
    pages: list[PageReport]
    score: float | None
    new: int = 0
    fixed: int = 0
    documents: list[DocumentRow] = field(default_factory=list)

    @property
    def documents_with_problems(self) -> list[DocumentRow]:
        return [d for d in self.documents if d.issues or d.check_error]

    def count(self, kind: str, outcome: str = "violation") -> int:
        return sum(len(p.of_kind(kind, outcome)) for p in self.pages)

    def impact_count(self, impact: str) -> int:
        return sum(
            1
            for p in self.pages
            for i in p.issues
            if i.outcome == "violation" and i.impact == impact
        )


@dataclass
class ScanReport:
    scan: dict[str, Any]
    previous_id: int | None
    teams: list[TeamReport]
    templates: list[TemplateIssue]
    template_owner: str | None
    site_score: float | None
    new: int
    fixed: int

    def team(self, name: str) -> TeamReport | None:
        return next((t for t in self.teams if t.name == name), None)


def slugify(name: str) -> str:
    return slug(name)


def assign_slugs(teams: list[TeamReport]) -> None:
    """Give every team its own file name: two names with the same slug (such as
    "revenues-and-benefits" and "Revenues and Benefits") must not share one file."""
    slugs = unique_slugs([t.name for t in teams])
    for team in teams:
        team.slug = slugs[team.name]


def latest_finished_scan(db: Any, before: int | None = None) -> int | None:
    sql = "SELECT max(id) FROM scans WHERE status = 'finished'"
    params: list[Any] = []
    if before is not None:
        sql += " AND id < ?"
        params.append(before)
    return db.execute(sql, params).fetchone()[0]


def load_report(
    db: Any, scan_id: int | None = None, emails: dict[str, str] | None = None
) -> ScanReport:
    """Everything the report shows for one scan (default: the latest finished one)."""
    scan_id = scan_id or latest_finished_scan(db)
    if scan_id is None:
        raise ReportError("the database has no finished scan; run siteaudit scan first")
    scan = next(db.query("SELECT * FROM scans WHERE id = ?", [scan_id]), None)
    if scan is None:
        raise ReportError(f"there is no scan {scan_id} in this database")
    pages = load_pages(db, scan_id)
    template_rows = [i for i in load_issues(db, scan_id) if i.scope == "template"]
    previous = latest_finished_scan(db, before=scan_id)
    new_by_team, fixed_by_team = change_since(db, scan_id, previous)
    teams = build_teams(pages, emails or {}, new_by_team, fixed_by_team)
    attach_documents(teams, load_documents(db, scan_id), emails or {})
    assign_slugs(teams)
    return ScanReport(
        scan=scan,
        previous_id=previous,
        teams=teams,
        templates=group_templates(template_rows),
        template_owner=template_team(db, scan_id),
        site_score=mean_score(p.score for p in pages),
        new=sum(new_by_team.values()),
        fixed=sum(fixed_by_team.values()),
    )


def template_team(db: Any, scan_id: int) -> str | None:
    row = db.execute(
        "SELECT team FROM findings WHERE scan_id = ? AND scope = 'template' LIMIT 1", [scan_id]
    ).fetchone()
    return row[0] if row else None


def issue_from_row(row: dict[str, Any]) -> Issue:
    return Issue(
        kind=row["kind"] or "",
        rule_id=row["rule_id"] or "",
        impact=row["impact"],
        outcome=row["outcome"] or "",
        criteria=describe_criteria(row["wcag"]),
        selector=json_list(row["selector"]),
        snippet=row["snippet"] or "",
        summary=row["summary"] or "",
        help=row["help"] or "",
        help_url=row["help_url"] or "",
        fingerprint=row["fingerprint"] or "",
        scope=row["scope"],
        url=row["url"],
    )


def json_list(text: str | None) -> list[Any]:
    """A JSON list column; a value that is not one (a page's own axe can send anything)
    is shown as a one-item list of its text rather than stopping the report."""
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return [text]
    return value if isinstance(value, list) else [str(value)]


def load_issues(db: Any, scan_id: int) -> list[Issue]:
    rows = db.query("SELECT * FROM findings WHERE scan_id = ? ORDER BY rowid", [scan_id])
    return [issue_from_row(row) for row in rows]


def load_pages(db: Any, scan_id: int) -> list[PageReport]:
    """Every page with its content-scope issues, most severe first."""
    issues: dict[str, list[Issue]] = defaultdict(list)
    for issue in load_issues(db, scan_id):
        if issue.scope == "content":
            issues[issue.url].append(issue)
    pages, unowned = [], default_team(db, scan_id)
    for row in db.query("SELECT * FROM pages WHERE scan_id = ?", [scan_id]):
        page_issues = sorted(
            issues.get(row["url"], []),
            key=lambda i: (i.outcome != "violation", impact_rank(i.impact)),
        )
        pages.append(
            PageReport(
                url=row["url"],
                title=row["title"],
                team=row["team"] or unowned,
                score=row["score"],
                error=row["error"],
                reading_age=row["reading_age"],
                reading_age_target=row["reading_age_target"],
                reading_ease=row["reading_ease"],
                grade_level=row["grade_level"],
                word_count=row["word_count"],
                readability_note=row["readability_note"],
                long_sentences=json_list(row["long_sentences"]),
                words_to_avoid=[
                    tuple(w)
                    for w in json_list(row["words_to_avoid"])
                    if isinstance(w, list) and len(w) == 2
                ],
                last_updated=row["last_updated"],
                last_updated_source=row["last_updated_source"],
                issues=page_issues,
            )
        )
    return sorted(pages, key=severity_key)


def severity_key(page: PageReport) -> tuple[float, int, str]:
    """Lowest score first; unscored (not audited) pages first of all, as they need a look."""
    score = -1.0 if page.score is None else page.score
    return (score, -page.violation_count, page.url)


def load_documents(db: Any, scan_id: int) -> list[DocumentRow]:
    issues: dict[str, list[Issue]] = defaultdict(list)
    for issue in load_issues(db, scan_id):
        if issue.kind == "document":
            issues[issue.url].append(issue)
    unowned = default_team(db, scan_id)
    return [
        DocumentRow(
            row["url"],
            row["title"],
            row["kind"],
            row["team"] or unowned,
            row["linked_from"],
            bool(row["exempt_2018"]),
            row["check_error"],
            sorted(issues.get(row["url"], []), key=lambda i: impact_rank(i.impact)),
        )
        for row in db.query("SELECT * FROM documents WHERE scan_id = ? ORDER BY url", [scan_id])
    ]


def attach_documents(
    teams: list[TeamReport], documents: list[DocumentRow], emails: dict[str, str]
) -> None:
    by_name = {t.name: t for t in teams}
    for document in documents:
        team = by_name.get(document.team)
        if team is None:
            team = by_name[document.team] = TeamReport(
                document.team, slugify(document.team), emails.get(document.team), [], None
            )
            teams.append(team)
        team.documents.append(document)


def build_teams(
    pages: list[PageReport], emails: dict[str, str], new: dict[str, int], fixed: dict[str, int]
) -> list[TeamReport]:
    by_team: dict[str, list[PageReport]] = defaultdict(list)
    for page in pages:
        by_team[page.team].append(page)
    for name in set(new) | set(fixed):
        by_team.setdefault(name, [])
    teams = [
        TeamReport(
            name,
            slugify(name),
            emails.get(name),
            team_pages,
            mean_score(p.score for p in team_pages),
            new.get(name, 0),
            fixed.get(name, 0),
        )
        for name, team_pages in by_team.items()
    ]
    return sorted(teams, key=lambda t: (t.score is None, t.score or 0, t.name))


def group_templates(rows: list[Issue]) -> list[TemplateIssue]:
    """Template issues listed once each, with how many pages they affect."""
    grouped: dict[str, list[Issue]] = defaultdict(list)
    for issue in rows:
        grouped[issue.fingerprint].append(issue)
    templates = [TemplateIssue(issues[0], {i.url for i in issues}) for issues in grouped.values()]
    return sorted(templates, key=lambda t: (impact_rank(t.issue.impact), -t.pages))


def page_key(url: str) -> str:
    """A page's identity across scans and hosts: its path and query."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def change_since(
    db: Any, scan_id: int, previous: int | None
) -> tuple[dict[str, int], dict[str, int]]:
    """New and fixed violations by team. A problem is fixed only if its page was audited
    (without error) in both scans: a page that failed to load has not been fixed."""
    if previous is None:
        return {}, {}
    now, before = violations_by_key(db, scan_id), violations_by_key(db, previous)
    audited_both = audited_pages(db, scan_id) & audited_pages(db, previous)
    new: dict[str, int] = defaultdict(int)
    fixed: dict[str, int] = defaultdict(int)
    for key, team in now.items():
        if key not in before:
            new[team] += 1
    for key, team in before.items():
        if key not in now and key[0] in audited_both:
            fixed[team] += 1
    return dict(new), dict(fixed)


def violations_by_key(db: Any, scan_id: int) -> dict[tuple[str, str], str]:
    rows = db.execute(
        "SELECT url, fingerprint, team FROM findings WHERE scan_id = ? AND outcome = 'violation'",
        [scan_id],
    )
    unowned = default_team(db, scan_id)
    return {(page_key(url), fingerprint): team or unowned for url, fingerprint, team in rows}


def default_team(db: Any, scan_id: int) -> str:
    """The team that owns what no rule gives to another: ownership.default_team, as the
    scan was configured (the configuration is stored with each scan)."""
    row = db.execute("SELECT config FROM scans WHERE id = ?", [scan_id]).fetchone()
    try:
        name = json.loads(row[0])["ownership"]["default_team"] if row and row[0] else None
    except (ValueError, KeyError, TypeError):
        name = None
    return name if isinstance(name, str) and name else "Unassigned"


def audited_pages(db: Any, scan_id: int) -> set[str]:
    rows = db.execute("SELECT url FROM pages WHERE scan_id = ? AND error IS NULL", [scan_id])
    return {page_key(url) for (url,) in rows}
