"""Run one scan: start the browsers and the writer, crawl with Scrapy, record the outcome."""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.settings import default_settings

from app.after_crawl import after_crawl
from app.browser_setup import (
    ScanError,
    allowed_domains,
    browser_options,
    checks_run,
    rules_known,
    start_browsers,
)
from audits.readability import Readability, ensure_syllable_data
from audits.spelling import ensure_dictionaries
from browser.browser_pool import BrowserPool
from crawler.context import ScanContext
from crawler.credentials import Credentials, from_environment, load_credentials
from crawler.login import LoginContext, log_in
from crawler.page_reader import PageReader
from crawler.resolver import private_ok_hosts
from crawler.spider import SiteSpider
from crawler.spider_middlewares import SPIDER_MIDDLEWARES
from crawler.stats import Counters
from crawler.tls import trusting
from settings.model import Config, seed_urls
from store.database import open_database
from store.pages import first_fetch, page_count
from store.previous import load_known_readability, load_previous, previous_scan, rules_key
from store.resume import NothingToResume, done_urls, frontier, resumable_scan, unchecked_links
from store.scans import finish_scan, reopen_scan, start_scan
from store.unchanged import load_validators
from store.writer import Writer
from vocabulary.decisions import Decision
from vocabulary.urls import normalise_url

log = logging.getLogger(__name__)


# Scrapy's close reason -> scans.status.
CLOSE_STATUSES = {
    "finished": "finished",
    "shutdown": "interrupted",
    "closespider_timeout": "interrupted",
    "blocked": "blocked",
}


@dataclass
class ScanSummary:
    scan_id: int
    status: str
    counters: Counters
    seconds: float
    axe_version: str | None
    message: str | None = None


# With no delay at all, Scrapy 2.19 starts every queued request to a host at once, whatever
# CONCURRENT_REQUESTS_PER_DOMAIN says (scrapy/scrapy#6982: a request counts as transferring
# only once its task runs). Any delay makes it start them one at a time, so the limit holds.
MIN_DOWNLOAD_DELAY = 0.001


# Switched off below (TELNETCONSOLE_ENABLED, REMOTE_CONTROL_ENABLED), but Scrapy imports an
# extension's module before it can say so, and naming one None in EXTENSIONS imports it too:
# the remote control's imports aiohttp, about 0.13 s of CPU at every scan's start.
UNUSED_EXTENSIONS = (
    "scrapy.extensions.remote_control.RemoteControl",
    "scrapy.extensions.telnet.TelnetConsole",
)


def used_extensions() -> dict[str, int]:
    """Scrapy's own extensions (EXTENSIONS_BASE) but those a scan never uses."""
    base = default_settings.EXTENSIONS_BASE
    return {name: order for name, order in base.items() if name not in UNUSED_EXTENSIONS}


