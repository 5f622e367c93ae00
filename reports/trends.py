"""Scores and problems over every finished scan of a site, for the report's small charts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from store.findings import findings_in_scan
from store.history import scans_of_site
from store.scans import default_team
from store.scores import scores_over_time, team_scores_over_time
from vocabulary.impacts import IMPACTS
from vocabulary.problems import count_problems

# The charts' drawing area, in SVG units: the plot sits inside the margins.
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 320, 120, 34, 10, 10, 24


@dataclass
class Series:
    """One line of a chart: a value (None: none that scan) for each scan."""

    name: str
    values: list[float | None]


@dataclass
class Chart:
    """A line chart of scans (oldest first), drawn inline as SVG with a table beside it."""

    title: str
    scans: list[tuple[int, str]]  # (scan id, day it started)
    series: list[Series]
    top: float = 100.0  # the value at the top of the plot
    whole: bool = False  # counts, shown without decimals (scores have one)

    def text(self, value: float | None) -> str:
        """A value as the table shows it."""
        if value is None:
            return "none"
        return f"{value:.0f}" if self.whole else f"{value:.1f}"

    def x(self, index: int) -> float:
        """Where a scan is across the plot: evenly spaced, the oldest at the left."""
        step = (WIDTH - LEFT - RIGHT) / max(len(self.scans) - 1, 1)
        return round(LEFT + index * step, 1)

    def y(self, value: float) -> float:
        """How high a value is drawn: 0 at the plot's bottom, `top` at its top."""
        plot = HEIGHT - TOP - BOTTOM
        return round(HEIGHT - BOTTOM - value / (self.top or 1) * plot, 1)

    def points(self, series: Series) -> list[tuple[float, float, float]]:
        """(x, y, value) of each scan the series has a value in."""
        return [(self.x(i), self.y(v), v) for i, v in enumerate(series.values) if v is not None]

    def line(self, series: Series) -> str:
        """The polyline's points attribute."""
        return " ".join(f"{x},{y}" for x, y, _ in self.points(series))

    @property
    def summary(self) -> str:
        """The chart in one sentence: its name for assistive technology."""
        first, last = self.scans[0], self.scans[-1]
        return f"{self.title}, {len(self.scans)} scans from {first[1]} to {last[1]}"


@dataclass
class Trends:
    """The site's and each team's charts."""

    site: list[Chart] = field(default_factory=list)
    teams: dict[str, list[Chart]] = field(default_factory=dict)

    def team(self, name: str) -> list[Chart]:
        return self.teams.get(name, [])


def load_trends(db: Any, scan_id: int) -> Trends:
    """Scores and accessibility problems by impact over every finished scan of the reported
    scan's start URL up to it; no charts for a site scanned once."""
    scans = scans_of_site(db, scan_id)
    if len(scans) < 2:
        return Trends()
    site_scores = scores_over_time(db, scans)
    days = [(scan, day) for scan, day, _ in site_scores]
    by_team = team_scores_over_time(db, scans)
    counts = problem_counts(db, scans)
    site = [
        Chart("Site score", days, [Series("Site", [score for _, _, score in site_scores])]),
        impact_chart("Accessibility problems by impact", days, counts.get(None, {})),
    ]
    teams = {
        team: [
            Chart(f"{team} score", days, [Series(team, [scores.get(s) for s in scans])]),
            impact_chart(f"{team} accessibility problems by impact", days, counts.get(team, {})),
        ]
        for team, scores in by_team.items()
    }
    return Trends(site, teams)


def impact_chart(
    title: str, days: list[tuple[int, str]], counts: dict[int, dict[str, int]]
) -> Chart:
    """One line for each impact; a scan without problems counts 0 of each."""
    series = [
        Series(impact, [float(counts.get(scan, {}).get(impact, 0)) for scan, _ in days])
        for impact in IMPACTS
    ]
    top = max([v or 0 for s in series for v in s.values] + [1])
    return Chart(title, days, series, float(top), whole=True)


def problem_counts(db: Any, scans: list[int]) -> dict[str | None, dict[int, dict[str, int]]]:
    """team (None: the whole site) -> scan -> impact -> accessibility problems, counted as
    the report counts them (vocabulary/problems.py)."""
    counts: dict[str | None, dict[int, dict[str, int]]] = defaultdict(dict)
    for scan in scans:
        found = findings_in_scan(db, scan, kind="accessibility", outcome="violation")
        counts[None][scan] = count_problems(found).by_impact
        unowned, by_team = default_team(db, scan), defaultdict(list)
        for finding in found:
            by_team[finding.team or unowned].append(finding)
        for team, findings in by_team.items():
            counts[team][scan] = count_problems(findings).by_impact
    return dict(counts)
