"""The browser in a worker of a shared scan: each worker starts its own pool of Chromium, as
a one-machine scan does, and tells the seeder what axe-core it ran, for the scan's record."""

from __future__ import annotations

import json
import logging
from typing import Any

import redis

from app.scan import browser_options, checks_run, rules_known, start_browsers
from browser.browser_pool import BrowserPool
from crawler.credentials import Credentials
from crawler.distributed import ScanKeys
from settings.model import Config
from store.previous import rules_key

log = logging.getLogger(__name__)

# The scan's state fields a worker's browsers set (the first worker's), and the seeder
# records in the scan's row when it finishes.
BROWSER_FIELDS = ("axe_version", "axe_rules", "rules_key", "sandboxed")


def start_worker_browsers(
    config: Config, credentials: Credentials, client: redis.Redis, keys: ScanKeys
) -> BrowserPool | None:
    """This worker's browsers for the scan, or None without the browser; raises ScanError
    if Chromium cannot start (this worker's crawl of the scan then ends, as a scan would)."""
    if not config.audit.browser:
        return None
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
    return pool


def browser_fields(client: redis.Redis, keys: ScanKeys) -> dict[str, Any]:
    """What the workers' browsers said of the scan, for its row (none without the browser)."""
    values = client.hmget(keys.key("state"), list(BROWSER_FIELDS))
    fields: dict[str, Any] = {
        name: value.decode() for name, value in zip(BROWSER_FIELDS, values, strict=True) if value
    }
    if "sandboxed" in fields:
        fields["sandboxed"] = int(fields["sandboxed"])
    return fields
