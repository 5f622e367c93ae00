"""siteaudit measured on a held-out site with failures injected: recall per kind of failure.

A copy of a real GOV.UK Frontend site (../shared/corpora/digital-land/site, which nobody on
this project wrote) gets a site search form in its header on every page (the template),
then a seeded random sample of its pages gets one known failure each, of each kind the
checks look for (KINDS below), `--per-kind` pages a kind. The sampled pages and as many
others without an injection are scanned with --max-depth 0 and every check. For each kind,
recall is the share of its injected pages where the scan reports one of the kind's rules,
as a violation (needs-review counted apart); violations of siteaudit's own rules on the
pages without an injection are listed (the site's own defects, or false ones: read them).
Writes its section of docs/accuracy.md with --out.

    python benchmarks/injected_accuracy.py --seed 14 --per-kind 3 --out docs/accuracy.md
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.demo import serve_site  # noqa: E402
from benchmarks.bad_accuracy import corpus  # noqa: E402
from benchmarks.scan_bench import write_section  # noqa: E402
from vocabulary.checks import RULE_PREFIX  # noqa: E402

SEARCH_FORM = (
    '<form role="search" action="/search/" method="get" class="injected-search">'
    '<label for="site-search">Search this site</label> '
    '<input id="site-search" name="q" type="search"> '
    '<button type="submit" id="site-search-button">{name}</button></form>'
)
AUDITED = ("", "audited")  # marks a page audited in the browser among its findings
MAIN_OPEN = re.compile(r"<main\b[^>]*>", re.IGNORECASE)
TITLE = re.compile(r"<title>.*?</title>", re.IGNORECASE | re.DOTALL)
NAV_LIST = re.compile(r'(<ul id="navigation"[^>]*>)(.*?)(</ul>)', re.DOTALL)
NAV_ITEM = re.compile(r'<li class="govuk-header__navigation-item[^"]*">.*?</li>', re.DOTALL)


def in_main(snippet: str) -> Callable[[str], str | None]:
    """An injection that puts the snippet first in the page's main content."""

    def inject(html: str) -> str | None:
        match = MAIN_OPEN.search(html)
        if match is None:
            return None
        return html[: match.end()] + "\n" + snippet + "\n" + html[match.end() :]

    return inject


def without_title(html: str) -> str | None:
    return TITLE.sub("", html, count=1) if TITLE.search(html) else None


def generic_title(html: str) -> str | None:
    return TITLE.sub("<title>Untitled</title>", html, count=1) if TITLE.search(html) else None


def reordered_navigation(html: str) -> str | None:
    """The header's navigation links in the reverse order (the same links)."""
    match = NAV_LIST.search(html)
    items = NAV_ITEM.findall(match.group(2)) if match else []
    if match is None or len(items) < 2:
        return None
    reordered = "\n".join(reversed(items))
    return html[: match.start(2)] + reordered + html[match.end(2) :]


def renamed_search(html: str) -> str | None:
    """The site search's button named differently from every other page's."""
    usual = SEARCH_FORM.format(name="Search")
    if usual not in html:
        return None
    return html.replace(usual, SEARCH_FORM.format(name="Go"), 1)


@dataclass(frozen=True)
class Kind:
    name: str
    criterion: str
    rules: frozenset[str]  # the rules that report it (siteaudit's own, or axe's)
    inject: Callable[[str], str | None]


def own(*names: str) -> frozenset[str]:
    return frozenset(RULE_PREFIX + n for n in names)


