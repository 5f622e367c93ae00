"""Read one scan from the database into what the reports show: teams, pages, issues, change."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from reports.escape import slug, unique_slugs
from store.findings import findings_in_scan, first_seen
from store.pages import document_rows, page_rows, pages_without_error
from store.pictures import picture_formats, picture_image
from store.scans import default_team, latest_finished_scan, scan_row
from store.scores import team_scores
from vocabulary.explanations import Explanation, explanation_for
from vocabulary.findings import Finding, json_list, selector_text
from vocabulary.impacts import impact_rank
from vocabulary.labels import date_source_label, impact_label
from vocabulary.problems import ProblemCounts, count_problems
from vocabulary.urls import path_and_query
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
    team: str | None = None
    # The editors' explanation of an axe rule (vocabulary/explanations.toml), when there is one.
    explanation: Explanation | None = None
    level: str | None = None  # the WCAG level ("A", "AA") an axe rule is at
    first_seen: str = ""  # the day a scan of this site first found it on this page
    location: str = ""  # where the element is, in words (untrusted: the page's headings)
    # The pictures' files in the report folder ("pictures/<id>.webp"), or why there are none.
    picture: str = ""
    page_picture: str = ""
    picture_note: str = ""
    picture_ids: tuple[str | None, str | None] = (None, None)

    @property
    def impact_meaning(self) -> str:
        """What the impact means for the people using the page, in plain words."""
        return impact_label(self.impact)

    @property
    def selector_text(self) -> str:
        """axe's frame path, outermost first, joined for reading."""
        return selector_text(self.selector)


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

    @property
    def last_updated_from(self) -> str:
        """Where the last-updated date came from, in plain words."""
        return date_source_label(self.last_updated_source)

    def of_kind(self, kind: str, outcome: str = "violation") -> list[Issue]:
        return [i for i in self.issues if i.kind == kind and i.outcome == outcome]

    @property
    def violation_count(self) -> int:
        return sum(1 for i in self.issues if i.outcome == "violation")

    def problems(self, kind: str = "accessibility") -> ProblemCounts:
        """This page's problems of one kind, as vocabulary/problems.py counts them."""
        return count_problems(self.issues, kind)


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

    def problems(self, kind: str = "accessibility") -> ProblemCounts:
        """Problems of one kind on this team's pages (the shared layout's are not theirs)."""
        return count_problems((i for p in self.pages for i in p.issues), kind)

    def impact_count(self, impact: str) -> int:
        """Accessibility problems of this impact on the team's pages."""
        return self.problems().impact(impact)


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
    # Accessibility problems: the teams' pages' and the shared layout's, counted once each.
    problems: ProblemCounts = field(default_factory=ProblemCounts)
    template_problems: ProblemCounts = field(default_factory=ProblemCounts)
    # Who the site belongs to, for headings and subjects: site.name, else the start host.
    site_name: str = "site"
    # The pictures the issues show: file path in the report folder -> picture id, and how
    # to read a picture's bytes (from the database) when the report is written.
    picture_files: dict[str, str] = field(default_factory=dict)
    read_picture: Callable[[str], bytes | None] | None = None

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


def load_report(
    db: Any,
    scan_id: int | None = None,
    emails: dict[str, str] | None = None,
    site_name: str = "",
) -> ScanReport:
    """Everything the report shows for one scan (default: the latest finished one);
    site_name is the site.name setting, the start URL's host when empty."""
    scan_id = scan_id or latest_finished_scan(db)
    if scan_id is None:
        raise ReportError("the database has no finished scan; run siteaudit scan first")
    scan = scan_row(db, scan_id)
    if scan is None:
        raise ReportError(f"there is no scan {scan_id} in this database")
    unowned = default_team(db, scan_id)
    issues = [issue_from(f) for f in findings_in_scan(db, scan_id)]
    add_first_seen(issues, first_seen(db, scan_id))
    files = add_picture_files(issues, picture_formats(db, scan_id))
    pages = load_pages(db, scan_id, issues, unowned)
    previous = latest_finished_scan(db, before=scan_id)
    new_by_team, fixed_by_team = change_since(db, scan_id, previous)
    teams = build_teams(pages, emails or {}, team_scores(db, scan_id), new_by_team, fixed_by_team)
    attach_documents(teams, load_documents(db, scan_id, issues, unowned), emails or {})
    assign_slugs(teams)
    templates = [i for i in issues if i.scope == "template"]
    on_pages = {p.url for p in pages}
    return ScanReport(
        scan=scan,
        previous_id=previous,
        teams=teams,
        templates=group_templates(templates),
        template_owner=templates[0].team if templates else None,
        site_score=scan["score"],
        new=sum(new_by_team.values()),
        fixed=sum(fixed_by_team.values()),
        problems=count_problems(i for i in issues if i.scope == "template" or i.url in on_pages),
        template_problems=count_problems(templates),
        site_name=site_name or urlsplit(scan["start_url"] or "").hostname or "site",
        picture_files=files,
        read_picture=lambda picture_id: picture_image(db, picture_id),
    )