def crawl_settings(config: Config, verbose: bool, live: bool | None = None) -> dict[str, Any]:
    site = config.site
    return {
        "BOT_NAME": "siteaudit",
        # The progress display: live on a terminal (live=None), else as lines.
        "SITEAUDIT_PROGRESS": True,
        "SITEAUDIT_PROGRESS_LIVE": live,
        "USER_AGENT": site.user_agent,
        "ROBOTSTXT_OBEY": site.obey_robots,
        "CONCURRENT_REQUESTS": max(8, site.concurrency_per_host * 2),
        "CONCURRENT_REQUESTS_PER_DOMAIN": site.concurrency_per_host,
        # Scrapy does not check certificates unless asked; a visitor's browser does.
        "DOWNLOAD_VERIFY_CERTIFICATES": site.verify_tls,
        "DOWNLOAD_DELAY": max(site.download_delay, MIN_DOWNLOAD_DELAY),
        "AUTOTHROTTLE_ENABLED": site.adaptive_throttle,
        # As many requests in flight as configured while the server keeps up; fewer, and
        # further apart, as it slows (delay = latency / target).
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(site.concurrency_per_host),
        "AUTOTHROTTLE_START_DELAY": max(site.download_delay, MIN_DOWNLOAD_DELAY),
        "AUTOTHROTTLE_MAX_DELAY": 30.0,
        "EXTENSIONS": {
            "scrapy.extensions.throttle.AutoThrottle": None,
            "crawler.middlewares.PoliteThrottle": 0,
            # Pages and documents held to their size limits, as received and as decoded.
            "crawler.size_limits.ResponseSizeLimits": 0,
            "crawler.progress.ProgressDisplay": 0,
        },
        "EXTENSIONS_BASE": used_extensions(),
        # Only the web: never local files, data: URLs, S3 or FTP, even through a redirect.
        "DOWNLOAD_HANDLERS": {"file": None, "data": None, "s3": None, "ftp": None},
        # Names are resolved where connections are made, and a private answer is refused
        # there, unless the host is one of these, exactly as named (crawler/resolver.py).
        "TWISTED_DNS_RESOLVER": "crawler.resolver.PrivateNetworkResolver",
        "SITEAUDIT_PRIVATE_OK": private_ok_hosts(allowed_domains(config), site.private_hosts),
        "DOWNLOAD_TIMEOUT": site.timeout,
        "DOWNLOAD_MAXSIZE": max(32 * 1024 * 1024, config.documents.max_bytes),
        "DEPTH_LIMIT": 0,  # the spider applies max_depth itself, sitemap pages included
        "RETRY_TIMES": 2,
        # A URL that still fails is recorded with its reason: not an error of the scan.
        "RETRY_GIVE_UP_LOG_LEVEL": "INFO",
        "REDIRECT_MAX_TIMES": 10,
        # Only an immediate meta refresh is a redirect to follow. A timed one (Scrapy follows
        # any under 100 s) is a page a person sees, and fails WCAG 2.2.1: audited, with its
        # target found as a link (crawler/spider.py refresh_link). Browsers read the delay in
        # whole seconds ("0.5" is 0), so below 1 is immediate.
        "METAREFRESH_MAXDELAY": 1,
        "TELNETCONSOLE_ENABLED": False,
        # Scrapy 2.19's HTTP server that runs Python code sent to it, with a token in a file
        # in the user's profile: no process on the machine needs a way into the scan.
        "REMOTE_CONTROL_ENABLED": False,
        # Scrapy reads and parses a callback's source for every response to warn about
        # "return value" in generators: its cache is keyed on bound methods, made afresh each
        # time, so it never hits (about a fifth of a --no-browser scan).
        "WARN_ON_GENERATOR_RETURN_VALUE": False,
        "LOGSTATS_INTERVAL": 0,
        # Scrapy's downloader/ byte and count stats: read by nothing here, and worked out
        # for every request and response (header sizes included).
        "DOWNLOADER_STATS": False,
        "LOG_LEVEL": "INFO" if verbose else "WARNING",
        # The CLI's root handler prints every log line, Scrapy's too, once and in one format.
        "LOG_ENABLED": False,
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            # A page's redirect is followed only within the allowed domains.
            "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
            "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
            "crawler.middlewares.OnSiteMetaRefreshMiddleware": 580,
            "crawler.middlewares.OnSiteRedirectMiddleware": 600,
            "crawler.middlewares.RetryAfterMiddleware": 550,
            "crawler.middlewares.FirewallMiddleware": 560,
            # Before robots.txt (100) is read, so no request reaches a private address.
            "crawler.middlewares.PrivateNetworkMiddleware": 50,
            # Every request waiting for robots.txt judged by it (scrapy/scrapy#6802).
            "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
            "crawler.middlewares.EveryWaiterRobotsTxtMiddleware": 100,
            "crawler.middlewares.CrawlDelayMiddleware": 120,
            # After Scrapy's cookies middleware (700), so it can add to the Cookie header.
            "crawler.auth.AuthMiddleware": 750,
            # A no-op: it reads the spider's http_user, which it has none of (AuthMiddleware).
            "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,
        },
        "SPIDER_MIDDLEWARES": SPIDER_MIDDLEWARES,
        "CLOSESPIDER_TIMEOUT": site.max_minutes * 60,
        # Audit, then judge (owner, then content), then store.
        "ITEM_PIPELINES": {
            "crawler.pipelines.BrowserAuditPipeline": 100,
            "crawler.pipelines.DocumentCheckPipeline": 150,
            "crawler.page_checks.OwnershipPipeline": 170,
            "crawler.page_checks.ContentChecksPipeline": 180,
            "crawler.store_rows.StoreRowsPipeline": 200,
        },
    }


def run_scan(
    config: Config,
    db_path: str | Path,
    verbose: bool = False,
    live: bool | None = None,
    resume: bool = False,
    decisions: Sequence[Decision] = (),
    today: date | None = None,
) -> ScanSummary:
    """Crawl and audit the configured site into the database; raises ScanError on failure.

    With resume, the last interrupted scan of the same start URL is finished instead of a
    new one started: its stored pages are kept, never audited again. The decisions (as of
    today, in London, unless given) are applied once the crawl ends, before scoring.
    """
    ensure_syllable_data()
    if config.spelling.check:
        ensure_dictionaries()
    with trusting(config.site.ca_file):
        return prepare_and_crawl(
            config, db_path, verbose, live, resume, Decided(tuple(decisions), today)
        )


