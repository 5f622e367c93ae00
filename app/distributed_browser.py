"""The browser in a worker of a shared scan: each worker starts its own pool of Chromium, as
a one-machine scan does, and tells the seeder what axe-core it ran, for the scan's record."""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import dataclass, field
from typing import Any, NoReturn

import redis

from app.browser_setup import (
    axe_scope,
    browser_options,
    checks_run,
    rules_known,
    start_browsers,
)
from browser.axe_core import axe_source_path, script_version
from browser.browser_pool import BrowserPool
from crawler.credentials import Credentials
from crawler.distributed import ScanKeys, set_state
from settings.model import Config
from store.previous import rules_key
from vocabulary.problems import plural

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
    set_state(client, keys, fields, only_new=True)
    return pool, str(fields["rules_key"])


def expected_rules_key(config: Config) -> str | None:
    """The rules key a worker's audits will have (start_worker_browsers), as the seeder
    works it out without a browser: axe-core's version from its script's banner, the rest
    from the configuration through axe_scope, as browser_options has them. None if no
    axe-core is here (a seeder on a machine without it: its rescan then reuses no audit)."""
    try:
        version = script_version(axe_source_path())
    except OSError:
        return None
    if version is None:
        return None
    run_only, viewport = axe_scope(config)
    return rules_key(version, run_only, viewport, config.audit.checks)


def browser_fields(client: redis.Redis, keys: ScanKeys) -> dict[str, Any]:
    """What the workers' browsers said of the scan, for its row (none without the browser)."""
    values = client.hmget(keys.key("state"), list(BROWSER_FIELDS))
    fields: dict[str, Any] = {
        name: value.decode() for name, value in zip(BROWSER_FIELDS, values, strict=True) if value
    }
    if "sandboxed" in fields:
        fields["sandboxed"] = int(fields["sandboxed"])
    return fields


# A worker whose browsers cannot start for a scan tries it again after each of these waits
# (seconds), then leaves the scan to the other workers: a machine short of memory for a
# moment recovers, a missing Chromium does not.
BROWSER_RETRY_WAITS = (5.0, 15.0)


@dataclass
class BrowserTrouble:
    """The scans this worker's browsers could not start for: when each may be tried again,
    and those given up (left to the other workers)."""

    attempts: dict[str, int] = field(default_factory=dict)
    retry_at: dict[str, float] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    # The pages opened in the scans whose browsers started, then stopped starting.
    pages: dict[str, int] = field(default_factory=dict)
    # The scans left to the other workers: given up, or ended while this one waited.
    left: set[str] = field(default_factory=set)

    def may_take(self, token: str) -> bool:
        """Whether the worker may crawl the scan now."""
        if token in self.left:
            return False
        return time.monotonic() >= self.retry_at.get(token, 0.0)

    def waiting(self, open_scans: set[str]) -> bool:
        """Whether an open scan is waiting for this worker to try it again."""
        return any(token in self.retry_at for token in open_scans - self.left)

    def started(self, token: str) -> None:
        """The worker's browsers started for the scan: its past failures are forgotten."""
        self.attempts.pop(token, None)
        self.retry_at.pop(token, None)
        self.pages.pop(token, None)

    def failed(self, token: str, scan: str, reason: str, pages: int | None = None) -> None:
        """The worker's browsers could not start for the scan (pages None), or stopped
        starting after that many pages: try again later, or give up; either way, one line
        saying so."""
        attempt = self.attempts.get(token, 0) + 1
        self.attempts[token], self.names[token] = attempt, scan
        if pages is not None:
            self.pages[token] = self.pages.get(token, 0) + pages
        what = (
            "could not start"
            if pages is None
            else f"stopped starting after {plural(pages, 'page')}"
        )
        tries = len(BROWSER_RETRY_WAITS) + 1
        if attempt < tries:
            wait = BROWSER_RETRY_WAITS[attempt - 1]
            self.retry_at[token] = time.monotonic() + wait
            log.warning(
                "%s: this worker's browsers %s (%s); trying the scan again in %g s (attempt "
                "%d of %d)", scan, what, reason, wait, attempt, tries,
            )  # fmt: skip
            return
        self.retry_at.pop(token, None)
        self.left.add(token)
        if token in self.pages:  # they started at one of its tries, at least
            what = f"{what}, at the last of {tries} tries"
        else:
            what = f"could not start {tries} times"
        log.warning(
            "%s: this worker's browsers %s (%s); it leaves the scan to the other workers",
            scan, what, reason,
        )  # fmt: skip

    def forget_closed(self, open_scans: set[str]) -> None:
        """Drop the retries of scans that have ended meanwhile (other workers finished them)."""
        for token in set(self.retry_at) - open_scans:
            self.retry_at.pop(token)
            self.left.add(token)

    def left_error(self) -> str:
        """One line for the scans this worker left: what its browsers did in each (could
        not start; or started, then stopped starting), and the fix for each."""
        never = sorted(self.names[token] for token in self.left if token not in self.pages)
        stopped = sorted(
            (self.names[token], self.pages[token]) for token in self.left if token in self.pages
        )
        what, fixes = [], []
        if never:
            what.append(f"could not start for {', '.join(never)}")
            fixes.append(INSTALL_FIX)
        if stopped:
            scans = ", ".join(f"{scan} after {plural(pages, 'page')}" for scan, pages in stopped)
            what.append(f"stopped starting for {scans}")
            fixes.append(STOPPED_FIX)
        return (
            f"this worker's browsers {', and '.join(what)}, left to the other workers; "
            f"{', and '.join(fixes)}, then start the worker again"
        )


# What a worker's Error: line says to do, by what its browsers did.
INSTALL_FIX = "install Chromium, ChromeDriver and axe-core on this machine as scripts/setup.sh does"
STOPPED_FIX = "free memory on this machine or mend its Chromium (the warnings above say why)"


# A crawl process's exit code when the worker's browsers could not start for its scan, or
# stopped starting in the middle of it.
BROWSER_FAILED = 3


def browsers_failed(
    failures: Any, state: dict[bytes, bytes], reason: str, pages: int | None = None
) -> NoReturn:
    """Tell the worker (through failures, a Pipe's end) why this crawl's browsers failed for
    the scan, and after how many pages (None: they could not start), and exit BROWSER_FAILED."""
    failures.send((scan_name(state), reason, pages))
    sys.exit(BROWSER_FAILED)


def scan_name(state: dict[bytes, bytes]) -> str:
    """How a worker names a scan in its messages: its id and start URL."""
    scan_id = state.get(b"scan_id", b"?").decode()
    return f"scan {scan_id} of {state.get(b'start_url', b'').decode()}"
