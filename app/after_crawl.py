"""The stage after the crawl: what can be judged only once every page is stored.

Documents find their owners, broken links and template problems are decided, people's
decisions (the --decisions file) are applied, and only then are pages, teams and the site
scored, so a decided finding counts in no score. It reads and writes only the store, so it
can run again on a scan (each step replaces what it wrote before).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from audits.content import freshness_findings
from audits.dates import DateCandidate
from audits.links import CheckedLink, broken_link_finding
from audits.score import ScoredFinding, mean_score, page_score
from audits.server_time import as_server_time, shared_header_pages
from audits.site_checks import SITE_RULES
from audits.site_consistency import SitePage, site_findings
from audits.spelling_findings import by_page as spelling_by_page
from audits.spelling_findings import spelling_findings
from audits.statement import choose_statements, missing_link, no_statement, statement_findings
from audits.statement_reading import StatementReading
from audits.templates import LAYOUT_KINDS, template_fingerprints, template_threshold
from crawler.page_checks import page_path
from settings.model import Config, SpellingConfig, TemplateConfig
from store import dates as page_dates
from store import decisions as decided
from store import findings, history, links, pages, scans, scores, site_checks, statement_checks
from vocabulary.decisions import Decision, decide, london_today
from vocabulary.findings import Finding
from vocabulary.labels import HEADER_SOURCE, SERVER_TIME_SOURCES
from vocabulary.teams import DEFAULT_TEAM
from vocabulary.urls import normalise_url

# (path, team) -> (months until stale, months until an archive candidate): Config's.
FreshnessLimits = Callable[[str, str], tuple[int, int | None]]
# A read page as the site checks take it: (url, team, title, content hash, structure).
ReadPage = tuple[str, str | None, str | None, str | None, dict[str, Any]]


def after_crawl(
    db: Any,
    scan_id: int,
    templates: TemplateConfig,
    default_team: str = DEFAULT_TEAM,
    decisions: Sequence[Decision] = (),
    today: date | None = None,
    checks: tuple[str, ...] = (),
    freshness: FreshnessLimits | None = None,
    statement_url: str = "",
    spelling: SpellingConfig | None = None,
) -> None:
    """Link statuses, the server's time in Last-Modified headers, document owners, broken
    links, the checks across the site, the accessibility statement, spelling, template
    scope, each finding's history, decisions and scores, in one transaction. freshness
    gives a page's limits (Config.freshness_limits, its defaults if None); statement_url is
    where the statement is ([statement] url), "" to find it by the links naming it;
    spelling the council's words (none if None)."""
    links.fill_link_statuses(db, scan_id)
    with db.atomic():
        redate_shared_headers(db, scan_id, freshness or Config().freshness_limits, default_team)
        links.assign_documents(db, scan_id, default_team)
        record_broken_links(db, scan_id)
        # Each page's structure, decoded once for the site checks and spelling (the JSON
        # of every page: the largest read after the crawl).
        read = list(site_checks.pages_for_site_checks(db, scan_id))
        record_site_findings(db, scan_id, checks, templates.owner, read)
        record_statement_findings(
            db, scan_id, statement_url if "statement" in checks else None, templates.owner
        )
        record_spelling(db, scan_id, spelling or SpellingConfig(), read)
        mark_template_findings(db, scan_id, templates)
        history.record_history(db, scan_id)  # keyed by scope: after the template marks
        apply_decisions(db, scan_id, decisions, today)
        score_pages(db, scan_id)
        score_teams_and_site(db, scan_id, default_team)


def decide_again(
    db: Any,
    scan_id: int,
    decisions: Sequence[Decision],
    default_team: str,
    today: date | None = None,
) -> None:
    """Apply a decisions file to a scan already made (the file changed since), and score
    it again, in one transaction."""
    with db.atomic():
        apply_decisions(db, scan_id, decisions, today)
        score_pages(db, scan_id)
        score_teams_and_site(db, scan_id, default_team)


def apply_decisions(
    db: Any, scan_id: int, decisions: Sequence[Decision], today: date | None
) -> None:
    """Each finding's decision, and the decisions that applied, recorded with the scan;
    without decisions, none (a scan never inherits a past scan's)."""
    statuses, applied = decide(
        decisions, decided.finding_keys(db, scan_id), today or london_today()
    )
    decided.save_decisions(db, scan_id, statuses, applied)


def redate_shared_headers(
    db: Any, scan_id: int, freshness: FreshnessLimits, default_team: str
) -> None:
    """A Last-Modified many pages share within minutes is the server's time, not the
    content's (audits/server_time.py): each page that took it on trust is dated again from
    its own evidence, and its freshness judged again. Pages judged so on an earlier run
    stay so, and count towards the share."""
    headers = page_dates.header_pages(db, scan_id, (HEADER_SOURCE, *SERVER_TIME_SOURCES))
    shared = shared_header_pages(headers)
    today = date.today()  # as the crawl judged freshness (crawler/page_checks.py)
    for url, (team, rows) in page_dates.pages_with_source(db, scan_id, HEADER_SOURCE).items():
        if url not in shared:
            continue
        found = as_server_time(
            [DateCandidate(k, s, v, e or "") for k, s, v, e in rows], HEADER_SOURCE
        )
        chosen, due = found.last_updated, found.review_due
        page_dates.save_page_dates(
            db,
            scan_id,
            url,
            [(c.kind, c.source, c.value, c.evidence) for c in found.candidates],
            (chosen.value, chosen.source) if chosen else None,
            due.value if due else None,
        )
        owner = team or default_team
        stale_after, archive_after = freshness(page_path(url), owner)
        judged = freshness_findings(
            (chosen.value, chosen.source, chosen.evidence) if chosen else None,
            due.value if due else None,
            today,
            stale_after,
            archive_after,
        )
        findings.replace_page_findings(
            db, scan_id, url, "stale", [f.placed(url, team) for f in judged]
        )