WIDE = "Opening hours for the planning helpdesk are listed in the table below this notice. "
KINDS = (
    Kind(
        "reflow: a block 900px wide",
        "1.4.10",
        own("reflow"),
        in_main(f'<div id="injected" style="width:900px;border:1px solid #000">{WIDE}</div>'),
    ),
    Kind(
        "focus visible: a link with :focus{outline:none} (and the site's focus colours)",
        "2.4.7",
        own("focus-visible"),
        in_main(
            # The site's own a:focus gives a yellow background and a shadow: those go too,
            # so that focused and unfocused look the same.
            "<style>#injected,#injected:focus{outline:none;background:none;box-shadow:none;"
            "color:#1d70b8;text-decoration:underline}</style>"
            '<p>Read <a id="injected" href="/about/">about the Digital Land team</a>.</p>'
        ),
    ),
    Kind(
        'focus lost: a link with onfocus="this.blur()"',
        "2.1.1, 2.4.7, 3.2.1",
        own("focus-lost"),
        in_main(
            '<p>Read <a id="injected" href="/about/" onfocus="this.blur()">'
            "about the Digital Land team</a>.</p>"
        ),
    ),
    Kind(
        "no keyboard: a div with onclick and cursor:pointer",
        "2.1.1",
        own("no-keyboard"),
        in_main(
            '<div id="injected" style="cursor:pointer" '
            "onclick=\"this.textContent='Thank you'\">Show me the planning data</div>"
        ),
    ),
    Kind(
        "text spacing: a fixed-height box with overflow:hidden",
        "1.4.12",
        own("text-spacing"),
        in_main(
            '<p id="injected" style="height:20px;line-height:20px;font-size:16px;'
            'width:215px;overflow:hidden;margin:0">Planning data for councils</p>'
        ),
    ),
    Kind(
        'link purpose: a "click here" link',
        "2.4.4",
        own("link-purpose"),
        in_main('<p><a id="injected" href="/about/">Click here</a></p>'),
    ),
    Kind(
        "an empty heading",
        "2.4.6",
        own("heading-empty") | {"empty-heading"},
        in_main('<h2 id="injected"></h2>'),
    ),
    Kind(
        "a missing title",
        "2.4.2",
        own("title-missing") | {"document-title"},
        without_title,
    ),
    Kind("a generic title (Untitled)", "2.4.2", own("title-generic"), generic_title),
    Kind(
        "reordered navigation (header links reversed)",
        "3.2.3",
        own("navigation-order"),
        reordered_navigation,
    ),
    Kind("renamed search button (Go, not Search)", "3.2.4", own("identification"), renamed_search),
)


def with_search(html: str) -> str:
    """The site's template with a search form in its header: every page has it."""
    return html.replace("</header>", SEARCH_FORM.format(name="Search") + "\n</header>", 1)


def page_path(site: Path, file: Path) -> str:
    relative = file.relative_to(site).as_posix()
    return quote("/" + relative.removesuffix("index.html"))  # as the scan stores it


def build_site(site: Path, seed: int, per_kind: int) -> tuple[dict[str, Kind], list[str]]:
    """Copy the site, inject failures; (page path -> its kind, the pages without one)."""
    shutil.copytree(corpus("digital-land") / "site", site)
    files = sorted(
        f
        for f in site.rglob("*.html")
        if not f.name.startswith(("google", "404")) and "</header>" in f.read_text("utf-8")
    )
    for file in files:
        file.write_text(with_search(file.read_text("utf-8")), "utf-8")
    rng = random.Random(seed)
    rng.shuffle(files)
    injected: dict[str, Kind] = {}
    remaining = iter(files)
    for kind in KINDS:
        done = 0
        while done < per_kind:
            file = next(remaining)
            changed = kind.inject(file.read_text("utf-8"))
            if changed is None:
                continue  # this page has nothing to inject into: the next one
            file.write_text(changed, "utf-8")
            injected[page_path(site, file)] = kind
            done += 1
    clean = [page_path(site, f) for f in list(remaining)[: len(injected)]]
    return injected, clean


