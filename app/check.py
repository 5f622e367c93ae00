"""siteaudit check: scan the chosen pages, then judge them against a baseline and decisions."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

import click

from app.paths import check_output_file
from app.scan import ScanError, run_scan
from reports.ci_outputs import terminal_summary, write_junit, write_markdown, write_sarif
from reports.gate import (
    GateError,
    GateResult,
    check_baseline_kinds,
    evaluate,
    load_baseline,
    london_today,
    page_statuses,
    problems_in_scan,
)
from reports.gate_policy import DEFAULT_KINDS, GatePolicy, PolicyError, parse_fail_on_kinds
from settings.decisions import load_decisions
from settings.loader import (
    ConfigError,
    check_options,
    check_start_url,
    load_config,
    validate,
)
from settings.model import Config
from store.database import open_database
from vocabulary.decisions import Decision


@dataclass
class CheckRequest:
    urls: list[str]
    sitemap_url: str | None
    crawl_url: str | None
    baseline_path: str | None
    decisions_path: str | None  # --decisions, or its older name --waivers
    db_path: str | None
    junit_path: str | None
    sarif_path: str | None
    markdown_path: str | None
    as_of: datetime | None
    config_path: str | None
    fail_on: str = "serious"
    fail_on_needs_review: bool = False
    fail_on_new_rules: bool = False
    wcag: str | None = None
    best_practices: bool | None = None
    browsers: int | None = None
    page_timeout: float | None = None
    screenshots: bool | None = None
    checks: tuple[str, ...] | None = None
    fail_on_kinds: str | None = None  # the kinds of finding that can fail the gate


def gate_policy(request: CheckRequest) -> GatePolicy:
    """The gate's policy from the options; a bad --fail-on-kinds is a ConfigError."""
    try:
        kinds = parse_fail_on_kinds(request.fail_on_kinds or DEFAULT_KINDS)
    except PolicyError as err:
        raise ConfigError(f"--fail-on-kinds: {err}") from None
    return GatePolicy(
        request.fail_on, request.fail_on_needs_review, request.fail_on_new_rules, kinds
    )


def check_config(request: CheckRequest, policy: GatePolicy | None = None) -> Config:
    """The scan a check runs: exactly the given pages (or a sitemap, or a crawl). When
    broken links can fail the gate, the links of those pages are checked too, by status."""
    if not (request.urls or request.sitemap_url or request.crawl_url):
        raise ConfigError("nothing to check: give URLs, --urls FILE, --sitemap URL or --crawl URL")
    check_options({"browsers": request.browsers, "page_timeout": request.page_timeout})
    for url in [*request.urls, request.sitemap_url, request.crawl_url]:
        if url:
            check_start_url(url, "URL to check")
    config = (
        load_config(request.config_path) if request.config_path else Config(source="command line")
    )
    crawling = request.crawl_url is not None
    site = {
        "start_urls": tuple(request.urls) + ((request.crawl_url,) if crawling else ()),
        "sitemap_urls": (request.sitemap_url,) if request.sitemap_url else (),
        "sitemaps": crawling and config.site.sitemaps,
        "max_depth": None if crawling else 0,
    }
    audit = {
        "browser": True,
        "wcag": request.wcag,
        "best_practices": request.best_practices,
        "browsers": request.browsers,
        "page_timeout": request.page_timeout,
        "screenshots": request.screenshots,
        "checks": request.checks,
    }
    gates_links = policy is not None and policy.threshold("broken-link") is not None
    links = {"check_unfollowed": True if gates_links and not crawling else None}
    config = config.with_overrides(site=site, audit=audit, links=links)
    validate(config)
    return config


def load_gate_decisions(path: str) -> list[Decision]:
    """The decisions file (or an older waivers file), each entry checked
    (settings/decisions.py says how); a bad one is a GateError."""
    try:
        return load_decisions(path)
    except ConfigError as err:
        raise GateError(str(err)) from None


OUTPUTS = (("junit_path", "--junit"), ("sarif_path", "--sarif"), ("markdown_path", "--markdown"))


def run_check(request: CheckRequest) -> int:
    """Check the pages and return the gate's exit code (0 pass, 1 could not check, 2 fail)."""
    policy = gate_policy(request)
    config = check_config(request, policy)
    # Read the baseline and decisions before the scan: bad input fails in a second, not later.
    baseline = load_baseline(request.baseline_path) if request.baseline_path else None
    if baseline is not None:
        check_baseline_kinds(baseline, policy)
    decisions = load_gate_decisions(request.decisions_path) if request.decisions_path else []
    today = london_today(request.as_of)
    for path, option in OUTPUTS:
        if getattr(request, path):
            check_output_file(getattr(request, path), option)
    workdir = None if request.db_path else tempfile.mkdtemp(prefix="siteaudit-check-")
    db_path = request.db_path or str(Path(workdir or ".") / "check.db")
    try:
        # The scan records the same decisions, judged on the same day, as the gate applies.
        summary = run_scan(config, db_path, decisions=decisions, today=today)
        db = open_database(db_path, create=False)
        result = evaluate(
            problems_in_scan(db, summary.scan_id, policy.kind_names),
            page_statuses(db, summary.scan_id),
            baseline,
            decisions,
            policy,
            today,
        )
        write_outputs(request, result, summary.axe_version)
        click.echo(terminal_summary(result))
        if summary.status != "finished" and not result.unchecked:
            raise ScanError(summary.message or f"the check's scan {summary.status}")
        return result.exit_code
    finally:
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)


def write_outputs(request: CheckRequest, result: GateResult, axe_version: str | None) -> None:
    if request.junit_path:
        write_junit(result, Path(request.junit_path))
    if request.sarif_path:
        write_sarif(result, Path(request.sarif_path), version("siteaudit"), axe_version)
    if request.markdown_path:
        write_markdown(result, Path(request.markdown_path))
