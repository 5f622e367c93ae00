"""Each finding's history across scans: first seen, new, returning, still open (issue 15)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from app.demo import serve_site
from tests.conftest import query, run_siteaudit

RULE = "siteaudit-heading-empty"


def empty_heading(place: int) -> str:
    """An empty heading of its own on each page (its fingerprint is the element's), so that
    no two pages share it and it is never taken for a problem of the shared layout."""
    return f'<p>Intro.</p><h2 class="part-{place}"></h2>'


A, B, C, D = (empty_heading(n) for n in range(1, 5))


def write_site(root: Path, pages: dict[str, str]) -> None:
    """The home page links to every other page; each page has a title and its body."""
    for old in root.glob("*.html"):
        old.unlink()
    links = "".join(f'<li><a href="/{name}">Page {name}</a></li>' for name in pages)
    home = f"<h1>Home</h1><ul>{links}</ul>"
    for name, body in {"index.html": home, **pages}.items():
        html = f'<!DOCTYPE html><html lang="en"><head><title>{name} - Council</title></head>'
        (root / name).write_text(f"{html}<body><main><h1>{name}</h1>{body}</main></body></html>")


def scan(db: Path, base: str) -> None:
    result = run_siteaudit(
        "scan", base + "/", "--db", str(db), "--no-browser", "--checks", "headings"
    )
    assert result.returncode == 0, result.stderr


def test_history_tells_new_returning_and_open_apart(tmp_path: Path) -> None:
    site, db = tmp_path / "site", tmp_path / "scan.db"
    site.mkdir()
    # Scan 1: a and d have an empty heading. Scan 2: a's is fixed, b gets one, d's stays.
    # Scan 3: a's comes back, b's stays, d is removed, c is added with one.
    versions = [
        {"a.html": A, "b.html": "<p>Fine.</p>", "d.html": D},
        {"a.html": "<p>Fixed.</p>", "b.html": B, "d.html": D},
        {"a.html": A, "b.html": B, "c.html": C},
    ]
    with serve_site(site) as base:
        for pages in versions:
            write_site(site, pages)
            scan(db, base)
    rows = query(
        db,
        "SELECT f.scan_id, substr(f.url, length(s.start_url)), f.history, f.first_seen_scan, "
        "f.first_seen_at = substr(first.started_at, 1, 10) FROM findings f "
        "JOIN scans s ON s.id = f.scan_id JOIN scans first ON first.id = f.first_seen_scan "
        "WHERE f.rule_id = ? ORDER BY f.scan_id, f.url",
        RULE,
    )
    assert rows == [
        (1, "/a.html", "new", 1, 1),
        (1, "/d.html", "new", 1, 1),
        (2, "/b.html", "new", 2, 1),
        (2, "/d.html", "open", 1, 1),
        (3, "/a.html", "returning", 1, 1),
        (3, "/b.html", "open", 2, 1),
        (3, "/c.html", "new", 3, 1),
    ]


def test_the_csv_carries_first_seen_and_history(tmp_path: Path) -> None:
    site, db, out = tmp_path / "site", tmp_path / "scan.db", tmp_path / "report"
    site.mkdir()
    with serve_site(site) as base:
        for pages in (
            {"a.html": A},
            {"a.html": A, "b.html": B},
        ):
            write_site(site, pages)
            scan(db, base)
    result = run_siteaudit("report", "--db", str(db), "--out", str(out))
    assert result.returncode == 0, result.stderr
    text = "".join(p.read_text(encoding="utf-8-sig") for p in out.glob("*.csv"))
    lines = [line for line in text.splitlines() if RULE in line]
    assert len(lines) == 2
    assert sum(",open," in line for line in lines) == 1
    assert sum(",new," in line for line in lines) == 1


def test_first_seen_survives_pruning_the_scan_that_found_it(tmp_path: Path) -> None:
    site, db = tmp_path / "site", tmp_path / "scan.db"
    site.mkdir()
    write_site(site, {"a.html": A})
    with serve_site(site) as base:
        scan(db, base)
        with sqlite3.connect(db) as conn:  # the first scan was a year ago
            conn.execute("UPDATE scans SET started_at = '2025-12-01T09:00:00' WHERE id = 1")
            conn.execute("UPDATE findings SET first_seen_at = '2025-12-01' WHERE scan_id = 1")
        scan(db, base)
        pruned = run_siteaudit("prune", "--db", str(db), "--keep", "1")
        assert pruned.returncode == 0, pruned.stderr
        scan(db, base)
    assert [row[0] for row in query(db, "SELECT id FROM scans ORDER BY id")] == [2, 3]
    rows = query(
        db,
        "SELECT scan_id, history, first_seen_scan, first_seen_at FROM findings WHERE rule_id = ?",
        RULE,
    )
    assert rows == [(2, "open", 1, "2025-12-01"), (3, "open", 1, "2025-12-01")]
