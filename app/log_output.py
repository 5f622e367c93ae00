"""The command line's one log handler: warnings by default, every page's line with -v.

It lives apart from app/cli.py because `python -m app.cli` runs that file as __main__, and a
command that imported app.cli again would set the level on a second, uninstalled handler.
"""

from __future__ import annotations

import logging

LOG_HANDLER = logging.StreamHandler()
LOG_HANDLER.setFormatter(logging.Formatter("siteaudit: %(levelname)s: %(message)s"))


def set_verbosity(verbose: bool) -> None:
    # The level sits on the handler: Scrapy resets the root logger's level when it starts.
    LOG_HANDLER.setLevel(logging.INFO if verbose else logging.WARNING)


def install_log_handler() -> None:
    """Warnings and errors to stderr, once per process."""
    set_verbosity(False)
    if LOG_HANDLER not in logging.getLogger().handlers:
        logging.getLogger().addHandler(LOG_HANDLER)