def record_broken_links(db: Any, scan_id: int) -> None:
    """A broken-link finding on each linking page, owned by that page's team."""
    found = []
    for source, target, text, internal, status, error, team in links.failed_links(db, scan_id):
        link = CheckedLink(source, target, text, bool(internal), status, error)
        if (finding := broken_link_finding(link)) is not None:
            found.append(finding.placed(source, team))
    findings.replace_findings(db, scan_id, "broken-link", found)


def record_site_findings(
    db: Any, scan_id: int, checks: tuple[str, ...], owner: str, read: list[ReadPage]
) -> None:
    """Titles, consistent navigation and naming, and ways to find pages, judged across the
    stored pages (docs/checks.md); each finding owned by its page's team, multiple-ways by
    the shared layout's owner. read: site_checks.pages_for_site_checks."""
    teams, stored = {}, []
    for url, team, title, content_hash, structure in read:
        teams[url] = team
        stored.append(SitePage(url, title, content_hash, structure))
    scan = scans.scan_row(db, scan_id)
    found = site_findings(stored, scan["start_url"] if scan else None, checks)
    site_checks.replace_rule_findings(
        db,
        scan_id,
        SITE_RULES,
        [f.placed(f.url, owner if f.scope == "template" else teams.get(f.url)) for f in found],
    )


def record_statement_findings(db: Any, scan_id: int, configured: str | None, owner: str) -> None:
    """The accessibility statement, judged against the model and this scan, each finding on
    the statement page; pages that do not link to it (the same finding on each, so a footer
    without the link becomes one template problem); or, with no statement, one finding on
    the start page, the shared layout's. configured None: the check was not chosen."""
    scan = scans.scan_row(db, scan_id)
    url = normalise_url(configured) if configured else None
    pages_read = statement_checks.page_urls(db, scan_id)
    if scan is None or not pages_read or configured is None:
        findings.replace_findings(db, scan_id, "statement", [])
        return  # no page read: nothing to judge
    chosen = choose_statements(statement_checks.statement_links(db, scan_id), pages_read, url)
    readings = statement_checks.statement_readings(db, scan_id, chosen)
    if not readings:
        missing = no_statement(url).placed(scan["start_url"], owner)
        findings.replace_findings(db, scan_id, "statement", [replace(missing, scope="template")])
        return
    failing = statement_checks.failing_criteria(db, scan_id)
    day = date.fromisoformat(str(scan["started_at"])[:10])
    found = []
    for page_url, (team, stored) in readings.items():
        reading = StatementReading.from_json(stored)
        judged = (
            statement_findings(reading, failing, day) if reading else [no_statement(url, page_url)]
        )
        found += [f.placed(page_url, team) for f in judged]
    unlinked = missing_link(sorted(readings))
    for page_url, team in statement_checks.pages_without_link(db, scan_id, sorted(readings)):
        found.append(unlinked.placed(page_url, team))
    findings.replace_findings(db, scan_id, "statement", found)


def record_spelling(db: Any, scan_id: int, spelling: SpellingConfig, read: list[ReadPage]) -> None:
    """A spelling finding for each mistaken word on each page, owned by the page's team,
    now that the site's own words (names, words on many pages) are known.
    read: site_checks.pages_for_site_checks."""
    found: list[Finding] = []
    if spelling.check:
        teams, stored = {}, []
        for url, team, _, _, structure in read:
            teams[url] = team
            stored.append((url, structure.get("spelling") or []))
        pages = spelling_by_page(stored)
        found = [
            f.placed(f.url, teams.get(f.url))
            for f in spelling_findings(pages, spelling.own_words(), spelling.site_word_pages)
        ]
    findings.replace_findings(db, scan_id, "spelling", found)


def mark_template_findings(db: Any, scan_id: int, templates: TemplateConfig) -> None:
    """The same problem on the same element of many pages (an axe-core finding, or a broken
    link to the same target) is the shared layout's: the web team owns it, once, and page
    editors do not see it in their lists. A document that many pages link to is the web
    team's too."""
    threshold = template_threshold(
        pages.audited_page_count(db, scan_id), templates.min_pages, templates.min_share
    )
    spread = findings.pages_with_each_fingerprint(db, scan_id, LAYOUT_KINDS)
    findings.mark_template(
        db, scan_id, template_fingerprints(spread, threshold), templates.owner, LAYOUT_KINDS
    )
    links.give_layout_documents(db, scan_id, threshold, templates.owner)


def score_pages(db: Any, scan_id: int) -> None:
    """pages.score from each page's findings (template ones too: users meet them there).
    A page the browser could not audit has no score: its accessibility is unknown."""
    by_page = scores.findings_by_page(db, scan_id)
    browser, audited = scores.pages_audited(db, scan_id)
    scores.save_page_scores(
        db,
        scan_id,
        {
            url: None
            if browser and audited_at is None
            else page_score(ScoredFinding(*row) for row in by_page.get(url, []))
            for url, audited_at in audited
        },
    )


def score_teams_and_site(db: Any, scan_id: int, default_team: str) -> None:
    """Each team's score and the site's: the mean of their pages' scores."""
    by_team = scores.page_scores_by_team(db, scan_id, default_team)
    every = [score for team_scores in by_team.values() for score in team_scores]
    scores.save_scores(
        db,
        scan_id,
        mean_score(every),
        {team: (mean_score(s), len(s)) for team, s in by_team.items()},
    )
