"""Each team's email: its report summary and a link to its page (app/email.py sends it)."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Protocol

from reports.data import PageReport, ScanReport, TeamReport
from reports.escape import one_line
from vocabulary.labels import impact_label
from vocabulary.problems import count_problems, plural


class Addresses(Protocol):
    """What a message needs from the [email] settings."""

    @property
    def from_address(self) -> str: ...

    @property
    def report_url(self) -> str: ...


def plain(text: str | None, limit: int = 120) -> str:
    """Crawled text made safe for one line of a plain-text email (or a header): no
    control characters, line breaks or escape sequences."""
    return one_line(text, limit)


def team_message(
    report: ScanReport, team: TeamReport, settings: Addresses, site: str
) -> EmailMessage:
    message = EmailMessage()
    score = "not scored" if team.score is None else f"{team.score:.1f}"
    counted = team.problems()  # subject and body say the same number
    message["Subject"] = (
        f"Website audit for {plain(team.name)}: score {score}, "
        f"{plural(counted.problems, 'accessibility problem')} ({team.new} new)"
        f" - {plain(report.site_name)}"
    )
    message["From"] = settings.from_address
    message["To"] = team.email or ""
    link = (
        f"{settings.report_url.rstrip('/')}/team-{team.slug}.html"
        if settings.report_url
        else f"team-{team.slug}.html in the report folder"
    )
    worst = [p for p in team.pages if p.open_issues][:5]  # decided issues are not news
    lines = [
        f"Hello {plain(team.name)},",
        "",
        f"siteaudit has checked {site} (scan {report.scan['id']}). Your pages:",
        "",
        f"  Score: {score} out of 100",
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
    if worst:
        lines.append("Pages to look at first:")
        lines += [
            f"  - {plain(p.title) or 'Untitled'} ({plain(p.url, 300)}): {page_problems(p)}"
            for p in worst
        ]
        lines.append("")
    lines += [
        f"Your full report, with what to fix on each page: {link}",
        "",
        "This email was sent by siteaudit.",
    ]
    message.set_content("\n".join(lines))
    return message


def page_problems(page: PageReport) -> str:
    """What a page has, in the words and counts of the team's totals above it."""
    found = [plural(page.problems().problems, "accessibility problem")]
    if page.of_kind("readability"):
        found.append("hard to read")
    if page.of_kind("stale"):
        found.append("out of date")
    if links := len(page.of_kind("broken-link")):
        found.append(plural(links, "broken link"))
    return ", ".join(found)
