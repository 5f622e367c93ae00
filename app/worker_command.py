"""`siteaudit worker`, and `siteaudit scan`'s scans shared with workers through Redis."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import click

from app.scan import Decided, ScanError
from settings.loader import ConfigError, read_text_file

REDIS_HELP = "Redis server the scan's workers share, as redis://HOST:PORT/DB (docs/scaling.md)."
# siteaudit scan's options for scans shared through Redis, by the names scan_shared takes.
REDIS_OPTIONS = (
    click.option("--redis", "redis_url", metavar="URL", help=REDIS_HELP),
    click.option(
        "--redis-lease",
        "redis_lease",
        type=click.FloatRange(min=1),
        metavar="SECONDS",
        help="With --redis: how long a page taken by a worker that stops answering waits "
        "before another worker takes it [60].",
    ),
    click.option(
        "--sites",
        "sites_path",
        type=click.Path(dir_okay=False),
        help="With --redis: scan many sites at once, one scan each in --db: a start URL per "
        "line, optionally followed by its own TOML configuration (else --config's).",
    ),
)
SHARED_OPTIONS = ("redis_url", "redis_lease", "sites_path")


@click.command()
@click.option("--redis", "redis_url", required=True, metavar="URL", help=REDIS_HELP)
@click.option(
    "--until-idle", is_flag=True, help="Exit once no scan is left to crawl, after the first."
)
@click.option("-v", "--verbose", is_flag=True, help="Log every page and Scrapy's log.")
def worker(redis_url: str, until_idle: bool, verbose: bool) -> None:
    """Crawl and audit, with any number of other workers on any machine, the scans that
    `siteaudit scan --redis URL` seeds; their rows go back to that command's database.

    \b
    Example:
      siteaudit worker --redis redis://10.0.0.5:6379/0
    """
    from app.cli import set_verbosity  # the command line's log handler, set up by main

    set_verbosity(verbose)
    distributed().run_worker(redis_url, until_idle=until_idle, verbose=verbose)


def distributed() -> ModuleType:
    """app/distributed.py, which needs the [redis] extra: imported only when asked for."""
    try:
        import app.distributed
    except ImportError as err:
        raise ScanError(
            f"--redis needs the redis extra ({err}): pip install 'siteaudit[redis]', "
            "or run scripts/setup.sh"
        ) from None
    return app.distributed


def read_sites(path: str) -> list[tuple[str, str | None]]:
    """--sites FILE: (start URL, its configuration file or None) per line; blank lines and
    # comments skipped; a configuration path is relative to the file's folder."""
    sites = []
    for number, line in enumerate(read_text_file(path, "--sites").splitlines(), start=1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) > 2:
            raise ConfigError(
                f"{path}, line {number}: give a start URL and at most one configuration file"
            )
        config = str(Path(path).parent / words[1]) if len(words) == 2 else None
        sites.append((words[0], config))
    if not sites:
        raise ConfigError(f"{path}: no start URL in it; give one per line")
    return sites


def scan_shared(
    start_urls: tuple[str, ...],
    config_path: str | None,
    overrides: dict[str, Any],
    db_path: str,
    decisions_path: str | None,
    verbose: bool,
    redis_url: str | None,
    redis_lease: float | None,
    sites_path: str | None,
) -> None:
    """siteaudit scan with --redis: seed the scans, write what the workers find, finish."""
    from app.cli import build_config, finish, set_verbosity  # shared with scan
    from app.paths import check_output_folder
    from settings.decisions import load_decisions

    report_dir = overrides.pop("report_dir")
    if not redis_url:
        raise ScanError("--redis-lease and --sites work only with --redis URL")
    if overrides.pop("resume"):
        raise ScanError("--resume does not work with --redis yet: scan without --resume")
    if sites_path and start_urls:
        raise ScanError("give start URLs or --sites FILE, not both")
    if sites_path and report_dir:
        raise ScanError("--report with --sites: report each scan with siteaudit report --scan")
    sites = read_sites(sites_path) if sites_path else [(url, None) for url in start_urls]
    if not sites:
        sites = [("", None)]  # the start URLs of --config
    configs = [
        build_config(own or config_path, (url,) if url else (), overrides) for url, own in sites
    ]
    decisions = load_decisions(decisions_path) if decisions_path else []
    if report_dir:
        check_output_folder(report_dir, "--report")
    set_verbosity(verbose)
    seed = distributed().run_distributed_scans
    summaries = seed(configs, db_path, redis_url, Decided(tuple(decisions)), redis_lease)
    failed = None
    for config, summary in zip(configs, summaries, strict=True):
        try:
            finish(summary, db_path, config, report_dir)
        except ScanError as err:
            failed = failed or err
    if failed:
        raise failed
