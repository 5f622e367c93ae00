"""The browser in a worker of a shared scan: each worker starts its own pool of Chromium, as
a one-machine scan does, and tells the seeder what axe-core it ran, for the scan's record."""

from __future__ import annotations

import json
import logging
from typing import Any

import redis

from app.scan import browser_options, checks_run, rules_known, start_browsers
from browser.axe_core import axe_source_path, script_version
from browser.browser_pool import BrowserPool
from crawler.credentials import Credentials
from crawler.distributed import ScanKeys
from settings.model import Config, viewport_size
from store.previous import DESKTOP_VIEWPORT, rules_key
from vocabulary.wcag import run_only_tags

log = logging.getLogger(__name__)

# The scan's state fields a worker's browsers set (the first worker's), and the seeder
# records in the scan's row when it finishes.
BROWSER_FIELDS = ("axe_version", "axe_rules", "rules_key", "sandboxed")


def start_worker_browsers(
    config: Config, credentials: Credentials, client: redis.Redis, keys: ScanKeys
) -> tuple[BrowserPool | None, str | None]:
    """This worker's browsers for the scan and the rules key of its audits, or None and None
    without the browser; raises ScanError if Chromium cannot start (this worker's crawl of
    the scan then ends, as a scan would)."""
    if not config.audit.browser:
        return None, None
    pool, (axe_version, axe_rules), options = start_browsers(
        config, browser_options(config, credentials)
    )
    if not options.sandbox:
        log.warning(
            "Chromium runs as root without its sandbox, as audit.allow_no_sandbox allows "
            "(recorded as scans.sandboxed = 0)"
        )
    checks = checks_run(config.audit.checks, browser=True)
    fields = {
        "axe_version": axe_version,
        "axe_rules": json.dumps(rules_known(axe_rules, checks)),
        "rules_key": rules_key(axe_version, options.run_only, options.viewport, options.checks),
        "sandboxed": int(options.sandbox),
    }
    # The first worker's: every worker runs the axe-core this checkout ships.
    for name, value in fields.items():
        client.hsetnx(keys.key("state"), name, value)
    return pool, str(fields["rules_key"])


def expected_rules_key(config: Config) -> str | None:
    """The rules key a worker's audits will have (start_worker_browsers), as the seeder
    works it out without a browser: axe-core's version from its script's banner, the rest
    from the configuration, as browser_options makes them. None if no axe-core is here (a
    seeder on a machine without it: its rescan then reuses no audit)."""
    try:
        version = script_version(axe_source_path())
    except OSError:
        return None
    if version is None:
        return None
    audit = config.audit
    run_only = tuple(run_only_tags(audit.wcag, audit.best_practices))
    viewport = viewport_size(audit.viewport) or DESKTOP_VIEWPORT
    return rules_key(version, run_only, viewport, audit.checks)


def browser_fields(client: redis.Redis, keys: ScanKeys) -> dict[str, Any]:
    """What the workers' browsers said of the scan, for its row (none without the browser)."""
    values = client.hmget(keys.key("state"), list(BROWSER_FIELDS))
    fields: dict[str, Any] = {
        name: value.decode() for name, value in zip(BROWSER_FIELDS, values, strict=True) if value
    }
    if "sandboxed" in fields:
        fields["sandboxed"] = int(fields["sandboxed"])
    return fields
