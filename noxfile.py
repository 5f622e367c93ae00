"""Developer tasks: lint, tests and the benchmark, run in the project's .venv."""

from __future__ import annotations

import sys

import nox

# scripts/setup.sh builds .venv with the browser, axe-core and every package; sessions reuse
# it rather than building a virtualenv each, which would repeat that whole install.
nox.options.default_venv_backend = "none"
nox.options.sessions = ["lint", "tests"]
PYTHON = sys.executable


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.run(PYTHON, "-m", "ruff", "check", ".")
    session.run(PYTHON, "-m", "ruff", "format", "--check", ".")


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite, real Chromium included."""
    # The slowest tests are named at the end: what to look at when the suite grows slow.
    session.run(PYTHON, "-m", "pytest", *(session.posargs or ["-q", "--durations=25"]))


@nox.session
def bench(session: nox.Session) -> None:
    """Scan a generated site; write pages/min and peak memory into docs/performance.md."""
    args = session.posargs or ["--pages", "500", "--browsers", "2"]
    session.run(PYTHON, "benchmarks/scan_bench.py", *args, "--out", "docs/performance.md")


@nox.session
def bench_pictures(session: nox.Session) -> None:
    """Scan a generated site with and without pictures of elements; write the time ratio
    and the bytes stored per 1,000 pages into docs/performance.md."""
    args = session.posargs or ["--pages", "150", "--browsers", "2"]
    session.run(PYTHON, "benchmarks/pictures_bench.py", *args, "--out", "docs/performance.md")


@nox.session
def bench_checks(session: nox.Session) -> None:
    """Scan a generated site with axe alone and with every check; write the cost ratio
    (wall time and pages/s) into docs/performance.md."""
    args = session.posargs or ["--pages", "150", "--browsers", "2"]
    session.run(PYTHON, "benchmarks/checks_bench.py", *args, "--out", "docs/performance.md")


@nox.session
def bench_spelling(session: nox.Session) -> None:
    """What spelling costs a --no-browser scan (ABBA runs, with and without), on generated
    pages and on digital-land's real ones; written into docs/performance.md."""
    args = session.posargs or ["--pages", "500"]
    session.run(PYTHON, "benchmarks/spelling_bench.py", *args, "--out", "docs/performance.md")


@nox.session
def bench_db(session: nox.Session) -> None:
    """Scan a generated site twice without and twice with the browser; write the database's
    growth per 1,000 pages per scan, and what prune --keep 1 gives back, into
    docs/performance.md."""
    args = session.posargs or ["--pages", "1000", "--browser-pages", "300", "--browsers", "2"]
    session.run(PYTHON, "benchmarks/db_growth.py", *args, "--out", "docs/performance.md")


@nox.session
def bench_distributed(session: nox.Session) -> None:
    """Scan a generated site --no-browser on one machine, then shared through a Redis of its
    own by one worker and by two; write pages/s, the shared frontier's cost per page and
    Redis's bytes per page into docs/performance.md."""
    args = session.posargs or ["--pages", "500"]
    session.run(PYTHON, "benchmarks/distributed_bench.py", *args, "--out", "docs/performance.md")


@nox.session
def accuracy_bad(session: nox.Session) -> None:
    """Scan W3C's Before and After Demo with axe alone and with every check; write the share
    of W3C's failures found, per success criterion, into docs/accuracy.md."""
    session.run(PYTHON, "benchmarks/bad_accuracy.py", *session.posargs, "--out", "docs/accuracy.md")


@nox.session
def accuracy_injected(session: nox.Session) -> None:
    """Inject known failures of each kind into a copy of a real site; write the recall per
    kind and the violations on pages without an injection into docs/accuracy.md."""
    args = session.posargs or ["--seed", "14", "--per-kind", "3"]
    session.run(PYTHON, "benchmarks/injected_accuracy.py", *args, "--out", "docs/accuracy.md")


@nox.session
def accuracy_dates(session: nox.Session) -> None:
    """Serve pages whose publication day is known (digital-land's dated posts; htmldate's
    evaluation pages with --htmldate-eval DIR, a local copy) with no date in their URLs and
    an uninformative Last-Modified; write the share of exact days siteaudit records (and
    --before CHECKOUT's, and htmldate's alone) into docs/accuracy.md."""
    session.run(
        PYTHON, "benchmarks/dates_accuracy.py", *session.posargs, "--out", "docs/accuracy.md"
    )


@nox.session
def accuracy_spelling(session: nox.Session) -> None:
    """Spelling: precision on real pages (digital-land, the seeds), recall on injected typos."""
    session.run(
        PYTHON, "benchmarks/spelling_accuracy.py", *session.posargs, "--out", "docs/accuracy.md"
    )


@nox.session
def docs_screenshots(session: nox.Session) -> None:
    """Scan the demo site; photograph a team page at 1280 and 390 px into docs/*.png."""
    session.run(PYTHON, "scripts/docs_screenshots.py", *session.posargs)
