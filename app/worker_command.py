"""`siteaudit worker`, and `siteaudit scan`'s scans shared with workers through Redis."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import click

from app.log_output import set_verbosity
from app.scan import Decided, ScanError
from settings.loader import ConfigError, read_text_file
from settings.model import Config

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
    click.option(
        "--detach",
        is_flag=True,
        help="With --redis: seed the scan, print its id and the command that finishes it "
        "(siteaudit scan --redis URL --resume --db FILE), and return at once.",
    ),
)
SHARED_OPTIONS = ("redis_url", "redis_lease", "sites_path", "detach")


@click.command()
@click.option("--redis", "redis_url", required=True, metavar="URL", help=REDIS_HELP)
@click.option(
    "--until-idle",
    is_flag=True,
    help="Exit once no scan is left to crawl, after the first; 1 if this worker's browsers "
    "could not start for one, or stopped starting (it leaves such a scan to the other "
    "workers).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log every page and Scrapy's log.")
def worker(redis_url: str, until_idle: bool, verbose: bool) -> None:
    """Crawl and audit, with any number of other workers on any machine, the scans that
    `siteaudit scan --redis URL` seeds; their rows go back to that command's database.
    A worker whose browsers cannot start for a scan takes no page of it: it tries the scan
    again after 5 s, then 15 s, then leaves it to the other workers. One whose browsers stop
    starting mid-scan gives back the pages it has not stored, then does the same.

    \b
    Example:
      siteaudit worker --redis redis://10.0.0.5:6379/0
    """
    set_verbosity(verbose)
    run = distributed().run_worker(redis_url, until_idle=until_idle, verbose=verbose)
    if run.trouble.left:  # scans this worker's browsers left to the others
        raise ScanError(run.trouble.left_error())


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
    detach: bool,
) -> None:
    """siteaudit scan with --redis: seed the scans, write what the workers find, finish; or,
    with --detach, only seed them; or, with --resume, finish those seeded earlier."""
    from app.cli import build_config  # shared with scan
    from app.paths import check_output_folder
    from settings.decisions import load_decisions

    report_dir, resume = overrides.pop("report_dir"), overrides.pop("resume")
    check_shared(redis_url, redis_lease, sites_path, detach, resume, report_dir)
    assert redis_url is not None
    if sites_path and start_urls:
        raise ScanError("give start URLs or --sites FILE, not both")
    if sites_path and report_dir:
        raise ScanError("--report with --sites: report each scan with siteaudit report --scan")
    sites = read_sites(sites_path) if sites_path else [(url, None) for url in start_urls]
    named = bool(sites or config_path)  # with --resume: only the scans of these sites
    if not sites:
        sites = [("", None)]  # the start URLs of --config
    configs = []
    if named or not resume:
        configs = [
            build_config(own or config_path, (url,) if url else (), overrides) for url, own in sites
        ]
    decisions = load_decisions(decisions_path) if decisions_path else []
    if report_dir:
        check_output_folder(report_dir, "--report")
    set_verbosity(verbose)
    if detach:
        detached(configs, db_path, redis_url, redis_lease)
        return
    # Each scan's summary (and report) is printed as soon as it is finished.
    finished = Finished(db_path, report_dir)
    if resume:
        resume_from = distributed_resume().resume_scans
        decided = Decided(tuple(decisions))
        resume_from(db_path, redis_url, configs if named else None, decided, finished)
    else:
        seed = distributed().run_distributed_scans
        seed(configs, db_path, redis_url, Decided(tuple(decisions)), redis_lease, finished)
    if finished.failed:
        raise finished.failed


def check_shared(
    redis_url: str | None,
    redis_lease: float | None,
    sites_path: str | None,
    detach: bool,
    resume: bool,
    report_dir: str | None,
) -> None:
    """The options of a scan shared through Redis that do not go together, refused."""
    if not redis_url:
        given = [
            name for name, value in REDIS_ONLY.items() if value(redis_lease, sites_path, detach)
        ]
        them = " and ".join(given)
        raise ScanError(
            f"{them} {'work' if len(given) > 1 else 'works'} only with --redis URL (a scan "
            f"shared with siteaudit workers): add --redis, or leave out {them}"
        )
    if detach and resume:
        raise ScanError(
            "--detach seeds a new scan and returns, --resume finishes one: give one of them"
        )
    if detach and report_dir:
        raise ScanError(
            "--report with --detach: the scan is not done when this command returns; give "
            "--report to the siteaudit scan --redis URL --resume --db FILE that finishes it"
        )
    if resume and redis_lease:
        raise ScanError(
            "--redis-lease with --resume: a scan keeps the lease it was seeded with; "
            "leave out --redis-lease"
        )


# The options that need --redis, and whether each was given (lease, sites, detach).
REDIS_ONLY = {
    "--redis-lease": lambda lease, sites, detach: lease is not None,
    "--sites": lambda lease, sites, detach: bool(sites),
    "--detach": lambda lease, sites, detach: detach,
}


def detached(
    configs: list[Config], db_path: str, redis_url: str, redis_lease: float | None
) -> None:
    """--detach: seed the scans, say which they are and how to finish them, and return."""
    module = distributed_resume()
    scan_ids = module.detach_scans(configs, db_path, redis_url, redis_lease)
    names = ", ".join(str(scan_id) for scan_id in scan_ids)
    click.echo(
        f"Scan{'s' if len(scan_ids) > 1 else ''} {names} seeded in {db_path}: the workers "
        f"crawl {'them' if len(scan_ids) > 1 else 'it'} now (siteaudit worker --redis URL)."
    )
    click.echo("What they find waits in Redis until this finishes it, once their crawl is over:")
    click.echo(f"  {module.resume_command(redis_url, db_path)}")


class Finished:
    """Told of each scan as it is finished: prints its summary (and report); the first that
    did not finish fails the command, once every scan is done."""

    def __init__(self, db_path: str, report_dir: str | None) -> None:
        self.db_path, self.report_dir = db_path, report_dir
        self.failed: ScanError | None = None

    def __call__(self, config: Config, summary: Any) -> None:
        from app.cli import finish

        try:
            finish(summary, self.db_path, config, self.report_dir)
        except ScanError as err:
            self.failed = self.failed or err


def distributed_resume() -> ModuleType:
    """app/distributed_resume.py, which needs the [redis] extra as app/distributed.py does."""
    distributed()
    import app.distributed_resume

    return app.distributed_resume
