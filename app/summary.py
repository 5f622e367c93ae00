"""The one-screen summary printed when a scan ends."""

from __future__ import annotations

import click

from app.scan import ScanSummary
from crawler.progress import format_duration
from crawler.stats import Counters
from reports.escape import terminal
from store.database import open_database
from store.findings import findings_in_scan
from store.pages import server_time_pages
from store.summary import scan_figures
from vocabulary.decisions import DECISIONS, EXPIRED
from vocabulary.findings import Finding
from vocabulary.impacts import IMPACTS
from vocabulary.labels import SERVER_TIME_LATER, SERVER_TIME_SHARED
from vocabulary.problems import plural


def print_summary(summary: ScanSummary, db_path: str) -> None:
    """What was scanned, what was found, and where to look next."""
    db = open_database(db_path, create=False)
    c = summary.counters
    # stderr keeps stdout for data; rule ids and team names come from pages, so every line
    # is shown with its control characters escaped (no escape sequences reach the terminal).
    echo = lambda text="": click.echo(terminal(text), err=True)  # noqa: E731
    echo()
    echo(
        f"Scan {summary.scan_id} {summary.status} in {format_duration(summary.seconds)}"
        + (f" (axe-core {summary.axe_version})" if summary.axe_version else " (no browser)")
    )
    audited = f", {c.audited} audited in Chromium, {c.audit_failed} could not be audited"
    if c.reused:
        audited += f", {c.reused} unchanged since the last scan (audit reused)"
    unchanged = f" ({c.not_modified} not downloaded: unchanged, said the server)"
    echo(
        f"  Pages: {c.pages} recorded"
        + (unchanged if c.not_modified else "")
        + (audited if summary.axe_version else "")
    )
    echo(
        f"  Other URLs: {c.http_errors} answered with an HTTP error, {c.fetch_failed} could "
        f"not be fetched, {c.disallowed} disallowed by robots.txt, "
        f"{c.skipped_over_limit} over --max-pages"
    )
    found = scan_figures(db, summary.scan_id)
    if summary.axe_version:
        counts = found.accessibility
        echo(
            f"  Accessibility: {plural(counts.problems)} on {plural(counts.elements, 'element')} "
            f"({', '.join(f'{counts.impact(i)} {i}' for i in IMPACTS)})"
        )
        for rule in found.top_rules:
            echo(
                f"    {rule.rule_id}: {plural(rule.problems)} on {plural(rule.pages, 'page')}, "
                f"{plural(rule.elements, 'element')}"
            )
    content = found.content_pages
    echo(
        f"  Content: {content.get('reading-age', 0)} pages above their target reading age, "
        f"{content.get('stale', 0)} out of date, {content.get('review-overdue', 0)} past "
        f"their review date, {content.get('undated', 0)} undated"
    )
    if ignored := server_time_line(server_time_pages(db, summary.scan_id)):
        echo(ignored)
    broken = found.broken_links
    echo(
        f"  Links and documents: {broken.get('broken-link-internal', 0)} broken internal "
        f"links, {broken.get('broken-link-external', 0)} broken external links; "
        f"{found.documents} documents, {found.documents_with_problems} with problems"
    )
    if capped := external_cap_line(c):
        echo(capped)
    layout = [plural(found.template_problems)] if found.template_problems else []
    layout += [plural(found.template_links, "broken link")] if found.template_links else []
    if layout:
        echo(f"  Template: {' and '.join(layout)} repeated across the site's shared layout")
    if statement := statement_line(findings_in_scan(db, summary.scan_id, kind="statement")):
        echo(statement)
    if decided := decisions_line(found.decisions):
        echo(decided)
    if teams := found.pages_by_team:
        echo("  Teams: " + ", ".join(f"{team} ({n})" for team, n in teams))
    echo(f"  Database: {db_path} (scan id {summary.scan_id}); try:")
    echo(
        f'    sqlite3 {db_path} "SELECT url, rule_id, impact FROM findings '
        f"WHERE scan_id = {summary.scan_id} AND outcome = 'violation'\""
    )
    db.conn.close()


def statement_line(found: list[Finding]) -> str | None:
    """What the accessibility statement check found (docs/checks.md); None when nothing."""
    if any(f.rule_id == "statement-missing" for f in found):
        return "  Accessibility statement: none found (see the report of the shared layout)"
    unlinked = sum(1 for f in found if f.rule_id == "statement-link-missing")
    on_statement = [f for f in found if f.rule_id != "statement-link-missing"]
    pages = ", ".join(sorted({f.url for f in on_statement}))
    parts = [f"{plural(len(on_statement))} on {pages}"] if on_statement else []
    parts += [f"{plural(unlinked, 'page')} without a link to it"] if unlinked else []
    return f"  Accessibility statement: {'; '.join(parts)}" if parts else None


def server_time_line(pages: dict[str, int]) -> str | None:
    """Where the server's Last-Modified was taken as its own time, not the pages'."""
    shared, later = pages.get(SERVER_TIME_SHARED, 0), pages.get(SERVER_TIME_LATER, 0)
    share = "shares" if shared == 1 else "share"
    reasons = [f"{plural(shared, 'page')} {share} one within minutes"] if shared else []
    reasons += [f"{plural(later, 'page')} had one later than every date they give"] if later else []
    if not reasons:
        return None
    return (
        "  Dates: Last-Modified headers ignored as the server's time, not the pages' ("
        + "; ".join(reasons)
        + ")"
    )


def decisions_line(decisions: dict[str, int]) -> str | None:
    """How many findings people's decisions set aside, by decision, and how many expired."""
    if not decisions:
        return None
    decisions = dict(decisions)
    expired = decisions.pop(EXPIRED, 0)
    kinds = ", ".join(f"{decisions[d]} {d}" for d in DECISIONS if d in decisions)
    line = f"  Decided: {plural(sum(decisions.values()), 'finding')} set aside"
    line += f" ({kinds})" if kinds else ""
    if expired:
        line += f"; {plural(expired, 'decision')} expired: those findings count again"
    return line


def external_cap_line(c: Counters) -> str | None:
    """Which cap on external link checks was reached, if one was."""
    caps = []
    if c.external_over_scan_cap:
        caps.append(f"links.max_external reached, {c.external_over_scan_cap} more not checked")
    if c.external_over_host_cap:
        hosts = f"{c.external_capped_hosts} host{'s' if c.external_capped_hosts != 1 else ''}"
        caps.append(
            f"links.max_external_per_host reached on {hosts}, "
            f"{c.external_over_host_cap} more not checked"
        )
    if not caps:
        return None
    return f"  External links: {c.external_checked} checked; " + "; ".join(caps)
