"""The siteaudit command line: scan a site, or serve and scan the bundled demo site.

Exit codes, the same for every command: 0 done; 1 could not run or stopped early
(including usage errors); 2 only for a failed CI gate.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from app.baseline import baseline
from app.browse import DEFAULT_PORT, BrowseError, serve_database
from app.email import EmailError
from app.log_output import install_log_handler, set_verbosity
from app.options import (
    BEST_PRACTICES,
    BROWSERS,
    CHECKS_TO_RUN,
    PAGE_TIMEOUT,
    SCREENSHOTS,
    WCAG,
    config_option,
    db_option,
    decisions_option,
    file_option,
    flag,
    folder_option,
    scan_id_option,
    scan_options,
    with_options,
)
from app.paths import check_output_folder
from app.scan import ScanError, ScanSummary, run_scan
from app.statement import sample, statement
from app.summary import print_summary
from app.worker_command import REDIS_OPTIONS, SHARED_OPTIONS, scan_shared, worker
from audits.readability import ReadabilityDataError
from audits.spelling import SpellingDataError
from crawler.login import LoginError
from reports.data import ReportError
from reports.gate import GateError
from reports.gate_policy import GATE_KINDS
from settings.decisions import load_decisions
from settings.loader import (
    ConfigError,
    check_options,
    check_start_url,
    load_config,
    read_text_file,
    validate,
)
from settings.model import Config, seed_urls
from store.database import StorageError, open_database
from vocabulary.checks import parse_checks
from vocabulary.decisions import Decision
from vocabulary.impacts import IMPACTS
from vocabulary.problems import plural

EXIT_OK, EXIT_ERROR, EXIT_GATE_FAILED = 0, 1, 2
KNOWN_ERRORS = (
    ConfigError,
    LoginError,
    ScanError,
    StorageError,
    ReadabilityDataError,
    SpellingDataError,
    ReportError,
    EmailError,
    GateError,
    BrowseError,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="siteaudit")
def cli() -> None:
    """Audit a council website: WCAG 2.1 A/AA in real Chromium, readability, ownership.

    Exit codes: 0 done, 1 could not run or stopped early (including usage errors),
    2 a CI gate failed.
    """


@cli.command()
@click.argument("start_urls", nargs=-1)
@scan_options
@with_options(*REDIS_OPTIONS)
def scan(
    start_urls: tuple[str, ...],
    db_path: str,
    config_path: str | None,
    verbose: bool,
    **overrides: Any,
) -> None:
    """Crawl a website and audit every page into a SQLite database.

    \b
    Examples:
      siteaudit scan https://www.example-council.gov.uk/ --db scan.db
      siteaudit scan --config config/example-council.toml --db scan.db

    Each run adds a scan to the database; query it with sqlite3, or open it in Datasette
    with siteaudit browse (tables: scans, pages, findings, links, documents, fetches; see
    docs/schema.md). With --redis, `siteaudit worker`s share the crawl (docs/scaling.md).
    """
    shared = {name: overrides.pop(name) for name in SHARED_OPTIONS}
    decisions_path = overrides.pop("decisions_path")
    if any(shared.values()):
        scan_shared(start_urls, config_path, overrides, db_path, decisions_path, verbose, **shared)
        return
    report_dir, resume = overrides.pop("report_dir"), overrides.pop("resume")
    config = build_config(config_path, start_urls, overrides)
    # Read now, not after an hour's scan.
    decisions = load_decisions(decisions_path) if decisions_path else []
    if report_dir:
        check_output_folder(report_dir, "--report")
    set_verbosity(verbose)
    summary = run_scan(config, db_path, verbose=verbose, resume=resume, decisions=decisions)
    finish(summary, db_path, config, report_dir)


@cli.command()
@with_options(
    db_option("The database scans were written to."),
    folder_option(
        "--out", "out_dir", "Folder to write the HTML report and CSV files into.", required=True
    ),
    scan_id_option("Scan to report [the latest finished one]."),
    config_option("TOML configuration: team email addresses and [email] settings."),
    flag(
        "--email",
        "Email each team its summary, what to fix first and links to its pages in the report "
        "(email.report_url).",
        "send_email",
    ),
    decisions_option(),
    click.option(
        "--compare",
        "compare",
        type=int,
        help="Earlier finished scan of the same site to list the new, returning, fixed and "
        "removed problems against [the scan before the reported one].",
    ),
)
def report(
    db_path: str,
    out_dir: str,
    scan_id: int | None,
    config_path: str | None,
    send_email: bool,
    decisions_path: str | None,
    compare: int | None,
) -> None:
    """Write a static HTML report: a summary, a page and a CSV for every team.

    \b
    Example:
      siteaudit report --db scan.db --out report/
      siteaudit report --db scan.db --out report/ --config council.toml --email
      siteaudit report --db scan.db --out report/ --decisions decisions.toml
      siteaudit report --db scan.db --out report/ --compare 12

    The SMTP password comes only from the environment variable named by
    email.password_env (default SITEAUDIT_SMTP_PASSWORD). With --decisions, the file is
    applied to the reported scan again (it may have changed since) and its scores recomputed.
    """
    config = load_config(config_path) if config_path else Config(source="command line")
    decisions = load_decisions(decisions_path) if decisions_path is not None else None
    check_output_folder(out_dir, "--out")
    make_report(config, db_path, out_dir, scan_id, send_email, decisions, compare)


def make_report(
    config: Config,
    db_path: str,
    out_dir: str,
    scan_id: int | None,
    send_email: bool,
    decisions: list[Decision] | None = None,
    compare: int | None = None,
) -> None:
    """Write the report of a scan (the latest finished one unless given); with decisions,
    apply them to the scan first, in place of those it was made with."""
    from app.email import send_team_emails
    from reports.data import load_report
    from reports.email import NO_REPORT_URL, can_link
    from reports.html import write_report
    from reports.pictures import PictureFiles

    db = open_database(db_path, create=False)
    if compare is not None:
        check_compare(db, scan_id, compare, send_email)  # before --decisions changes anything
    if decisions is not None:
        apply_to_report(db, db_path, scan_id, decisions)
    emails = {t.name: t.email for t in config.teams if t.email}
    loaded = load_report(db, scan_id, emails, config.site.name, compare)
    try:
        pictures = PictureFiles(db, loaded.scan["id"])
        written = write_report(loaded, Path(out_dir), pictures)
    except OSError as err:
        raise ReportError(
            f"{err.filename or out_dir}: cannot write the report ({err.strerror or err}); "
            "give --out a folder you can write to"
        ) from None
    click.echo(
        f"Wrote {len(written)} files to {out_dir}: open {Path(out_dir) / 'index.html'}", err=True
    )
    if send_email:
        if not can_link(config.email):
            click.echo(f"Warning: {NO_REPORT_URL}", err=True)
        site = loaded.scan["start_url"] or "the site"
        sent = send_team_emails(loaded, config.email, site)
        click.echo(
            f"Emailed {len(sent)} team{'s' if len(sent) != 1 else ''}: " + ", ".join(sent), err=True
        )


def check_compare(db: Any, scan_id: int | None, compare: int, send_email: bool) -> None:
    """report --compare: an earlier finished scan of the same site, and no --email (the
    emails tell each team what changed since the last scan)."""
    from reports.changes import compared_scan
    from store.scans import latest_finished_scan

    if send_email:
        raise ReportError(
            "--compare and --email: the emails tell what changed since the last scan; "
            "send them from a report without --compare"
        )
    reported = scan_id or latest_finished_scan(db)
    if reported is not None:
        compared_scan(db, reported, compare)


def apply_to_report(db: Any, db_path: str, scan_id: int | None, decisions: list[Decision]) -> None:
    """report --decisions: the file applied to the scan to report, and its scores again."""
    from app.after_crawl import decide_again
    from store.scans import default_team, latest_finished_scan, scan_row

    scan_id = scan_id or latest_finished_scan(db)
    if scan_id is None or scan_row(db, scan_id) is None:
        return  # load_report says what is missing
    decide_again(db, scan_id, decisions, default_team(db, scan_id))
    click.echo(f"Applied {plural(len(decisions), 'decision')} to scan {scan_id}", err=True)


@cli.command(
    epilog="Exit codes: 0 the gate passed; 1 the tool could not do its job (bad "
    "input or usage, a page that could not be fetched or audited, no browser); 2 the "
    "gate failed."
)
@click.argument("urls", nargs=-1)
@with_options(
    file_option(
        "--urls", "urls_file", "File with one URL per line (- for standard input).", allow_dash=True
    ),
    click.option("--sitemap", "sitemap_url", help="Check every page listed in this sitemap."),
    click.option("--crawl", "crawl_url", help="Check every page found by crawling from this URL."),
    file_option(
        "--baseline",
        "baseline_path",
        "A scan database, or a file from `siteaudit baseline export`: "
        "problems in it never fail the gate.",
    ),
    decisions_option("--waivers"),
    click.option(
        "--fail-on",
        type=click.Choice(IMPACTS[::-1]),  # least severe first, as a threshold reads
        default="serious",
        show_default=True,
        help="Fail on a new accessibility violation of this impact or worse.",
    ),
    click.option(
        "--fail-on-kinds",
        metavar="KINDS",
        help="Kinds of finding that can fail the gate, comma-separated, from: "
        f"{','.join(GATE_KINDS)}; a content kind fails on any new violation, or as "
        "KIND:IMPACT (broken-link:serious) on those that severe [accessibility].",
    ),
    flag("--fail-on-needs-review", "Let new needs-review results fail the gate too."),
    flag(
        "--fail-on-new-rules", "Let rules the baseline's axe-core did not have fail the gate too."
    ),
    WCAG,
    BEST_PRACTICES,
    BROWSERS,
    PAGE_TIMEOUT,
    SCREENSHOTS,
    CHECKS_TO_RUN,
    config_option("TOML configuration (limits, blocked hosts, login)."),
    db_option("Keep the check's results in this database [a temporary one].", default=None),
    file_option("--junit", "junit_path", "Write JUnit XML here: a testcase per page."),
    file_option("--sarif", "sarif_path", "Write SARIF 2.1.0 here."),
    file_option(
        "--markdown", "markdown_path", "Write a Markdown summary here (e.g. $GITHUB_STEP_SUMMARY)."
    ),
    click.option(
        "--as-of",
        "as_of",
        type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z"]),
        hidden=True,
        help="Judge decisions' expiry at this time instead of now (for tests and replays).",
    ),
)
@click.pass_context
def check(
    ctx: click.Context,
    urls: tuple[str, ...],
    urls_file: str | None,
    sitemap_url: str | None,
    crawl_url: str | None,
    baseline_path: str | None,
    decisions_path: str | None,
    db_path: str | None,
    junit_path: str | None,
    sarif_path: str | None,
    markdown_path: str | None,
    as_of: Any,
    config_path: str | None,
    **options: Any,
) -> None:
    """Audit chosen pages and fail only on new problems: the CI gate for content releases.

    \b
    Examples:
      siteaudit check https://staging.example.gov.uk/council-tax/pay
      siteaudit check --urls changed-pages.txt --baseline baseline.json --junit junit.xml
      git diff --name-only | ./to-urls | siteaudit check --urls - --sarif audit.sarif

    A problem is the same as one in the baseline when its page (path and query, whatever
    the host) and fingerprint match. The gate fails when a new violation, not decided (or
    waived), has an impact at or above --fail-on; with --fail-on-kinds, content problems
    (broken links, documents, spelling...) can fail it too. docs/ci.md defines it exactly.
    """
    from app.check import CheckRequest, run_check

    options["checks"] = checks_named(options["checks"])
    request = CheckRequest(
        urls=[*urls, *read_urls(urls_file)],
        sitemap_url=sitemap_url,
        crawl_url=crawl_url,
        baseline_path=baseline_path,
        decisions_path=decisions_path,
        db_path=db_path,
        junit_path=junit_path,
        sarif_path=sarif_path,
        markdown_path=markdown_path,
        as_of=as_of,
        config_path=config_path,
        **options,
    )
    ctx.exit(run_check(request))


def read_urls(path: str | None) -> list[str]:
    """One URL per line; blank lines and # comments skipped."""
    if path is None:
        return []
    if path == "-":
        try:
            text = sys.stdin.buffer.read().decode("utf-8")
        except UnicodeDecodeError as err:
            raise ConfigError(
                f"--urls -: standard input is not UTF-8 text (byte {err.start}); send UTF-8"
            ) from None
    else:
        text = read_text_file(path, "--urls")
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


