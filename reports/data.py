"""Read one scan from the database into what the reports show: teams, pages, issues, change."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from reports.escape import slug, unique_slugs
from store.findings import findings_in_scan, first_seen
from store.pages import document_rows, page_rows, pages_without_error
from store.scans import default_team, latest_finished_scan, scan_row
from store.scores import team_scores
from vocabulary.explanations import Explanation, explanation_for
from vocabulary.findings import Finding, json_list, selector_text
from vocabulary.impacts import impact_rank
from vocabulary.labels import content_fix, date_source_label, impact_label
from vocabulary.problems import ProblemCounts, count_problems, plural, problem_key
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

    @property
    def impact_meaning(self) -> str:
        """What the impact means for the people using the page, in plain words."""
        return impact_label(self.impact)

    @property
    def selector_text(self) -> str:
        """axe's frame path, outermost first, joined for reading."""
        return selector_text(self.selector)

    @property
    def how_to_fix(self) -> str:
        """How to fix it, in plain words: the explanation's for an axe rule, else the content
        check's; empty when neither says."""
        if self.explanation is not None:
            return self.explanation.how_to_fix
        return content_fix(self.rule_id) if self.kind != "accessibility" else ""


@dataclass
class IssueGroup:
    """One problem as vocabulary/problems.py defines it (one rule on one page), with every
    element of the page that fails it, the worst first."""

    issues: list[Issue]
    anchor: str = ""  # its section's id in the team page, stable from scan to scan

    @property
    def first(self) -> Issue:
        """The element the problem's heading and explanation are taken from: the worst."""
        return self.issues[0]

    @property
    def elements(self) -> int:
        return len(self.issues)

    @property
    def impact(self) -> str | None:
        return self.first.impact


@dataclass
class Change:
    """A problem new or fixed since the last scan: a rule on a page."""

    url: str
    rule_id: str
    help: str
    elements: int = 1


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
    anchor: str = ""  # the page's section id in its team page (page_anchor)

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

    def other_problems(self) -> list[str]:
        """What else than accessibility is wrong with the page, in a few words each."""
        found = ["not checked in the browser"] if self.error else []
        if self.of_kind("readability"):
            found.append("hard to read")
        if self.of_kind("stale"):
            found.append("out of date")
        if links := len(self.of_kind("broken-link")):
            found.append(plural(links, "broken link"))
        return found

    def groups(self, kind: str, outcome: str = "violation") -> list[IssueGroup]:
        """This page's problems of one kind and outcome, each with all its elements."""
        grouped: dict[tuple[str, str, str], list[Issue]] = defaultdict(list)
        for issue in self.of_kind(kind, outcome):  # worst first, so each group's first is
            grouped[problem_key(issue)].append(issue)
        suffix = "" if outcome == "violation" else f"-{outcome}"
        return [
            IssueGroup(issues, f"{self.anchor}-{anchor_words(issues[0].rule_id)}{suffix}")
            for issues in grouped.values()
        ]


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
    # The problems behind the new and fixed counts, by page and rule.
    new_problems: list[Change] = field(default_factory=list)
    fixed_problems: list[Change] = field(default_factory=list)

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

    def top_actions(self, limit: int = 5) -> list[Action]:
        """What to fix first: each rule that fails on the team's pages, the worst impact
        first, then the one on most pages."""
        by_rule: dict[tuple[str, str], Action] = {}
        for page in self.pages:
            for kind in ACTION_KINDS:
                for group in page.groups(kind):
                    key = (kind, group.first.rule_id)
                    action = by_rule.setdefault(key, Action(group))
                    if impact_rank(group.impact) < impact_rank(action.group.impact):
                        action.group = group  # the link goes to its worst page
                    action.pages.append(page)
        ranked = sorted(
            by_rule.values(),
            key=lambda a: (impact_rank(a.group.impact), -len(a.pages), a.group.first.help),
        )
        return ranked[:limit]


# The kinds of problem a team's top actions are chosen from, in the order they are shown.
ACTION_KINDS = ("accessibility", "broken-link", "readability", "stale")


