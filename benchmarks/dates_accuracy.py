"""How often siteaudit records the day a page was published, on pages whose day is known.

Each set of dated pages is served on 127.0.0.1 as renamed copies (/p/0001.html: no date in
any URL) with a Last-Modified that says nothing about them: every file carries one
deployment time ("deployed", as a static site's server sends it), or the server sends none
("none", as most dynamic sites). siteaudit scans them with --no-browser and
--max-depth 0; the day it records for a page is its earliest `published` date (page_dates),
else its `last_updated`, as the issue defines it. Counted: the share exactly right, and the
pages given no date of their own (none, or only the server's time). htmldate alone, in its
extensive mode, reads the same bytes; --before runs another checkout's siteaudit (an
earlier commit, unpacked with `git archive`) on the same copies.

Sets: the dated weeknotes and blog posts of ../shared/corpora/digital-land/site (the day in
the weeknote's folder name, or in the post's byline); and, with --htmldate-eval DIR, the
evaluation pages of htmldate's repository (DIR holds its tests/ folder's eval_*.json and
page folders: a local copy, never downloaded here, never committed).

    python benchmarks/dates_accuracy.py --htmldate-eval ../htmldate/tests --out docs/accuracy.md
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.demo import FixtureHandler, serve_site  # noqa: E402
from benchmarks.bad_accuracy import corpus  # noqa: E402
from benchmarks.scan_bench import write_section  # noqa: E402

HTMLDATE_SETS = ("eval_mediacloud_2020.json", "eval_default.json")
HTMLDATE_FOLDERS = ("test_set", "cache", "eval")
BYLINE = re.compile(r"&mdash; (\d{4}-\d\d-\d\d)</p>")
LAST_MODIFIED = {"deployed": "the deployment's time", "none": "not sent"}
CONFIG = (
    "[site]\nsitemaps = false\nmax_pages = 100000\n[links]\ncheck_external = false\n"
    "[documents]\ncheck = false\n"
)


@dataclass(frozen=True)
class DatedPage:
    name: str  # where it came from, for reading the misses
    body: bytes
    day: str  # the day it was published, ISO


@dataclass(frozen=True)
class Outcome:
    exact: int
    undated: int  # no date of the page's own: none at all, or only the server's time
    seconds: float


def digital_land_posts() -> list[DatedPage]:
    """The weeknotes (dated by their folder) and blog posts (by their byline)."""
    site = corpus("digital-land") / "site"
    found = []
    for file in sorted(site.glob("weeknote/*/index.html")):
        found.append(DatedPage(file.parent.name, file.read_bytes(), file.parent.name))
    for file in sorted(site.glob("blog-post/*/index.html")):
        body = file.read_bytes()
        if match := BYLINE.search(body.decode("utf-8", "replace")):
            found.append(DatedPage(file.parent.name, body, match.group(1)))
    return found


def htmldate_pages(folder: Path) -> list[DatedPage]:
    """htmldate's evaluation pages that have a day (a few are annotated with none)."""
    found = []
    for listing in HTMLDATE_SETS:
        entries = json.loads((folder / listing).read_text(encoding="utf-8"))
        for url, entry in entries.items():
            day = entry.get("date")
            if not isinstance(day, str) or (file := page_file(folder, entry["file"])) is None:
                continue
            found.append(DatedPage(url, file.read_bytes(), day))
    if not found:
        raise SystemExit(f"Error: no dated pages in {folder}: give htmldate's tests/ folder")
    return found


def page_file(folder: Path, name: str) -> Path | None:
    found = (folder / d / name for d in HTMLDATE_FOLDERS)
    return next((file for file in found if file.is_file()), None)


def deploy(pages: list[DatedPage], site: Path) -> list[str]:
    """Write the pages as /p/NNNN.html, all with one deployment time an hour ago (seconds
    apart, as a copy makes them); their paths in order."""
    (site / "p").mkdir(parents=True)
    deployed = time.time() - 3600
    paths = []
    for number, page in enumerate(pages):
        file = site / "p" / f"{number:04d}.html"
        file.write_bytes(page.body)
        os.utime(file, (deployed + number / 100, deployed + number / 100))
        paths.append(f"/p/{number:04d}.html")
    return paths


class WithoutLastModified(FixtureHandler):
    """Static files served without a Last-Modified header."""

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() != "last-modified":
            super().send_header(keyword, value)