@cli.command()
@with_options(
    db_option("The database of the scan."),
    scan_id_option("Scan to read [latest finished one]."),
    config_option("Configuration whose spelling.words to leave out."),
)
def words(db_path: str, scan_id: int | None, config_path: str | None) -> None:
    """List the words outside the British dictionary that a scan found, on the most pages
    first: candidates for the council's word list (spelling.words).

    \b
    Example:
      siteaudit words --db scan.db --config council.toml
    """
    from app.words import word_lines

    config = load_config(config_path) if config_path else Config()
    for line in word_lines(db_path, scan_id, config.spelling):
        click.echo(line)


@cli.command()
@with_options(
    db_option("The database to remove old scans from."),
    click.option("--keep", metavar="N", help="Keep each site's N newest scans."),
    click.option(
        "--before", metavar="DATE", help="Remove scans started before this day (UTC, 2025-01-31)."
    ),
    flag("--dry-run", "Say what would go, and remove nothing."),
)
def prune(db_path: str, keep: str | None, before: str | None, dry_run: bool) -> None:
    """Remove old scans and everything that is theirs, then VACUUM the database.

    \b
    Examples:
      siteaudit prune --db scan.db --keep 10
      siteaudit prune --db scan.db --before 2025-01-01 --dry-run

    A site is a start URL. With both options, a scan goes only if both choose it. Whatever
    they say, each site keeps its newest finished scan (and newest finished browser scan),
    every scan still running (or killed), its newest interrupted scan while --resume may
    finish it, and the scans those read from; docs/schema.md, "Removing old scans".
    """
    from app.prune import retention_from, run_prune

    run_prune(db_path, retention_from(keep, before), dry_run)


