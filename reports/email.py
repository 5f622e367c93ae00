"""Each team's email: its summary, what to fix first, what changed, and links straight to its
pages' sections of the report (app/email.py sends it). HTML, with a plain-text alternative
that says the same."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from reports.changes import RETURNING, Change
from reports.data import Action, PageReport, ScanReport, TeamReport
from reports.escape import http_url, one_line
from reports.html import environment
from vocabulary.labels import impact_label
from vocabulary.problems import count_problems, plural

# What an email lists at most: a long list is the report's job, and the email links to it.
TOP_ACTIONS = 5
WORST_PAGES = 5
CHANGES_LISTED = 10


class Addresses(Protocol):
    """What a message needs from the [email] settings."""

    @property
    def from_address(self) -> str: ...

    @property
    def report_url(self) -> str: ...


NO_REPORT_URL = (
    "email.report_url is not set to a web address, so the emails cannot link to the report; "
    "set it to the http(s) address the report folder is published at"
)


def plain(text: str | None, limit: int = 120) -> str:
    """Crawled text made safe for one line of a plain-text email (or a header): no
    control characters, line breaks or escape sequences."""
    return one_line(text, limit)


def can_link(settings: Addresses) -> bool:
    """True when email.report_url is a web address the emails can link to."""
    return bool(settings.report_url and http_url(settings.report_url.strip()))


@dataclass
class Links:
    """Links into one team's page of the published report; none without email.report_url."""

    team_page: str | None  # None: the report's address is not known

    @classmethod
    def for_team(cls, settings: Addresses, team: TeamReport) -> Links:
        if not can_link(settings):
            return cls(None)
        base = settings.report_url.strip().rstrip("/")
        return cls(f"{base}/team-{team.slug}.html")

    def to(self, anchor: str = "") -> str | None:
        """The team page, or one of its sections (a page's, a problem's)."""
        if self.team_page is None:
            return None
        return f"{self.team_page}#{anchor}" if anchor else self.team_page


def team_message(
    report: ScanReport, team: TeamReport, settings: Addresses, site: str
) -> EmailMessage:
    message = EmailMessage()
    score = score_text(team.score)
    counted = team.problems()  # subject and body say the same number
    message["Subject"] = (
        f"Website audit for {plain(team.name)}: score {score}, "
        f"{plural(counted.problems, 'accessibility problem')} ({team.new} new)"
        f" - {plain(report.site_name)}"
    )
    message["From"] = settings.from_address
    message["To"] = team.email or ""
    links = Links.for_team(settings, team)
    actions = team.top_actions(TOP_ACTIONS)
    worst = [p for p in team.pages if p.open_issues][:WORST_PAGES]  # decided ones: not news
    message.set_content(plain_text(report, team, site, links, actions, worst))
    html = (
        environment()
        .get_template("email.html")
        .render(
            report=report,
            team=team,
            site=site,
            score=score,
            counted=counted,
            layout=count_problems(t.issue for t in team.templates),
            links=links,
            actions=actions,
            worst=worst,
            changes_listed=CHANGES_LISTED,
            returning_note=returning_note,
            impact_label=impact_label,
        )
    )
    message.add_alternative(html, subtype="html")
    return message


def score_text(score: float | None) -> str:
    return "not scored" if score is None else f"{score:.1f}"


def plain_text(
    report: ScanReport,
    team: TeamReport,
    site: str,
    links: Links,
    actions: list[Action],
    worst: list[PageReport],
) -> str:
    """The plain-text part: the same facts as the HTML part, each link written out."""
    counted = team.problems()
    lines = [
        f"Hello {plain(team.name)},",
        "",
        f"siteaudit has checked {plain(site, 300)} (scan {report.scan['id']}). Your pages:",
        "",
        f"  Score: {score_text(team.score)} out of 100",
        f"  Pages: {len(team.pages)}",
        f"  Accessibility problems: {counted.problems} on "
        f"{plural(counted.elements, 'element')} ({counted.impact('critical')} critical, "
        f"{counted.impact('serious')} serious)",
        f"    (critical: {impact_label('critical')}; serious: {impact_label('serious')})",
        f"  Hard to read: {team.count('readability')}, out of date: {team.count('stale')}",
        f"  Since the last scan: {team.new} new, {team.fixed} fixed",
        "",
    ]
    if team.templates:  # the team owns the shared layout: its problems are in the count above
        layout = count_problems(t.issue for t in team.templates)
        lines[-1:-1] = [f"  In the shared layout: {plural(layout.problems)}, each fixed once"]
    if actions:
        lines.append("Fix these first:")
        for number, action in enumerate(actions, 1):
            lines += action_lines(number, action, links)
        lines.append("")
    if worst:
        lines.append("Pages to look at first:")
        for page in worst:
            lines.append(
                f"  - {plain(page.title) or 'Untitled'} ({plain(page.url, 300)}): "
                f"{page_problems(page)}"
            )
            if link := links.to(page.anchor):
                lines.append(f"    {link}")
        lines.append("")
    lines += change_lines("New since the last scan", team.new_problems)
    lines += change_lines("Fixed since the last scan", team.fixed_problems)
    lines += change_lines("Gone with their page since the last scan", team.removed_problems)
    if team_page := links.to():
        lines.append(f"Your full report, with what to fix on each page: {team_page}")
    else:
        lines.append(
            f"Your full report, with what to fix on each page, is team-{team.slug}.html in "
            "the report folder (ask the web team where it is published)."
        )
    lines += ["", "This email was sent by siteaudit."]
    return "\n".join(lines)


def action_lines(number: int, action: Action, links: Links) -> list[str]:
    issue = action.issue
    meaning = impact_label(action.impact)
    lines = [
        f"  {number}. {plain(issue.help or issue.rule_id)}: {action.impact or 'info'}"
        + (f" ({meaning})" if meaning else "")
        + f", on {plural(len(action.pages), 'page')}"
    ]
    if issue.how_to_fix:
        lines.append(f"     How to fix it: {issue.how_to_fix}")
    if link := links.to(action.group.anchor):
        lines.append(f"     {link}")
    return lines


def change_lines(title: str, changes: list[Change]) -> list[str]:
    if not changes:
        return []
    lines = [f"{title}:"]
    for change in changes[:CHANGES_LISTED]:
        elements = f" ({change.elements} elements)" if change.elements > 1 else ""
        lines.append(
            f"  - {plain(change.help or change.rule_id)}{elements} on {plain(change.url, 300)}"
            + returning_note(change)
        )
    if len(changes) > CHANGES_LISTED:
        lines.append(f"  and {len(changes) - CHANGES_LISTED} more (see the CSV)")
    return [*lines, ""]


def returning_note(change: Change) -> str:
    """A problem found before, gone, and back: said so, with the day it was first seen."""
    if change.history != RETURNING:
        return ""
    seen = f": first seen {change.first_seen}" if change.first_seen else ""
    return f" (back again{seen})"


def page_problems(page: PageReport) -> str:
    """What a page has, in the words and counts of the team's totals above it."""
    return ", ".join(
        [plural(page.problems().problems, "accessibility problem"), *page.other_problems()]
    )
