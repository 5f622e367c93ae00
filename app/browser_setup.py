"""Setting up a scan's browsers: their options from the configuration, the user Chromium
runs as and its sandbox, starting the pool, and the checks and rules a scan then knows."""

from __future__ import annotations

import logging
import os
import pwd
import socket
from dataclasses import replace
from urllib.parse import urlsplit

from selenium.common.exceptions import WebDriverException

from browser.browser_pool import BrowserPool
from browser.launch import BrowserError, BrowserOptions, check_browser_available, unprivileged_user
from crawler.credentials import Credentials
from crawler.resolver import private_ok_hosts
from settings.model import Config, seed_urls, viewport_size
from store.previous import DESKTOP_VIEWPORT
from vocabulary.checks import AXE, SITE_CHECKS, rules_of
from vocabulary.urls import is_private_address
from vocabulary.wcag import run_only_tags

log = logging.getLogger(__name__)


# Here rather than in app/scan.py, which raises it too: the browsers' set-up cannot start.
class ScanError(Exception):
    """The scan could not run or could not reach the site; the message says why."""


def axe_scope(config: Config) -> tuple[tuple[str, ...], tuple[int, int]]:
    """The axe-core tags a scan's audits run (run_only) and the viewport they run in: the
    one place both are derived, so a worker's browsers (browser_options) and a seeder
    without one (app/distributed_browser.py expected_rules_key) make the same rules key."""
    audit = config.audit
    run_only = tuple(run_only_tags(audit.wcag, audit.best_practices))
    return run_only, viewport_size(audit.viewport) or DESKTOP_VIEWPORT  # validated by the loader


def browser_options(config: Config, credentials: Credentials) -> BrowserOptions:
    """How the scan's browsers run: what they audit, where they may go, as whom."""
    audit = config.audit
    run_only, viewport = axe_scope(config)
    headers = credentials.request_headers()
    headers.pop("Authorization", None)  # the browser answers auth challenges instead
    return BrowserOptions(
        credential_hosts=allowed_domains(config) if credentials else (),
        credential_headers=tuple(headers.items()),
        credential_cookie=credentials.cookie_header(),
        basic_auth=credentials.basic,
        chromium=audit.chromium,
        chromedriver=audit.chromedriver,
        page_timeout=audit.page_timeout,
        viewport=viewport,
        run_only=run_only,
        blocked_hosts=audit.blocked_hosts,
        local_site=any(is_local_host(url) for url in seed_urls(config.site)),
        private_hosts=tuple(private_ok_hosts(allowed_domains(config), config.site.private_hosts)),
        run_as=run_as_user(audit.browser_user),
        ca_file=config.site.ca_file,
        ignore_tls_errors=not config.site.verify_tls,
        screenshots=audit.screenshots,
        checks=audit.checks,
    )


def checks_run(chosen: tuple[str, ...], browser: bool) -> tuple[str, ...]:
    """The chosen checks a scan runs: those in the browser only when it has one."""
    return tuple(c for c in chosen if browser or c in SITE_CHECKS)


def rules_known(axe_rules: list[str], checks: tuple[str, ...]) -> list[str]:
    """Every rule a scan could report, for the CI gate (scans.axe_rules): axe-core's when
    it ran, and those of the own checks that ran. A rule a baseline's scan did not know is
    new to it, whichever check it comes from (docs/ci.md)."""
    return sorted((axe_rules if AXE in checks else []) + rules_of(checks))


def run_as_user(name: str) -> tuple[int, int] | None:
    try:
        return unprivileged_user(name)
    except BrowserError as err:
        raise ScanError(f"{err}; name an existing user, or run scripts/setup.sh") from None


NO_SANDBOX_FIX = (
    "run scripts/setup.sh to add the siteaudit user, or name an unprivileged user in "
    "audit.browser_user; or set audit.allow_no_sandbox = true to run it as root without "
    "its sandbox"
)
# The user exists but Chromium did not start as it: adding the user again would not help.
USER_CANNOT_START_FIX = (
    "check that this user can run Chromium and ChromeDriver and read siteaudit's files "
    "(scripts/setup.sh sets that up for the siteaudit user), or name another unprivileged "
    "user in audit.browser_user; or set audit.allow_no_sandbox = true to run it as root "
    "without its sandbox"
)


def check_sandbox(config: Config, options: BrowserOptions) -> None:
    """Refuse to run Chromium without its sandbox unless the configuration allows it."""
    if not options.sandbox and not config.audit.allow_no_sandbox:
        raise ScanError(
            "Chromium would run as root, without its sandbox (no unprivileged user to run "
            f"it as); {NO_SANDBOX_FIX}"
        )


def is_local_host(url: str) -> bool:
    """True if the URL's host resolves to an address off the public internet."""
    try:
        infos = socket.getaddrinfo(urlsplit(url).hostname, None)
    except (socket.gaierror, UnicodeError):
        return False
    return any(is_private_address(info[4][0]) for info in infos)


def browser_count(config: Config) -> int:
    return config.audit.browsers or os.cpu_count() or 1


def start_browsers(
    config: Config, options: BrowserOptions
) -> tuple[BrowserPool, tuple[str, list[str]], BrowserOptions]:
    """Start the browser pool, as an unprivileged user when root; returns the options it
    started with. If Chromium cannot start as that user, it runs as root only if
    audit.allow_no_sandbox says so: never a silent fallback."""
    try:
        check_browser_available(options)
    except BrowserError as err:
        raise ScanError(str(err)) from None
    check_sandbox(config, options)
    if options.run_as is not None:
        try:
            return (*start_pool(config, options), options)
        except ScanError as err:
            user = pwd.getpwuid(options.run_as[0]).pw_name
            if not config.audit.allow_no_sandbox:
                why = str(err).splitlines()[0] if str(err) else "no reason given"
                raise ScanError(
                    f"Chromium could not start as the user {user} ({why}); " + USER_CANNOT_START_FIX
                ) from None
            log.warning("Chromium could not start as the user %s (%s)", user, err)
            options = replace(options, run_as=None)
    return (*start_pool(config, options), options)


def start_pool(
    config: Config, options: BrowserOptions
) -> tuple[BrowserPool, tuple[str, list[str]]]:
    pool = BrowserPool(options, browser_count(config), config.audit.recycle_after)
    try:
        return pool, pool.start()
    except BrowserError as err:
        pool.close()
        raise ScanError(str(err)) from None
    except WebDriverException as err:
        pool.close()
        raise ScanError(f"Chromium did not start: {err.msg or err}") from None


def allowed_domains(config: Config) -> tuple[str, ...]:
    if config.site.allowed_domains:
        return tuple(d.lower() for d in config.site.allowed_domains)
    return tuple(sorted({(urlsplit(u).hostname or "").lower() for u in seed_urls(config.site)}))
