"""Item pipelines that judge each page before it is stored: who owns it, and its content."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlsplit

from audits.content import freshness_findings, readability_finding
from audits.dates import choose_last_updated, review_due
from audits.ownership import OwnershipRules, compile_rules, owner_for
from audits.page import PageFacts
from audits.site_checks import page_findings
from crawler.context import scan_context
from crawler.items import Page
from settings.model import Config
from vocabulary.findings import Finding


class OwnershipPipeline:
    """Give each page its owning team: its meta tag's (ownership.meta_tag), else the team
    whose paths or patterns match it, else ownership.default_team."""

    def __init__(self, rules: OwnershipRules, meta_tag: str | None) -> None:
        self.rules, self.meta_tag = rules, meta_tag

    @classmethod
    def from_crawler(cls, crawler: Any) -> OwnershipPipeline:
        config = scan_context(crawler).config
        rules = compile_rules(config.teams, config.ownership.default_team)
        return cls(rules, (config.ownership.meta_tag or "").lower() or None)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Page) and item.unchanged is not None:
            # Read under the same configuration (store/unchanged.py), so its owner then is
            # its owner now; its meta tags were not kept.
            item.team = item.unchanged.row["team"]
        elif isinstance(item, Page):
            meta_value = item.facts.meta.get(self.meta_tag) if self.meta_tag else None
            item.team = owner_for(page_path(item.url), meta_value, self.rules)
        return item


class ContentChecksPipeline:
    """Hold each page's content to its team's limits: its reading age to its target, its
    dates to the freshness limits. A page that could not be read is not judged."""

    def __init__(self, config: Config) -> None:
        self.config = config

    @classmethod
    def from_crawler(cls, crawler: Any) -> ContentChecksPipeline:
        return cls(scan_context(crawler).config)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Page) or item.team is None:
            return item
        path = page_path(item.url)
        item.reading_age_target = self.config.reading_age_target(path, item.team)
        if item.reason is None:
            item.findings += content_findings(self.config, item.facts, path, item.team)
            # Links and headings, from the HTML every scan (a reused audit copies none); for
            # a page not downloaded (304), as the last scan found them in the same HTML.
            item.findings += item.facts.structure_findings or page_findings(
                item.url, item.facts.structure, self.config.audit.checks
            )
            if item.unchanged is not None:
                item.findings += item.unchanged.findings
        return item


def content_findings(config: Config, facts: PageFacts, path: str, team: str) -> list[Finding]:
    """Readability and freshness findings on one page."""
    found: list[Finding] = []
    target = config.reading_age_target(path, team)
    if readable := readability_finding(facts.readability, target, config.readability.min_words):
        found.append(readable)
    chosen, due = choose_last_updated(facts.dates), review_due(facts.dates)
    stale_after, archive_after = config.freshness_limits(path, team)
    found += freshness_findings(
        (chosen.value, chosen.source, chosen.evidence) if chosen else None,
        due.value if due else None,
        date.today(),
        stale_after,
        archive_after,
    )
    return found


def page_path(url: str) -> str:
    return urlsplit(url).path or "/"