@contextlib.contextmanager
def serve(site: Path, last_modified: str) -> Iterator[str]:
    """The copies served on 127.0.0.1, with the deployment's Last-Modified or with none."""
    if last_modified == "deployed":
        with serve_site(site) as base:
            yield base
        return
    handler = functools.partial(WithoutLastModified, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def scan(checkout: Path, base: str, paths: list[str], db: Path, config: Path) -> float:
    """siteaudit from that checkout over these pages; its wall time in seconds."""
    command = [sys.executable, "-m", "app.cli", "scan", *(base + p for p in paths)]
    command += ["--db", str(db), "--no-browser", "--max-depth", "0", "--config", str(config)]
    started = time.monotonic()
    result = subprocess.run(command, cwd=checkout, capture_output=True, text=True, timeout=7200)
    if result.returncode != 0:
        raise SystemExit(f"scan with {checkout} failed:\n{result.stderr[-3000:]}")
    return time.monotonic() - started


def recorded_days(db: Path, base: str) -> dict[str, tuple[str | None, bool]]:
    """Page path -> (the publication day siteaudit records, whether the page gave it)."""
    server = ("http-last-modified", "server-time:later", "server-time:shared")
    with sqlite3.connect(db) as conn:
        published = dict(
            conn.execute(
                "SELECT url, min(value) FROM page_dates WHERE kind = 'published' GROUP BY url"
            ).fetchall()
        )
        rows = conn.execute("SELECT url, last_updated, last_updated_source FROM pages")
        days = {}
        for url, last_updated, source in rows:
            day = published.get(url) or last_updated
            own = url in published or (day is not None and source not in server)
            days[url.removeprefix(base)] = (day, own)
    return days


def measure_siteaudit(
    checkout: Path, pages: list[DatedPage], tmp: Path, name: str, last_modified: str
) -> tuple[Outcome, list[str]]:
    site, db, config = tmp / f"{name}-site", tmp / f"{name}.db", tmp / f"{name}.toml"
    paths = deploy(pages, site)
    config.write_text(CONFIG, encoding="utf-8")
    with serve(site, last_modified) as base:
        seconds = scan(checkout, base, paths, db, config)
        days = recorded_days(db, base)
    exact = [p for p, page in zip(paths, pages, strict=True) if days.get(p, (None,))[0] == page.day]
    undated = sum(1 for p in paths if not days.get(p, (None, False))[1])
    missed = [
        f"{page.name}: {page.day}, recorded {days.get(p, (None,))[0]}"
        for p, page in zip(paths, pages, strict=True)
        if p not in exact
    ]
    return Outcome(len(exact), undated, seconds), missed


def measure_htmldate(pages: list[DatedPage]) -> Outcome:
    """htmldate alone, extensive search, original date: as htmldate's own evaluation runs it."""
    from htmldate import find_date

    started = time.monotonic()
    today = datetime.now() + timedelta(days=1)
    found = [
        find_date(page.body, original_date=True, extensive_search=True, max_date=today)
        for page in pages
    ]
    exact = sum(day == page.day for day, page in zip(found, pages, strict=True))
    return Outcome(exact, sum(day is None for day in found), time.monotonic() - started)


def share(part: int, whole: int) -> str:
    return f"{part}/{whole} = {100 * part / whole:.1f}%"


def set_report(
    title: str, pages: list[DatedPage], last_modified: str, results: dict[str, Outcome]
) -> str:
    rows = "\n".join(
        f"| {who} | {share(o.exact, len(pages))} | {o.undated} | {o.seconds:.0f} s |"
        for who, o in results.items()
    )
    return (
        f"### {title}: {len(pages)} pages, Last-Modified {LAST_MODIFIED[last_modified]}\n\n"
        "| reader | exact publication day | no date of the page's own | time |\n"
        f"|---|---|---|---|\n{rows}"
    )


def report(sections: list[str], before: str | None) -> str:
    command = "python benchmarks/dates_accuracy.py --htmldate-eval DIR --before BEFORE"
    return (
        "## Publication days\n\n"
        "Reproduce: `nox -s accuracy_dates -- --htmldate-eval DIR --before BEFORE`, or "
        f"`{command} --out docs/accuracy.md`, where DIR is a local copy of htmldate's tests/ "
        "folder and BEFORE an earlier siteaudit unpacked with `git archive`"
        f"{f' (here {before})' if before else ''}.\n\n"
        f"Measured {time.strftime('%Y-%m-%d')}. Each set's pages served on 127.0.0.1 as "
        "renamed copies (no date in any URL), with an uninformative Last-Modified: one "
        "deployment time for every file, or none at all; scanned with `--no-browser "
        "--max-depth 0`. The day recorded is a page's earliest `published` date, else its "
        "`last_updated`. \"No date of the page's own\": none at all, or only the server's "
        "time. htmldate alone reads the same bytes, extensive search, original date. Time: "
        "the whole scan's wall time (htmldate: its reading alone).\n\n" + "\n\n".join(sections)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--htmldate-eval", type=Path, help="htmldate's tests/ folder, local")
    parser.add_argument("--before", type=Path, help="an earlier siteaudit checkout to compare")
    parser.add_argument("--before-name", help="what --before is, for the docs (its commit)")
    parser.add_argument(
        "--last-modified", default="deployed,none", help="deployed, none, or both (default)"
    )
    parser.add_argument("--misses", action="store_true", help="list the pages missed")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    sets = [("digital-land weeknotes and blog posts", digital_land_posts())]
    if args.htmldate_eval:
        sets.append(("htmldate's evaluation pages", htmldate_pages(args.htmldate_eval)))
    modes = [m for m in args.last_modified.split(",") if m]
    if not modes or set(modes) - set(LAST_MODIFIED):
        raise SystemExit("Error: --last-modified takes deployed, none, or both: deployed,none")
    sections = []
    with tempfile.TemporaryDirectory() as tmp:
        for number, (title, pages) in enumerate(sets):
            alone = measure_htmldate(pages)
            for mode in modes:
                results = {}
                if args.before:
                    results["siteaudit before"], _ = measure_siteaudit(
                        args.before.resolve(), pages, Path(tmp), f"before{number}{mode}", mode
                    )
                results["siteaudit"], missed = measure_siteaudit(
                    ROOT, pages, Path(tmp), f"now{number}{mode}", mode
                )
                results["htmldate alone"] = alone
                sections.append(set_report(title, pages, mode, results))
                if args.misses:
                    print("\n".join(missed), file=sys.stderr)
    text = report(sections, args.before_name or (str(args.before) if args.before else None))
    print(text)
    if args.out:
        write_section(args.out, "dates", text, tool="dates_accuracy.py")


if __name__ == "__main__":
    main()
