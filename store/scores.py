"""Scores: what each page's is computed from, and each page's, team's and the site's, stored."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from store.decisions import UNDECIDED

# (kind, rule_id, impact, level, outcome, scope): what a finding counts for in a page's
# score (vocabulary/costs.py ScoredFinding).
ScoredRow = tuple[str, str, str | None, str | None, str, str]


def findings_by_page(db: Any, scan_id: int) -> dict[str, list[ScoredRow]]:
    """Each page's findings, as scored; a document's count against the page that links to
    it (its shallowest). A finding with a live decision (vocabulary/decisions.py) does not
    count; one whose decision has expired counts again."""
    found: dict[str, list[ScoredRow]] = defaultdict(list)
    for url, *row in db.execute(
        "SELECT coalesce(d.linked_from, f.url), f.kind, f.rule_id, f.impact, f.level, "
        "f.outcome, f.scope FROM findings f LEFT JOIN documents d ON f.kind = 'document' "
        "AND d.scan_id = f.scan_id AND d.url = f.url WHERE f.scan_id = ? "
        f"AND {UNDECIDED}",
        [scan_id],
    ):
        found[url].append(tuple(row))  # type: ignore[arg-type]
    return found


def pages_audited(db: Any, scan_id: int) -> tuple[bool, list[tuple[str, str | None]]]:
    """Whether the scan used the browser, and (url, audited_at) for each of its pages."""
    (browser,) = db.execute("SELECT browser FROM scans WHERE id = ?", [scan_id]).fetchone()
    pages = db.execute("SELECT url, audited_at FROM pages WHERE scan_id = ?", [scan_id])
    return bool(browser), pages.fetchall()


def save_page_scores(db: Any, scan_id: int, scores: Mapping[str, float | None]) -> None:
    db.conn.executemany(
        "UPDATE pages SET score = ? WHERE scan_id = ? AND url = ?",
        [(score, scan_id, url) for url, score in scores.items()],
    )


def page_scores_by_team(db: Any, scan_id: int, default_team: str) -> dict[str, list[float | None]]:
    """Each team's page scores; a page without a team is the default team's."""
    teams: dict[str, list[float | None]] = defaultdict(list)
    for team, score in db.execute("SELECT team, score FROM pages WHERE scan_id = ?", [scan_id]):
        teams[team or default_team].append(score)
    return teams


def save_scores(
    db: Any, scan_id: int, site: float | None, teams: Mapping[str, tuple[float | None, int]]
) -> None:
    """The site's score, and each team's (score, number of pages), in place of any before.
    (db may be a bare connection: an upgrade fills in older scans with it.)"""
    db.execute("UPDATE scans SET score = ? WHERE id = ?", [site, scan_id])
    db.execute("DELETE FROM team_scores WHERE scan_id = ?", [scan_id])
    for team, (score, pages) in teams.items():
        db.execute(
            "INSERT INTO team_scores (scan_id, team, score, pages) VALUES (?, ?, ?, ?)",
            [scan_id, team, score, pages],
        )


def team_scores(db: Any, scan_id: int) -> dict[str, float | None]:
    """Each team's stored score."""
    rows = db.execute("SELECT team, score FROM team_scores WHERE scan_id = ?", [scan_id])
    return dict(rows.fetchall())


def scores_over_time(db: Any, scans: list[int]) -> list[tuple[int, str, float | None]]:
    """(scan, day it started, site score) of each of these scans, oldest first."""
    marks = ", ".join("?" * len(scans))
    rows = db.execute(
        f"SELECT id, substr(started_at, 1, 10), score FROM scans WHERE id IN ({marks}) ORDER BY id",
        scans,
    )
    return rows.fetchall()


def team_scores_over_time(db: Any, scans: list[int]) -> dict[str, dict[int, float | None]]:
    """Each team's stored score in each of these scans it had one in: team -> scan -> score."""
    marks = ", ".join("?" * len(scans))
    found: dict[str, dict[int, float | None]] = defaultdict(dict)
    for scan_id, team, score in db.execute(
        f"SELECT scan_id, team, score FROM team_scores WHERE scan_id IN ({marks})", scans
    ):
        found[team][scan_id] = score
    return dict(found)