def scan(base: str, paths: list[str], db: Path, browsers: int) -> None:
    command = [sys.executable, "-m", "app.cli", "scan", *(base + p for p in paths)]
    command += ["--db", str(db), "--max-depth", "0", "--browsers", str(browsers)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        raise SystemExit(f"scan failed:\n{result.stderr}")


def findings(db: Path, base: str) -> dict[str, set[tuple[str, str]]]:
    """Page path -> (rule id, outcome) of its accessibility findings."""
    found: dict[str, set[tuple[str, str]]] = defaultdict(set)
    with sqlite3.connect(db) as conn:
        for url, rule, outcome in conn.execute(
            "SELECT url, rule_id, outcome FROM findings WHERE kind = 'accessibility'"
        ):
            found[url.removeprefix(base)].add((rule, outcome))
        for url, reason in conn.execute("SELECT url, reason FROM pages"):
            found[url.removeprefix(base)].add(AUDITED if reason == "audited" else ("", reason))
    return found


def measure(
    seed: int, per_kind: int, browsers: int
) -> tuple[dict[str, Kind], list[str], dict[str, set[tuple[str, str]]]]:
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        injected, clean = build_site(site, seed, per_kind)
        with serve_site(site) as base:
            db = Path(tmp) / "scan.db"
            scan(base, [*injected, *clean], db, browsers)
            return injected, clean, findings(db, base)


def report(
    injected: dict[str, Kind],
    clean: list[str],
    found: dict[str, set[tuple[str, str]]],
    seed: int,
    per_kind: int,
) -> str:
    rows = []
    total = hits = reviews = 0
    for kind in KINDS:
        pages = [p for p, k in injected.items() if k is kind]
        hit = [p for p in pages if any((r, "violation") in found[p] for r in kind.rules)]
        review = [
            p
            for p in pages
            if p not in hit and any((r, "needs-review") in found[p] for r in kind.rules)
        ]
        total, hits, reviews = total + len(pages), hits + len(hit), reviews + len(review)
        rules = ", ".join(f"`{r}`" for r in sorted(kind.rules))
        rows.append(
            f"| {kind.name} | {kind.criterion} | {rules} | {len(pages)} | {len(hit)} | "
            f"{len(review)} |"
        )
    false = Counter(
        rule
        for page in clean
        for rule, outcome in found[page]
        if outcome == "violation" and rule.startswith(RULE_PREFIX)
    )
    audited = sum(AUDITED in found[p] for p in [*injected, *clean])
    missed = [
        f"{p} ({next((o for r, o in found[p] if r == ''), 'not recorded')})"
        for p in [*injected, *clean]
        if AUDITED not in found[p]
    ]
    false_lines = "\n".join(f"- `{rule}` on {n} pages" for rule, n in sorted(false.items()))
    newline = "\n"
    return f"""## Injected failures on a held-out site

Reproduce: `nox -s accuracy_injected`, or
`python benchmarks/injected_accuracy.py --seed {seed} --per-kind {per_kind} --out docs/accuracy.md`

Measured {time.strftime("%Y-%m-%d")}. A copy of a real GOV.UK Frontend site that nobody on
this project wrote (`../shared/corpora/digital-land/site`), with a site search form added
to every page's header, then one known failure injected into each of {len(injected)} pages
chosen at random (seed {seed}, {per_kind} pages a kind). Those pages and {len(clean)} others
without an injection were scanned with `--max-depth 0` and every check (the default). A kind
counts as found on a page when the scan reports one of its rules there as a violation;
"needs review" counts the pages where it asks a person to look instead.

- found as violations: **{hits}/{total}**; needing review besides: {reviews}
- pages audited in the browser: {audited} of {len(injected) + len(clean)}{
        (": not " + ", ".join(missed)) if missed else ""
    }

| injected failure | criterion | rules | pages | violation | needs review |
|---|---|---|---|---|---|
{newline.join(rows)}

Violations of siteaudit's own rules on the {len(clean)} pages without an injection (the
site's own defects, or false violations: each is worth reading):
{false_lines or "- none"}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--per-kind", type=int, default=3)
    parser.add_argument("--browsers", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    injected, clean, found = measure(args.seed, args.per_kind, args.browsers)
    text = report(injected, clean, found, args.seed, args.per_kind)
    print(text)
    if args.out:
        write_section(args.out, "injected", text, tool="injected_accuracy.py")


if __name__ == "__main__":
    main()
