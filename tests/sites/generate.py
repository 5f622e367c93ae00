"""Generate a synthetic council website of N pages, sized like real council pages.

Prose comes from the real council texts in ../shared/seeds when present (a built-in
paragraph otherwise). Every page is reachable by links from the home page; the sitemap
lists them all; `expected_urls.txt` lists every page's path.

    python tests/sites/generate.py OUT_DIR --pages 500

With --defects, pages also get visible faults of the kinds real pages have (a photo without
alt text, faint text lower down the page), decided by a generator of their own, so the
rest of each page is the same as without them.
"""

from __future__ import annotations

import argparse
import html
import os
import random
import re
from pathlib import Path

SECTIONS = (
    "bins-and-recycling", "council-tax", "benefits", "planning", "libraries", "parking",
    "housing", "schools", "social-care", "roads-and-transport", "leisure", "news",
)


def _shared_seeds() -> Path:
    """../shared/seeds: under $SITEAUDIT_SHARED if set, else beside the checkout or any
    folder above it (a worktree); as tests/conftest.py finds the shared corpora."""
    if os.environ.get("SITEAUDIT_SHARED"):
        return Path(os.environ["SITEAUDIT_SHARED"]) / "seeds"
    checkout = Path(__file__).resolve().parents[2]
    found = [f / "shared" / "seeds" for f in checkout.parents if (f / "shared" / "seeds").is_dir()]
    return found[0] if found else checkout.parent / "shared" / "seeds"


SEEDS = _shared_seeds()
FALLBACK = (
    "We collect household waste every week. Put your bin out by 7am on your collection day. "
    "You can pay your council tax online, by direct debit or at a council office. "
    "Our libraries offer free computer access, events for children and a home delivery service."
)
# Lines that carry personal details in the seed texts are left out of generated pages.
PERSONAL = re.compile(r"@|\b0\d{3,4}\s?\d{3}\s?\d{3,4}\b|\b(tel|telephone|email|phone)\b", re.I)


def seed_sentences() -> list[str]:
    text = " ".join(p.read_text(encoding="utf-8", errors="replace")
                    for p in sorted(SEEDS.glob("*.txt"))) if SEEDS.is_dir() else FALLBACK
    sentences = re.split(r"(?<=[.!?])\s+", " ".join(text.split()))
    return [s for s in sentences if 6 <= len(s.split()) <= 60 and not PERSONAL.search(s)]


def page_paths(pages: int) -> list[str]:
    """Home, one index per section, then numbered pages spread across the sections."""
    paths = ["/"] + [f"/{s}/" for s in SECTIONS]
    n = 0
    while len(paths) < pages:
        section = SECTIONS[n % len(SECTIONS)]
        paths.append(f"/{section}/page-{n // len(SECTIONS) + 1}.html")
        n += 1
    return paths[:pages]


def visible_defects(path: str, seed: int) -> tuple[str, str]:
    """A photo without alt text (on about half the pages) for the top of the main content,
    and faint text (on about a third) for its end."""
    rng = random.Random(f"{seed}:{path}")
    photo = ('<img src="/photo.svg" width="320" height="180">' if rng.random() < 0.5 else "")
    faint = ('<p class="faint">Opening hours may change on bank holidays.</p>'
             if rng.random() < 0.35 else "")
    return photo, faint