@dataclass(frozen=True)
class Decided:
    """The decisions file's entries for a scan, and the day their expiry is judged on."""

    decisions: tuple[Decision, ...] = ()
    today: date | None = None


def prepare_and_crawl(
    config: Config,
    db_path: str | Path,
    verbose: bool,
    live: bool | None,
    resume: bool,
    decided: Decided,
) -> ScanSummary:
    """Find the scan to resume, log in, start the browsers and record the scan; then crawl.

    Called once the configured certificate authority is trusted (run_scan).
    """
    db = open_database(db_path)
    resumed = None
    if resume:
        try:
            resumed = resumable_scan(db, seed_urls(config.site)[0])
        except NothingToResume as err:
            raise ScanError(str(err)) from None
    # Once per scan: a form login opens the one session the crawler and browsers share.
    credentials = load_credentials(config.auth)
    if config.auth.form.url:
        credentials = credentials.with_session(form_session(config, credentials, verbose))
    options = browser_options(config, credentials)
    pool, axe = None, None
    if config.audit.browser:
        pool, axe, options = start_browsers(config, options)
    axe_version, axe_rules = axe if axe else (None, None)
    checks = checks_run(config.audit.checks, browser=pool is not None)
    if pool and not options.sandbox:
        log.warning(
            "Chromium runs as root without its sandbox, as audit.allow_no_sandbox allows "
            "(recorded as scans.sandboxed = 0)"
        )
    try:
        if resumed is not None:
            reopen_scan(db, resumed)
            return crawl_and_record(
                config,
                db,
                db_path,
                resumed,
                pool,
                axe_version,
                verbose,
                live,
                credentials,
                decided,
                resuming=True,
            )
        scan_id = start_scan(
            db,
            seed_urls(config.site)[0],
            axe_version=axe_version,
            axe_rules=json.dumps(rules_known(axe_rules, checks)) if axe_rules else None,
            checks=json.dumps(list(checks)),
            rules_key=(
                rules_key(axe_version, options.run_only, options.viewport, options.checks)
                if axe_version
                else None
            ),
            sandboxed=int(options.sandbox) if pool else None,
            wcag=config.audit.wcag,
            browser=int(pool is not None),
            config=json.dumps(asdict(config), default=str),
        )
        return crawl_and_record(
            config, db, db_path, scan_id, pool, axe_version, verbose, live, credentials, decided
        )
    finally:
        if pool:
            pool.close()


def form_session(config: Config, credentials: Credentials, verbose: bool) -> dict[str, str]:
    """Log in through [auth.form], through the crawler, with the other credentials too (a
    staging site may sit behind basic auth as well); raises LoginError if it fails."""
    form = config.auth.form
    context = LoginContext(
        config=config,
        allowed_domains=allowed_domains(config),
        credentials=credentials,
        form=form,
        password=from_environment(form.password_env, "The form login password"),
    )
    return log_in(context, crawl_settings(config, verbose))


def crawl_and_record(
    config: Config,
    db: Any,
    db_path: str | Path,
    scan_id: int,
    pool: BrowserPool | None,
    axe_version: str | None,
    verbose: bool,
    live: bool | None,
    credentials: Credentials,
    decided: Decided,
    resuming: bool = False,
) -> ScanSummary:
    """Run the crawl with the writer; whatever happens, record how the scan ended."""
    # With the browser, Chromium sets the pace and one reader keeps up; its memory is better
    # left to the browsers. Without it, reading is the work: a reader per core.
    page_reader = PageReader(
        config.audit.read_timeout,
        workers=1 if pool else 0,
        max_elements=config.audit.max_elements,
        spelling=config.spelling.check,
    )
    writer = Writer(db_path)
    context = ScanContext(
        config=config,
        allowed_domains=allowed_domains(config),
        credentials=credentials,
        scan_id=scan_id,
        writer=writer,
        pool=pool,
        queue_size=config.audit.queue_size or 2 * (pool.size if pool else 1),
        page_reader=page_reader,
    )
    load_history(context, db, axe_version, resuming)
    # Before the writer's thread starts: the readers are forks of this process.
    page_reader.start()
    try:
        writer.start()
    except BaseException:
        page_reader.close()
        raise
    started = time.monotonic()
    reason, message, counters = "failed", None, Counters()
    try:
        reason, counters = crawl(context, crawl_settings(config, verbose, live))
        if pool:
            pool.close()  # finish the pages still in the browsers before the writer stops
    except Exception as err:
        message = f"scan stopped by an internal error: {type(err).__name__}: {err}"
        raise ScanError(message) from err
    finally:
        page_reader.close()
        writer.close()
        checks_after_crawl(db, scan_id, config, decided)
        status = CLOSE_STATUSES.get(reason, "failed")
        if reason == "shutdown":
            message = "stopped before the end (Ctrl-C or SIGTERM); pages so far are kept"
        elif reason == "closespider_timeout":
            message = (
                f"stopped at the time limit of {config.site.max_minutes:g} minutes; "
                "pages so far are kept"
            )
        elif reason == "blocked":
            message = context.blocked
        elif counters.pages == 0 and message is None:
            message = unreachable_message(db, scan_id, config)
            status = "failed"
        finish_scan(
            db,
            scan_id,
            status,
            pages_audited=counters.audited,
            pages_failed=counters.audit_failed,
            message=message,
        )
    return ScanSummary(scan_id, status, counters, time.monotonic() - started, axe_version, message)