@dataclass
class Action:
    """One thing for a team to fix: a rule that fails on some of its pages."""

    group: IssueGroup  # the problem on its worst page, whose section the action links to
    pages: list[PageReport] = field(default_factory=list)

    @property
    def issue(self) -> Issue:
        return self.group.first

    @property
    def impact(self) -> str | None:
        return self.group.impact


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
    pages = load_pages(db, scan_id, issues, unowned)
    previous = latest_finished_scan(db, before=scan_id)
    new_by_team, fixed_by_team = change_since(db, scan_id, previous)
    teams = build_teams(pages, emails or {}, team_scores(db, scan_id), new_by_team, fixed_by_team)
    attach_documents(teams, load_documents(db, scan_id, issues, unowned), emails or {})
    assign_slugs(teams)
    assign_anchors(teams)
    templates = [i for i in issues if i.scope == "template"]
    on_pages = {p.url for p in pages}
    return ScanReport(
        scan=scan,
        previous_id=previous,
        teams=teams,
        templates=group_templates(templates),
        template_owner=templates[0].team if templates else None,
        site_score=scan["score"],
        new=sum(len(found) for found in new_by_team.values()),
        fixed=sum(len(found) for found in fixed_by_team.values()),
        problems=count_problems(i for i in issues if i.scope == "template" or i.url in on_pages),
        template_problems=count_problems(templates),
        site_name=site_name or urlsplit(scan["start_url"] or "").hostname or "site",
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
    )


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
    new: dict[str, list[Finding]],
    fixed: dict[str, list[Finding]],
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
            len(new.get(name, [])),
            len(fixed.get(name, [])),
            new_problems=changes(new.get(name, [])),
            fixed_problems=changes(fixed.get(name, [])),
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
) -> tuple[dict[str, list[Finding]], dict[str, list[Finding]]]:
    """New and fixed violations by team. A problem is fixed only if its page was audited
    (without error) in both scans: a page that failed to load has not been fixed."""
    if previous is None:
        return {}, {}
    now, before = violations_with_teams(db, scan_id), violations_with_teams(db, previous)
    audited_both = audited_pages(db, scan_id) & audited_pages(db, previous)
    new: dict[str, list[Finding]] = defaultdict(list)
    fixed: dict[str, list[Finding]] = defaultdict(list)
    for key, (team, finding) in now.items():
        if key not in before:
            new[team].append(finding)
    for key, (team, finding) in before.items():
        if key not in now and key[0] in audited_both:
            fixed[team].append(finding)
    return dict(new), dict(fixed)


def changes(findings: list[Finding]) -> list[Change]:
    """Violations new or fixed, one line per rule on a page (each counts its elements)."""
    by_problem: dict[tuple[str, str], Change] = {}
    for finding in findings:
        key = (finding.url, finding.rule_id or "")
        if key in by_problem:
            by_problem[key].elements += 1
        else:
            by_problem[key] = Change(finding.url, finding.rule_id or "", finding.help or "")
    return list(by_problem.values())


def violations_with_teams(
    db: Any, scan_id: int
) -> dict[tuple[str, str | None], tuple[str, Finding]]:
    """(page, fingerprint) -> (owning team, the finding), for every violation of a scan."""
    unowned = default_team(db, scan_id)
    return {
        (path_and_query(f.url), f.fingerprint): (f.team or unowned, f)
        for f in findings_in_scan(db, scan_id, outcome="violation")
    }


def violations_by_key(db: Any, scan_id: int) -> dict[tuple[str, str | None], str]:
    """(page, fingerprint) -> owning team, for every violation of a scan."""
    return {key: team for key, (team, _) in violations_with_teams(db, scan_id).items()}


def audited_pages(db: Any, scan_id: int) -> set[str]:
    return {path_and_query(url) for url in pages_without_error(db, scan_id)}


def page_anchor(url: str) -> str:
    """A page's section id in its team page: words of its path (for a person reading the
    link) and a hash of its path and query (the same in every scan, whatever the host)."""
    where = path_and_query(url)
    digest = hashlib.sha256(where.encode()).hexdigest()[:8]
    words = anchor_words(where)[:40].strip("-")
    return f"page-{words}-{digest}" if words else f"page-{digest}"


def anchor_words(text: str) -> str:
    """Lower-case letters, digits and hyphens: safe in an id and in a link's #fragment."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def assign_anchors(teams: list[TeamReport]) -> None:
    """A distinct section id for each page of a team (two hosts can share a path)."""
    for team in teams:
        taken: set[str] = set()
        for page in team.pages:
            anchor = page_anchor(page.url)
            if anchor in taken:
                digest = hashlib.sha256(page.url.encode()).hexdigest()[:8]
                anchor = f"{anchor}-{digest}"
            taken.add(anchor)
            page.anchor = anchor