def render(path: str, paths: list[str], rng: random.Random, sentences: list[str],
           defects: tuple[str, str] = ("", "")) -> str:
    section = path.strip("/").split("/")[0] if path != "/" else ""
    # A council template's mega menu and footer: most of a real page's links and bytes.
    nav = "".join(
        f'<li><a href="/{s}/">{s.replace("-", " ").title()}</a><ul>'
        + "".join(f'<li><a href="/{s}/page-{k}.html">{s.replace("-", " ").title()} service {k}'
                  f"</a></li>" for k in range(1, 6))
        + "</ul></li>" for s in SECTIONS)
    footer = "".join(f'<li><a href="/{s}/">{s.replace("-", " ")}</a></li>' for s in SECTIONS)
    children = [p for p in paths if section and p.startswith(f"/{section}/") and p != path]
    if path == "/":
        children = []
    elif path.endswith("/"):
        pass  # a section index links to every page in it
    else:
        children = rng.sample(children, min(6, len(children)))
    related = "".join(f'<li><a href="{p}">{p.rsplit("/", 2)[-2 if p.endswith("/") else -1]}'
                      f"</a></li>" for p in children)
    paragraphs = "".join(
        f"<p>{html.escape(' '.join(rng.sample(sentences, min(4, len(sentences)))))}</p>"
        for _ in range(rng.randint(6, 14)))
    image = ('<img src="/pixel.png" width="1" height="1">' if rng.random() < 0.3
             else '<img src="/pixel.png" width="1" height="1" alt="Map of the area">')
    title = path.strip("/").replace("/", " - ").replace("-", " ") or "Home"
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{html.escape(title)} | Example Borough Council</title>
<link rel="stylesheet" href="/site.css"></head>
<body>
<a href="#main" class="skip">Skip to main content</a>
<header><a href="/">Example Borough Council</a>
<form action="/search/"><input type="search" name="q"><button>Search</button></form>
<nav aria-label="Main"><ul>{nav}</ul></nav></header>
<main id="main"><h1>{html.escape(title)}</h1>{defects[0]}{paragraphs}{image}{defects[1]}
<h2>Related pages</h2><ul>{related}</ul>
<p>Last updated: {rng.randint(1, 28)} March {rng.randint(2016, 2026)}</p></main>
<footer><ul><li><a href="/accessibility-statement">Accessibility</a></li>
<li><a href="/contact">Contact us</a></li>{footer}</ul></footer>
</body>
</html>
"""


def generate_site(root: Path, pages: int = 500, seed: int = 1, defects: bool = False) -> list[str]:
    """Write the site under root and return the sorted list of page paths."""
    rng = random.Random(seed)
    sentences = seed_sentences()
    paths = page_paths(pages)
    for path in paths:
        target = root / (path.lstrip("/") + ("index.html" if path.endswith("/") else ""))
        target.parent.mkdir(parents=True, exist_ok=True)
        extra = visible_defects(path, seed) if defects else ("", "")
        target.write_text(render(path, paths, rng, sentences, extra), encoding="utf-8")
    css = "body { font-family: sans-serif; color: #222; }\n"
    (root / "site.css").write_text(css + (".faint { color: #aaa; }\n" if defects else ""))
    if defects:
        (root / "photo.svg").write_text(PHOTO)
    (root / "pixel.png").write_bytes((Path(__file__).parent / "browser" / "pixel.png")
                                     .read_bytes())
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /search/\n\n"
                                     "Sitemap: {{BASE}}/sitemap.xml\n")
    urls = "".join(f"<url><loc>{{{{BASE}}}}{p}</loc></url>" for p in paths)
    (root / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/'
        f'schemas/sitemap/0.9">{urls}</urlset>\n')
    expected = sorted(paths)
    (root / "expected_urls.txt").write_text("\n".join(expected) + "\n")
    return expected


PHOTO = ('<svg xmlns="http://www.w3.org/2000/svg" width="320" height="180">'
         '<rect width="320" height="180" fill="#5b8c5a"/><circle cx="250" cy="50" r="30" '
         'fill="#f2d16b"/><path d="M0 180 L120 70 L220 180 Z" fill="#2f4b3a"/></svg>\n')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--defects", action="store_true", help="add visible faults")
    args = parser.parse_args()
    paths = generate_site(args.out, args.pages, args.seed, args.defects)
    print(f"wrote {len(paths)} pages to {args.out}")


if __name__ == "__main__":
    main()
