"""`siteaudit worker`: crawl scans seeded elsewhere with `siteaudit scan --redis`."""

from __future__ import annotations

from types import ModuleType

import click

from app.scan import ScanError

REDIS_HELP = "Redis server the scan's workers share, as redis://HOST:PORT/DB (docs/scaling.md)."
# siteaudit scan's options for a scan shared through Redis.
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
)


@click.command()
@click.option("--redis", "redis_url", required=True, metavar="URL", help=REDIS_HELP)
@click.option("--once", is_flag=True, help="Crawl the first open scan, then exit.")
@click.option("-v", "--verbose", is_flag=True, help="Log every page and Scrapy's log.")
def worker(redis_url: str, once: bool, verbose: bool) -> None:
    """Crawl and audit, with any number of other workers on any machine, the scans that
    `siteaudit scan --redis URL` seeds; their rows go back to that command's database.

    \b
    Example:
      siteaudit worker --redis redis://10.0.0.5:6379/0
    """
    from app.cli import set_verbosity  # the command line's log handler, set up by main

    set_verbosity(verbose)
    distributed().run_worker(redis_url, once=once, verbose=verbose)


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