def load_history(context: ScanContext, db: Any, axe_version: str | None, resuming: bool) -> None:
    """What earlier scans leave this one: the resumed scan's progress, and what is reused."""
    config, scan_id = context.config, context.scan_id
    if resuming:
        context.seen = done_urls(db, scan_id)
        context.frontier = frontier(db, scan_id, context.seen, config.site.max_depth)
        context.unchecked = unchecked_links(db, scan_id)
        context.pages_stored = page_count(db, scan_id)
    if not config.audit.full:
        known = load_known_readability(db, scan_id)
        context.known_readability = {h: Readability(**r) for h, r in known.items()}
    pool = context.pool
    if config.audit.full:
        return
    browser_scan = None
    if pool is not None and axe_version:
        options = pool.options
        key = rules_key(axe_version, options.run_only, options.viewport, options.checks)
        context.previous = load_previous(db, key, scan_id)
        browser_scan = previous_scan(db, key, scan_id)
    if pool is None or browser_scan is not None:
        context.validators = load_validators(db, scan_id, browser_scan)


def checks_after_crawl(db: Any, scan_id: int, config: Config, decided: Decided) -> None:
    """The checks across the site, once its pages are stored (app/after_crawl.py): run by
    a one-machine scan and by the seeder of a shared one alike."""
    after_crawl(
        db,
        scan_id,
        config.templates,
        config.ownership.default_team,
        decided.decisions,
        decided.today,
        config.audit.checks,
        config.freshness_limits,
        config.statement.url,
        config.spelling,
    )


def crawl(context: ScanContext, settings: dict[str, Any]) -> tuple[str, Counters]:
    """Run the Scrapy crawl to its end; return Scrapy's close reason and the counters."""
    # Scrapy's HTTP handler, imported from a shallow stack: its import makes deprecated aliases
    # that call inspect.stack(), dearer the deeper (0.25 s inside Scrapy's engine, 0.1 here).
    import scrapy.core.downloader.handlers.http11  # noqa: F401

    process = CrawlerProcess(settings)
    crawler = process.create_crawler(SiteSpider)
    crawler.siteaudit = context  # read by every component's from_crawler (crawler/context.py)
    closed: dict[str, str] = {}

    def on_closed(spider: SiteSpider, reason: str) -> None:
        closed.setdefault("reason", reason)

    def on_opened(spider: SiteSpider) -> None:
        # Pages still being read when the scan stops are dropped, so stopping never waits
        # for them: at the time limit (counted from here, as Scrapy's is), or when told to.
        limit = context.config.site.max_minutes * 60
        deadline = time.monotonic() + limit if limit else math.inf
        context.page_reader.stop_when(lambda: not crawler.crawling or time.monotonic() >= deadline)

    # Scrapy keeps only weak references to receivers: these must outlive the crawl.
    crawler.signals.connect(on_closed, signal=signals.spider_closed)
    crawler.signals.connect(on_opened, signal=signals.spider_opened)
    process.crawl(crawler)
    process.start()
    del on_closed, on_opened
    return closed.get("reason", "failed"), Counters.from_stats(crawler.stats.get_stats())


def unreachable_message(db: Any, scan_id: int, config: Config) -> str | None:
    """Why no page was recorded: the start URL's own fetch error or status."""
    url = seed_urls(config.site)[0]
    row = first_fetch(db, scan_id, normalise_url(url))
    if row is None:
        return f"could not fetch {url}: nothing was fetched (disallowed or off-site?)"
    if row["error"]:
        return f"could not fetch {url}: {row['error']}"
    if row["reason"] == "offsite-redirect":
        return (
            f"could not fetch {url}: it redirects to {row['final_url']}, outside the allowed "
            "domains; scan that address, or add its host to site.allowed_domains"
        )
    return f"could not fetch {url}: the server answered {row['status_code']}"
