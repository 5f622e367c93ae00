"""Read one scan from the database into what the reports show: teams, pages, issues, change."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from reports.changes import Change, ReportError, TeamChanges, changes_between, compared_scan
from reports.escape import anchor_words, page_anchors, slug, unique_slugs
from reports.pictures import ElementPictures
from reports.problem_tables import ProblemRow, by_criterion, by_rule
from reports.score_reasons import score_reasons
from reports.spelling import spelling_problems
from reports.trends import Trends, load_trends
from store.decisions import decisions_in_scan
from store.findings import findings_in_scan
from store.history import history_in_scan
from store.pages import document_rows, page_rows, server_time_pages
from store.scans import default_team, latest_finished_scan, scan_row
from store.scores import findings_by_page, team_scores
from vocabulary.decisions import EXPIRED, LABELS, Applied, is_decided
from vocabulary.explanations import Explanation, explanation_of
from vocabulary.findings import Finding, json_list, selector_text
from vocabulary.impacts import impact_rank
from vocabulary.labels import OTHER_PROBLEMS, content_fix, date_source_label, impact_label
from vocabulary.problems import ProblemCounts, count_problems, plural, problem_key
from vocabulary.urls import path_and_query
from vocabulary.wcag import describe_criteria


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
    # Since the last scan of the site: "new", "returning" (found before, gone, back) or "open".
    history: str = ""
    pictures: ElementPictures = field(default_factory=ElementPictures)  # where, and pictures
    wcag: str = ""  # the success criteria's numbers, comma-separated, as stored
    # A person's decision on it (findings.decision), and what they decided (who, why, until).
    decision: str | None = None
    decided: Applied | None = None

    @property
    def is_decided(self) -> bool:
        """A live decision: shown apart, counted nowhere."""
        return is_decided(self.decision)

    @property
    def decision_label(self) -> str:
        return LABELS.get(self.decision or "", "")

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
    # What lowered the score, in words, the costliest first (reports/score_reasons.py).
    lowered_by: list[str] = field(default_factory=list)

    @property
    def last_updated_from(self) -> str:
        """Where the last-updated date came from, in plain words."""
        return date_source_label(self.last_updated_source)

    def of_kind(self, kind: str, outcome: str = "violation") -> list[Issue]:
        """Issues of a kind still open: a decided one is listed apart (decided)."""
        return [i for i in self.open_issues if i.kind == kind and i.outcome == outcome]

    @property
    def open_issues(self) -> list[Issue]:
        return [i for i in self.issues if not i.is_decided]

    @property
    def decided(self) -> list[Issue]:
        return [i for i in self.issues if i.is_decided]

    @property
    def violation_count(self) -> int:
        return sum(1 for i in self.open_issues if i.outcome == "violation")

    def problems(self, kind: str = "accessibility") -> ProblemCounts:
        """This page's problems of one kind, as vocabulary/problems.py counts them."""
        return count_problems(self.issues, kind)

    def other_problems(self) -> list[str]:
        """What else than accessibility is wrong with the page, in a few words each."""
        found = ["not checked in the browser"] if self.error else []
        found += [words for kind, words in OTHER_PROBLEMS.items() if self.of_kind(kind)]
        if links := len(self.of_kind("broken-link")):
            found.append(plural(links, "broken link"))
        return found + spelling_problems(self.of_kind("spelling"))

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
    issues: list[Issue] = field(default_factory=list)  # open ones; decided ones apart
    decided: list[Issue] = field(default_factory=list)


