"""Where a page reader's time goes: each step of reading a generated page, in CPU ms a page.

The steps of audits/page.py's parse_page and settle_structure, as a page reader's worker
runs them (crawler/page_reader.py), timed one by one over tests/sites/generate.py's pages in
one process: every page read once to warm the caches a scan's readers warm too, then
`--rounds` times measured (CPU time, so other work on a shared machine weighs less).

    python benchmarks/reading_bench.py --pages 500

Reading the same pages again finds in the readers' caches what a scan, which reads each
page once, works out afresh (each page's links' targets, say). `--once` reads every page
once, whole (crawler/page_reader.py read_and_settle, with its URL), as a scan's reader
does, and gives the CPU ms a page of that alone: run it a few times, alternating checkouts.

The prose comes from ../shared/seeds (SITEAUDIT_SHARED names another place): give every
checkout compared the same seeds, or it reads other pages.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from audits import page as page_facts  # noqa: E402
from audits.dates import date_candidates  # noqa: E402
from audits.page_structure import read_structure  # noqa: E402
from audits.readability import content_blocks, measure  # noqa: E402
from audits.site_checks import page_findings, structure_json  # noqa: E402
from audits.spelling import page_words  # noqa: E402
from audits.tree import parse_html, size_of  # noqa: E402
from crawler.page_reader import _warm, read_and_settle  # noqa: E402
from tests.sites.generate import generate_site  # noqa: E402

STEPS = (
    ("parse (lxml)", "parse"),
    ("dates (the page's own, then htmldate's two searches)", "dates"),
    ("title, language, meta, links, size, refresh", "facts"),
    ("main content's text blocks", "blocks"),
    ("readability figures", "measure"),
    ("spelling: words outside the dictionary", "spelling"),
    ("structure: links, headings, fields", "structure"),
    ("structure's JSON for the store", "json"),
    ("links and headings findings", "findings"),
)


def read_timed(url: str, html: str, spent: dict[str, float]) -> None:
    """Read one page step by step, as parse_page and settle_structure do, adding each
    step's CPU seconds to spent."""
    clock = time.process_time
    started = clock()

    def step(name: str) -> None:
        nonlocal started
        now = clock()
        spent[name] = spent.get(name, 0.0) + now - started
        started = now

    page = parse_html(html)
    step("parse")
    fetched = datetime(2026, 12, 3, tzinfo=UTC)
    date_candidates(page, html, last_modified_header=None, sitemap_lastmod=None, fetched_at=fetched)
    step("dates")
    lang = page_facts._lang(page)
    page_facts._title(page), page_facts._meta(page), page_facts._links(page)
    page_facts._stylesheets(page), size_of(page.root), page_facts._refresh(page)
    step("facts")
    blocks = content_blocks(page)
    step("blocks")
    measure(blocks, lang)
    step("measure")
    words = page_words(page, lang, blocks)
    step("spelling")
    structure = read_structure(page)
    step("structure")
    structure_json(url, structure, words)
    step("json")
    page_findings(url, structure, ("links", "headings"))
    step("findings")


def read_once(pages: list[tuple[str, str]]) -> None:
    """Every page read once, as a scan's page reader reads it: CPU ms a page."""
    fetched = datetime(2026, 12, 3, tzinfo=UTC)
    started = time.process_time()
    for url, html in pages:
        read_and_settle(html, url=url, checks=("links", "headings"), fetched_at=fetched)
    spent = time.process_time() - started
    print(f"each page read once: {spent * 1000 / len(pages):.2f} CPU ms a page")


def _page_file(site: Path, path: str) -> str:
    name = path.lstrip("/") + ("index.html" if path.endswith("/") else "")
    return (site / name).read_text(encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--once", action="store_true", help="each page once, whole, as a scan")
    args = parser.parse_args()
    _warm()
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp)
        paths = generate_site(site, args.pages)
        pages = [(f"http://127.0.0.1:8000{path}", _page_file(site, path)) for path in paths]
    if args.once:
        read_once(pages)
        return
    for url, html in pages:
        read_timed(url, html, {})
    spent: dict[str, float] = {}
    for _ in range(args.rounds):
        for url, html in pages:
            read_timed(url, html, spent)
    reads = len(pages) * args.rounds
    print("| step | CPU ms a page |\n|---|---|")
    for label, name in STEPS:
        print(f"| {label} | {spent[name] * 1000 / reads:.2f} |")
    print(f"| **all** | **{sum(spent.values()) * 1000 / reads:.2f}** |")


if __name__ == "__main__":
    main()