def issue_from(finding: Finding) -> Issue:
    return Issue(
        kind=finding.kind or "",
        rule_id=finding.rule_id or "",
        impact=finding.impact,
        outcome=finding.outcome or "",
        criteria=describe_criteria(finding.wcag),
        selector=json_list(finding.selector),
        snippet=finding.snippet or "",
        summary=finding.summary or "",
        help=finding.help or "",
        help_url=finding.help_url or "",
        fingerprint=finding.fingerprint or "",
        scope=finding.scope,
        url=finding.url,
        team=finding.team,
        explanation=explanation_for(finding.rule_id) if finding.kind == "accessibility" else None,
        level=finding.level,
        location=finding.location or "",
        picture_note=finding.picture_note or "",
        picture_ids=(finding.picture, finding.page_picture),
    )


def add_picture_files(issues: list[Issue], formats: dict[str, str]) -> dict[str, str]:
    """Give each issue its pictures' file paths; returns path -> picture id of them all.
    A picture the table lacks (or with an id or format not fit for a file name) is left
    out, with a note when the issue has no other."""
    files: dict[str, str] = {}
    for issue in issues:
        paths = [picture_file(i, formats) for i in issue.picture_ids]
        files.update(
            (path, i) for path, i in zip(paths, issue.picture_ids, strict=True) if i and path
        )
        issue.picture, issue.page_picture = paths
        if issue.picture_ids[0] and not issue.picture and not issue.picture_note:
            issue.picture_note = "picture not found in the database"
    return files


def picture_file(picture_id: str | None, formats: dict[str, str]) -> str:
    """The picture's path in the report folder ("" for none)."""
    return f"pictures/{picture_id}.{formats[picture_id]}" if picture_id in formats else ""


def add_first_seen(issues: list[Issue], seen: dict[tuple[str, str], str]) -> None:
    for issue in issues:
        issue.first_seen = seen.get((issue.url, issue.fingerprint), "")


def load_pages(db: Any, scan_id: int, issues: list[Issue], unowned: str) -> list[PageReport]:
    """Every page with its content-scope issues, most severe first."""
    by_page: dict[str, list[Issue]] = defaultdict(list)
    for issue in issues:
        if issue.scope == "content":
            by_page[issue.url].append(issue)
    pages = []
    for row in page_rows(db, scan_id):
        page_issues = sorted(
            by_page.get(row["url"], []),
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


def load_documents(db: Any, scan_id: int, issues: list[Issue], unowned: str) -> list[DocumentRow]:
    by_document: dict[str, list[Issue]] = defaultdict(list)
    for issue in issues:
        if issue.kind == "document":
            by_document[issue.url].append(issue)
    return [
        DocumentRow(
            row["url"],
            row["title"],
            row["kind"],
            row["team"] or unowned,
            row["linked_from"],
            bool(row["exempt_2018"]),
            row["check_error"],
            sorted(by_document.get(row["url"], []), key=lambda i: impact_rank(i.impact)),
        )
        for row in document_rows(db, scan_id)
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
    pages: list[PageReport],
    emails: dict[str, str],
    scores: dict[str, float | None],
    new: dict[str, int],
    fixed: dict[str, int],
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
            scores.get(name),
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


def violations_by_key(db: Any, scan_id: int) -> dict[tuple[str, str | None], str]:
    """(page, fingerprint) -> owning team, for every violation of a scan."""
    unowned = default_team(db, scan_id)
    return {
        (path_and_query(f.url), f.fingerprint): f.team or unowned
        for f in findings_in_scan(db, scan_id, outcome="violation")
    }


def audited_pages(db: Any, scan_id: int) -> set[str]:
    return {path_and_query(url) for url in pages_without_error(db, scan_id)}