@cli.command()
@click.option("--port", type=int, default=0, help="Port to serve the demo site on [any free].")
@scan_options
def demo(port: int, db_path: str, config_path: str | None, verbose: bool, **overrides: Any) -> None:
    """Serve the bundled demo council website on 127.0.0.1 and scan it.

    \b
    Example:
      siteaudit demo --db demo.db
    """
    from app.demo import DEMO_CONFIG, serve_site

    report_dir = overrides.pop("report_dir")
    overrides.pop("resume")  # a demo always scans afresh
    decisions_path = overrides.pop("decisions_path")
    decisions = load_decisions(decisions_path) if decisions_path else []
    if report_dir:
        check_output_folder(report_dir, "--report")
    with serve_site(port=port) as base_url:
        click.echo(f"Serving the demo council site at {base_url}/", err=True)
        config = build_config(config_path or str(DEMO_CONFIG), (f"{base_url}/",), overrides)
        set_verbosity(verbose)
        summary = run_scan(config, db_path, verbose=verbose, decisions=decisions)
        finish(summary, db_path, config, report_dir)


@cli.command()
@with_options(
    db_option("The database to open."),
    click.option(
        "--port",
        type=click.IntRange(0, 65535),
        default=DEFAULT_PORT,
        show_default=True,
        help="Port on 127.0.0.1 to serve on (0 for any free one).",
    ),
)
def browse(db_path: str, port: int) -> None:
    """Open the database in Datasette, read-only: every table and column described, and
    canned queries for what people ask.

    \b
    Example:
      siteaudit browse --db scan.db
      siteaudit browse --db scan.db --port 8002

    Then open the address it prints. The canned queries: worst pages per team, new
    problems since the last scan, problems in the shared layout, pages past their review
    date, documents failing checks, the history of one page, and pictures of the problems.
    The file is only read (a scan can go on writing it). Datasette is an optional extra:
    pip install 'siteaudit[browse]'.
    """
    serve_database(db_path, port)


