"""The command line's options, each defined once and shared by the commands that take it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from settings.model import WCAG_LEVELS
from vocabulary.checks import CHECKS

Decorator = Callable[[Any], Any]


def file_option(flag: str, dest: str, help: str, **extra: Any) -> Decorator:
    """An option naming a file to read or write (never a folder)."""
    allow_dash = extra.pop("allow_dash", False)
    path = click.Path(dir_okay=False, allow_dash=allow_dash)
    return click.option(flag, dest, type=path, help=help, **extra)


def folder_option(flag: str, dest: str, help: str, **extra: Any) -> Decorator:
    """An option naming a folder to write into."""
    return click.option(flag, dest, type=click.Path(file_okay=False), help=help, **extra)


def db_option(help: str, default: str | None = "siteaudit.db") -> Decorator:
    shown = {"default": default, "show_default": True} if default else {}
    return file_option("--db", "db_path", help, **shown)


def config_option(help: str) -> Decorator:
    return file_option("--config", "config_path", help)


def scan_id_option(help: str) -> Decorator:
    return click.option("--scan", "scan_id", type=int, help=help)


def flag(name: str, help: str, dest: str | None = None, **extra: Any) -> Decorator:
    names = (name, dest) if dest else (name,)
    return click.option(*names, is_flag=True, help=help, **extra)


def decisions_option(*aliases: str) -> Decorator:
    """--decisions FILE: people's decisions on findings (check also takes it as --waivers)."""
    return click.option(
        "--decisions",
        *aliases,
        "decisions_path",
        type=click.Path(dir_okay=False),
        help="TOML file of decisions on findings: false-positive, accepted (until a date) or "
        "fixed-pending; see config/example-decisions.toml."
        + (f" {', '.join(aliases)} is the same option." if aliases else ""),
    )


# Options that mean the same in scan, demo and check.
WCAG = click.option(
    "--wcag", type=click.Choice(WCAG_LEVELS), help="WCAG version and level [2.1-AA]."
)
BEST_PRACTICES = click.option(
    "--best-practices/--no-best-practices", default=None, help="Also run axe's best-practice rules."
)
BROWSERS = click.option("--browsers", type=int, help="Browser sessions in parallel [one per core].")
PAGE_TIMEOUT = click.option("--page-timeout", type=float, help="Seconds allowed per page [30].")
SCREENSHOTS = click.option(
    "--screenshots/--no-screenshots",
    default=None,
    help="Keep a picture of each element with a problem (default), or none.",
)
CHECKS_TO_RUN = click.option(
    "--checks",
    metavar="NAMES",
    help=f"Checks to run, comma-separated, from: {','.join(CHECKS)} [all].",
)


def with_options(*options: Decorator) -> Decorator:
    """Apply options in the order listed, so --help lists them in that order."""

    def apply(function: Any) -> Any:
        for option in reversed(options):
            function = option(function)
        return function

    return apply


# Every option of scan and demo (demo adds --port).
scan_options = with_options(
    db_option("SQLite database to add the scan to."),
    config_option("TOML configuration (teams, policies, limits)."),
    click.option("--max-pages", type=int, help="Stop discovering after this many URLs."),
    click.option("--max-depth", type=int, help="Follow links at most this deep."),
    BROWSERS,
    WCAG,
    BEST_PRACTICES,
    click.option(
        "--browser/--no-browser",
        default=None,
        help="Audit pages in Chromium (default), or only crawl, read and measure.",
    ),
    PAGE_TIMEOUT,
    SCREENSHOTS,
    CHECKS_TO_RUN,
    flag("--full", "Re-audit every page, even those unchanged since the last scan.", default=None),
    click.option("--user-agent", help="User agent the crawler sends."),
    flag("--resume", "Finish the last interrupted scan of this site in --db."),
    click.option(
        "--max-minutes",
        type=float,
        help="Stop the scan after this many minutes, keeping what it did.",
    ),
    folder_option(
        "--report", "report_dir", "Also write the HTML report of this scan into this folder."
    ),
    decisions_option(),
    click.option("-v", "--verbose", is_flag=True, help="Log every page and Scrapy's log."),
)