@dataclass
class TemplateIssue:
    """A problem on one element of the shared layout, listed once: its worst finding, and
    every page it was found on."""

    issue: Issue
    urls: set[str]

    @property
    def pages(self) -> int:
        return len(self.urls)

    @property
    def example_urls(self) -> list[str]:
        return sorted(self.urls)[:3]

    @property
    def sorted_urls(self) -> list[str]:
        return sorted(self.urls)


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
    # The problems behind the new and fixed counts, by page and rule (new ones badged new or
    # returning), and those gone with their page, since the scan compared with.
    new_problems: list[Change] = field(default_factory=list)
    fixed_problems: list[Change] = field(default_factory=list)
    removed_problems: list[Change] = field(default_factory=list)
    # The shared layout's problems, listed once each, for the team that owns the layout
    # (templates.owner); empty for every other team.
    templates: list[TemplateIssue] = field(default_factory=list)

    @property
    def documents_with_problems(self) -> list[DocumentRow]:
        return [d for d in self.documents if d.issues or d.check_error]

    def layout_of_kind(self, kind: str, outcome: str = "violation") -> list[TemplateIssue]:
        """The layout problems this team owns, of one kind."""
        return [t for t in self.templates if t.issue.kind == kind and t.issue.outcome == outcome]

    @property
    def decided(self) -> list[Issue]:
        """Issues on the team's pages and documents that a person has decided on."""
        return [i for p in self.pages for i in p.decided] + [
            i for d in self.documents for i in d.decided
        ]

    def count(self, kind: str, outcome: str = "violation") -> int:
        """Findings of one kind on the team's pages, and in the layout if it owns it (a
        layout finding, such as a broken link in the footer, once however many pages)."""
        on_pages = sum(len(p.of_kind(kind, outcome)) for p in self.pages)
        return on_pages + len(self.layout_of_kind(kind, outcome))

    def problems(self, kind: str = "accessibility") -> ProblemCounts:
        """Problems of one kind on this team's pages, and the shared layout's if the team
        owns it (each counted once: one finding per layout element is enough)."""
        return count_problems(
            [*(i for p in self.pages for i in p.issues), *(t.issue for t in self.templates)],
            kind,
        )

    def impact_count(self, impact: str) -> int:
        """Accessibility problems of this impact on the team's pages (and layout, if its own)."""
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
ACTION_KINDS = ("accessibility", "statement", "broken-link", "readability", "stale", "spelling")


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
    templates: list[TemplateIssue]  # open ones; decided ones in decided_templates
    template_owner: str | None
    site_score: float | None
    new: int
    fixed: int
    # Accessibility problems: the teams' pages' and the shared layout's, counted once each.
    problems: ProblemCounts = field(default_factory=ProblemCounts)
    template_problems: ProblemCounts = field(default_factory=ProblemCounts)
    # Who the site belongs to, for headings and subjects: site.name, else the start host.
    site_name: str = "site"
    # Accessibility problems by WCAG success criterion and by rule (reports/problem_tables.py).
    by_criterion: list[ProblemRow] = field(default_factory=list)
    by_rule: list[ProblemRow] = field(default_factory=list)
    decided_templates: list[TemplateIssue] = field(default_factory=list)
    previous_day: str = ""  # the day the scan compared with (previous_id) started
    trends: Trends = field(default_factory=Trends)  # scores and problems over time
    server_time: dict[str, int] = field(default_factory=dict)  # store.pages.server_time_pages

    def team(self, name: str) -> TeamReport | None:
        return next((t for t in self.teams if t.name == name), None)

    @property
    def template_links(self) -> int:
        """Broken links in the shared layout, each counted once."""
        return count_problems((t.issue for t in self.templates), "broken-link").elements


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
    compare: int | None = None,
) -> ScanReport:
    """Everything the report shows for one scan (default: the latest finished one), and
    what changed since `compare` (default: the scan before it); site_name is the site.name
    setting, the start URL's host when empty."""
    scan_id = scan_id or latest_finished_scan(db)
    if scan_id is None:
        raise ReportError("the database has no finished scan; run siteaudit scan first")
    scan = scan_row(db, scan_id)
    if scan is None:
        raise ReportError(f"there is no scan {scan_id} in this database")
    unowned = default_team(db, scan_id)
    issues = [issue_from(f, unowned) for f in findings_in_scan(db, scan_id)]
    history = history_in_scan(db, scan_id)  # first seen, and new / returning / open
    for issue in issues:
        issue.first_seen, issue.history = history.get((issue.url, issue.fingerprint), ("", ""))
    add_decisions(issues, decisions_in_scan(db, scan_id))
    templates = [i for i in issues if i.scope == "template"]
    owner = templates[0].team if templates else None
    pages = load_pages(db, scan_id, issues, unowned)
    add_score_reasons(db, scan_id, pages, owner)
    previous = compared_scan(db, scan_id, compare)
    changed = changes_between(db, scan_id, previous)
    teams = build_teams(pages, emails or {}, team_scores(db, scan_id), changed)
    grouped = group_templates([i for i in templates if not i.is_decided])
    attach_templates(teams, grouped, owner, emails or {})
    attach_documents(teams, load_documents(db, scan_id, issues, unowned), emails or {})
    assign_slugs(teams)
    assign_anchors(teams)
    on_pages = {p.url for p in pages}
    counted = [i for i in issues if i.scope == "template" or i.url in on_pages]
    return ScanReport(
        scan=scan,
        previous_id=previous,
        teams=teams,
        templates=grouped,
        template_owner=owner,
        site_score=scan["score"],
        new=sum(len(found) for found in changed.new.values()),
        fixed=sum(len(found) for found in changed.fixed.values()),
        problems=count_problems(counted),
        template_problems=count_problems(templates),
        site_name=site_name or urlsplit(scan["start_url"] or "").hostname or "site",
        by_criterion=by_criterion(counted),
        by_rule=by_rule(counted),
        decided_templates=group_templates([i for i in templates if i.is_decided]),
        previous_day=((scan_row(db, previous) or {}).get("started_at") or "")[:10]
        if previous
        else "",
        trends=load_trends(db, scan_id),
        server_time=server_time_pages(db, scan_id),
    )