cli.add_command(baseline)
cli.add_command(statement)
cli.add_command(sample)
cli.add_command(worker)


def build_config(
    config_path: str | None, start_urls: tuple[str, ...], overrides: dict[str, Any]
) -> Config:
    """Configuration from the file, then the start URLs and options given on the line."""
    check_options(overrides)
    config = load_config(config_path) if config_path else Config(source="command line")
    for url in start_urls:
        check_start_url(url, "start URL")
    site = {
        "start_urls": tuple(start_urls) or None,
        "max_pages": overrides["max_pages"],
        "max_depth": overrides["max_depth"],
        "user_agent": overrides["user_agent"],
        "max_minutes": overrides["max_minutes"],
    }
    audit = {
        "browsers": overrides["browsers"],
        "wcag": overrides["wcag"],
        "best_practices": overrides["best_practices"],
        "browser": overrides["browser"],
        "page_timeout": overrides["page_timeout"],
        "full": overrides["full"],
        "screenshots": overrides["screenshots"],
        "checks": checks_named(overrides["checks"]),
    }
    config = config.with_overrides(site=site, audit=audit)
    if not seed_urls(config.site):
        raise ConfigError(
            "no start URL: give one (siteaudit scan https://www.example.gov.uk/) "
            "or set site.start_urls in --config"
        )
    validate(config)
    return config


def checks_named(text: str | None) -> tuple[str, ...] | None:
    """--checks as the checks it names (None when not given); a ConfigError for a bad list."""
    if text is None:
        return None
    try:
        return parse_checks(text)
    except ValueError as err:
        raise ConfigError(f"--checks: {err}") from None


def finish(summary: ScanSummary, db_path: str, config: Config, report_dir: str | None) -> None:
    """Print the summary; write the report of a finished scan if asked; fail otherwise."""
    print_summary(summary, db_path)
    if summary.status != "finished":
        raise ScanError(summary.message or f"scan {summary.scan_id} {summary.status}")
    if report_dir:
        make_report(config, db_path, report_dir, summary.scan_id, send_email=False)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI and map every failure to one line and exit code 1."""
    install_log_handler()
    try:
        code = cli.main(args=argv, prog_name="siteaudit", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Error: stopped by the user", err=True)
        return EXIT_ERROR
    except click.ClickException as err:  # usage errors too: 2 is the gate's code
        err.show()
        return EXIT_ERROR
    except KNOWN_ERRORS as err:
        click.echo(f"Error: {err}", err=True)
        return EXIT_ERROR
    except click.exceptions.Exit as exit_:
        return exit_.exit_code
    # Without standalone mode, click returns ctx.exit()'s code instead of raising.
    return code if isinstance(code, int) else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