def issue_from(finding: Finding, unowned: str = "") -> Issue:
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
        team=finding.team or unowned or None,
        explanation=explanation_of(finding.kind, finding.rule_id),
        level=finding.level,
        pictures=ElementPictures.of(finding),
        wcag=finding.wcag or "",
        decision=finding.decision,
    )


def add_score_reasons(db: Any, scan_id: int, pages: list[PageReport], owner: str | None) -> None:
    """What lowered each scored page's score, from the findings its score was made of."""
    scored = findings_by_page(db, scan_id)
    for page in pages:
        if page.score is not None:
            page.lowered_by = score_reasons(scored.get(page.url, []), owner)


def attach_templates(
    teams: list[TeamReport],
    templates: list[TemplateIssue],
    owner: str | None,
    emails: dict[str, str],
) -> None:
    """The shared layout's problems go to the team that owns the layout, which gets a page
    of its own even if it owns no page of the site."""
    if not templates or owner is None:
        return
    team = next((t for t in teams if t.name == owner), None)
    if team is None:
        team = TeamReport(owner, slug(owner), emails.get(owner), [], None)
        teams.append(team)
    team.templates = templates
    for template in templates:  # whoever fixes it on a page, in the layout it is the owner
        if (explained := template.issue.explanation) is not None:
            template.issue.explanation = replace(explained, who_fixes=f"{owner} (shared layout)")


def add_decisions(issues: list[Issue], applied: list[Applied]) -> None:
    """What was decided on each decided issue: the decision on its page, else the one on
    every page, whichever gave it its status."""
    by_key: dict[tuple[str, str | None], list[Applied]] = defaultdict(list)
    for decision in applied:
        by_key[(decision.fingerprint, decision.page)].append(decision)
    for issue in issues:
        if issue.decision is None:
            continue
        page = path_and_query(issue.url)
        candidates = by_key.get((issue.fingerprint, page), []) + by_key.get(
            (issue.fingerprint, None), []
        )
        issue.decided = next((d for d in candidates if gives(d, issue.decision)), None)


def gives(decision: Applied, status: str) -> bool:
    """Whether a decision gives a finding this status (findings.decision)."""
    return decision.expired if status == EXPIRED else decision.decision == status


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
    for issue in sorted(issues, key=lambda i: impact_rank(i.impact)):
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
            [i for i in by_document[row["url"]] if not i.is_decided],
            [i for i in by_document[row["url"]] if i.is_decided],
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
                document.team, slug(document.team), emails.get(document.team), [], None
            )
            teams.append(team)
        team.documents.append(document)


def build_teams(
    pages: list[PageReport],
    emails: dict[str, str],
    scores: dict[str, float | None],
    changed: TeamChanges,
) -> list[TeamReport]:
    by_team: dict[str, list[PageReport]] = defaultdict(list)
    for page in pages:
        by_team[page.team].append(page)
    for name in set(changed.new) | set(changed.fixed) | set(changed.removed):
        by_team.setdefault(name, [])
    teams = []
    for name, team_pages in by_team.items():
        new, fixed, removed = changed.lists(name)
        counts = (len(changed.new.get(name, [])), len(changed.fixed.get(name, [])))
        team = TeamReport(name, slug(name), emails.get(name), team_pages, scores.get(name), *counts)
        team.new_problems, team.fixed_problems, team.removed_problems = new, fixed, removed
        teams.append(team)
    return sorted(teams, key=lambda t: (t.score is None, t.score or 0, t.name))


def group_templates(rows: list[Issue]) -> list[TemplateIssue]:
    """Template issues listed once each (by their worst finding), with the pages they are on."""
    grouped: dict[str, list[Issue]] = defaultdict(list)
    for issue in rows:
        grouped[issue.fingerprint].append(issue)
    templates = [
        TemplateIssue(min(issues, key=worst_first), {i.url for i in issues})
        for issues in grouped.values()
    ]
    return sorted(templates, key=lambda t: (impact_rank(t.issue.impact), -t.pages))


def assign_anchors(teams: list[TeamReport]) -> None:
    """A distinct section id for each page of a team (two hosts can share a path)."""
    for team in teams:
        anchors = page_anchors([p.url for p in team.pages])
        for page, anchor in zip(team.pages, anchors, strict=True):
            page.anchor = anchor


def worst_first(issue: Issue) -> tuple[bool, int]:
    return (issue.outcome != "violation", impact_rank(issue.impact))
