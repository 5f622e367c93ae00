"""siteaudit browse: a real scan database served by the real Datasette, its canned queries
read over HTTP, and the errors when it cannot start."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from app.browse import column_text
from app.demo import DEMO_SITE, serve_site
from store.canned_queries import NEW_PROBLEMS
from store.database import open_database
from store.findings import replace_findings
from store.history import record_history
from store.scans import finish_scan, start_scan
from store.schema_docs import PAGES
from tests.conftest import ROOT, query, run_in_process, run_siteaudit
from vocabulary.findings import Finding

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - Example Council</title></head>
<body><main><h1>{title}</h1>
<p>{text} Tell us if something on this page is wrong and we will put it right.</p>
{extra}
<p>Last updated: 1 March 2021</p>
</main>
<footer><a href="/">Home</a> <a href="/gone.html">Our old contact page</a></footer>
</body></html>
"""
CONFIG = """
[[teams]]
name = "Waste and Recycling"
paths = ["/waste/"]

[[teams]]
name = "Revenues and Benefits"
paths = ["/tax/"]
"""
LAYOUT_OWNER = "Web Team"  # templates.owner's default


def write_site(root: Path) -> None:
    """Five pages, each with a footer link to a page that is gone (a layout problem), one
    past its review date, one linking a PDF with problems (the demo site's)."""
    pages = {
        "index.html": ("Home", '<a href="/waste/bins.html">Bins</a> <a href="/tax/">Tax</a>'),
        "waste/bins.html": ("Bin collections", '<a href="/waste/review.html">Garden</a>'),
        "waste/review.html": ("Garden waste", "<p>Review due: 1 January 2020</p>"),
        "tax/index.html": ("Council tax", '<a href="/tax/pay.html">Pay</a>'),
        "tax/pay.html": ("Pay your council tax", '<a href="/tax/leaflet.pdf">Leaflet</a>'),
    }
    for path, (title, extra) in pages.items():
        text = f"You can find out about {title.lower()} here."
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(PAGE.format(title=title, text=text, extra=extra))
    shutil.copy(DEMO_SITE / "documents" / "council-tax-leaflet.pdf", root / "tax" / "leaflet.pdf")


def scan(base: str, db: Path, config: Path) -> None:
    result = run_siteaudit(
        "scan", f"{base}/", "--db", str(db), "--config", str(config), "--no-browser"
    )
    assert result.returncode == 0, result.stderr


def webp_picture() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), "magenta").save(buffer, "WEBP")
    return buffer.getvalue()


def give_picture(db: Path, url: str, image: bytes) -> None:
    """A picture for the new problem's element, stored as a browser scan stores one (a scan
    without the browser takes none)."""
    picture_id = hashlib.sha256(image).hexdigest()
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO pictures (id, format, width, height, bytes, image) "
            "VALUES (?, 'webp', 40, 20, ?, ?)",
            (picture_id, len(image), image),
        )
        conn.execute(
            "UPDATE findings SET picture = ? WHERE scan_id = 2 AND url = ? AND scope = 'content' "
            "AND rule_id = 'broken-link-internal'",
            (picture_id, url),
        )


def printed_url(process: subprocess.Popen[str], timeout: float = 60) -> str:
    """The address siteaudit browse prints once it listens."""
    assert process.stderr is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if select.select([process.stderr], [], [], 0.5)[0]:
            line = process.stderr.readline()
            if match := re.search(r" at (http://127\.0\.0\.1:\d+/\S+) ", line):
                return match[1]
            assert line, f"siteaudit browse stopped: {process.wait()}"
    raise AssertionError("siteaudit browse printed no address")


@contextmanager
def browsing(db: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """siteaudit browse running on any free port; its database's address."""
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "browse", "--db", str(db), "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        yield printed_url(process), process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        return response.read()


def rows(base: str, name: str, **params: str) -> list[dict[str, Any]]:
    """A canned query's rows, from Datasette's JSON."""
    query_string = urllib.parse.urlencode({**params, "_shape": "array"})
    return json.loads(get(f"{base}/{name}.json?{query_string}"))


def test_browse_serves_the_database_with_its_canned_queries(tmp_path: Path) -> None:
    site, db, config = tmp_path / "site", tmp_path / "scan.db", tmp_path / "council.toml"
    write_site(site)
    config.write_text(CONFIG)
    with serve_site(site) as base:
        scan(base, db, config)
        pay = site / "tax" / "pay.html"
        pay.write_text(
            pay.read_text().replace("</main>", '<a href="/tax/gone.html">Old</a></main>')
        )
        scan(base, db, config)
    image = webp_picture()
    give_picture(db, f"{base}/tax/pay.html", image)
    with browsing(db) as (address, process):
        assert address.endswith("/scan")
        # New since scan 1: only the link added to the pay page (the layout's link is old).
        assert [
            (r["team"], r["kind"], r["rule_id"], r["page"], r["pages"])
            for r in rows(address, "new_problems")
        ] == [
            (
                "Revenues and Benefits",
                "broken-link",
                "broken-link-internal",
                f"{base}/tax/pay.html",
                1,
            )
        ]
        # The footer link to a gone page, on all five pages: the layout's, listed once; and
        # the site has no accessibility statement, the layout's too (on its start page).
        assert sorted(
            (r["team"], r["rule_id"], r["pages"]) for r in rows(address, "template_problems")
        ) == [(LAYOUT_OWNER, "broken-link-internal", 5), (LAYOUT_OWNER, "statement-missing", 1)]
        overdue = rows(address, "review_overdue")
        assert [(r["url"], r["review_due"]) for r in overdue] == [
            (f"{base}/waste/review.html", "2020-01-01")
        ]
        assert overdue[0]["days_overdue"] > 365
        [document] = rows(address, "failing_documents")
        assert document["url"] == f"{base}/tax/leaflet.pdf"
        assert "pdf-untagged" in document["rules"].split(", ")
        worst = rows(address, "worst_pages_by_team")
        assert {r["team"] for r in worst} == {
            "Waste and Recycling",
            "Revenues and Benefits",
            "Unassigned",
        }
        for team in {r["team"] for r in worst}:
            ranked = [r for r in worst if r["team"] == team]
            assert [r["rank"] for r in ranked] == list(range(1, len(ranked) + 1))
            assert [r["score"] for r in ranked] == sorted(r["score"] for r in ranked)
        assert sorted(r["url"] for r in worst) == sorted(
            url for (url,) in query(db, "SELECT url FROM pages WHERE scan_id = 2")
        )
        history = rows(address, "page_history", url=f"{base}/tax/pay.html")
        assert [(r["scan"], r["status"], r["broken_links"]) for r in history] == [
            (1, "finished", 1),
            (2, "finished", 2),
        ]
        assert [r["score"] for r in history] == [
            score
            for (score,) in query(db, f"SELECT score FROM pages WHERE url = '{base}/tax/pay.html'")
        ]
        # The picture shows as an image, in the canned query and in its table.
        encoded = base64.b64encode(image).decode()
        [pictured] = rows(address, "problem_pictures")
        assert pictured["picture"] == {"$base64": True, "encoded": encoded}
        img = f'<img src="data:image/webp;base64,{encoded}" alt="the element">'
        assert img in get(f"{address}/problem_pictures").decode()
        assert img in get(f"{address}/pictures").decode()
        # Columns carry the descriptions docs/schema.md is written from.
        meta = json.loads(get(f"{address.rsplit('/', 1)[0]}/-/metadata.json"))
        tables = meta["databases"]["scan"]["tables"]
        audit_ms = next(c for c in PAGES.columns if c.name == "audit_ms")
        assert tables["pages"]["columns"]["audit_ms"] == column_text(audit_ms)
        assert column_text(audit_ms) == "time spent in the browser (milliseconds)"
        process.send_signal(signal.SIGINT)  # Ctrl-C
        assert process.wait(timeout=30) == 0
        assert process.stderr is not None
        assert process.stderr.read().splitlines() == [f"Stopped serving {db}"]
    # Served read-only: the scans are as they were.
    assert query(db, "SELECT count(*), min(status), max(status) FROM scans") == [
        (2, "finished", "finished")
    ]


def test_new_problems_are_new_on_their_page_or_new_to_the_layout(tmp_path: Path) -> None:
    site = "https://www.example.gov.uk"
    pages = [f"{site}/{name}" for name in ("", "bins", "tax")]

    def found(fingerprint: str, url: str, scope: str = "content", **extra: str) -> Finding:
        rule = fingerprint.rsplit("-", 1)[0]
        return Finding(
            "accessibility", rule, fingerprint=fingerprint, url=url, scope=scope, **extra
        )

    old = [found("region-menu", url, "template") for url in pages] + [
        found("image-alt-1", pages[1])
    ]
    new = [
        *(found("region-menu", url, "template") for url in pages),  # still there
        *(found("label-search", url, "template") for url in pages),  # new in the layout
        found("image-alt-1", pages[1]),  # still there
        found("image-alt-1", pages[2]),  # the same element, new on another page
        found("link-name-1", pages[2], decision="false-positive"),  # set aside by a person
    ]
    db = open_database(tmp_path / "scan.db")
    for start_url, findings in ((site, old), ("https://other.example.gov.uk", []), (site, new)):
        scan_id = start_scan(db, start_url)
        replace_findings(db, scan_id, "accessibility", findings)
        record_history(db.conn, scan_id)  # as a scan's end does (app/after_crawl.py)
        finish_scan(db, scan_id, "finished")
    # Compared with scan 1, the previous scan of the same site, not scan 2 of another.
    new_problems = db.conn.execute(NEW_PROBLEMS.sql).fetchall()
    assert sorted((rule, page, count) for _, _, _, rule, _, page, count, *_ in new_problems) == [
        ("image-alt", f"{site}/tax", 1),
        ("label", "the shared layout", 3),
    ]


def new_database(folder: Path) -> Path:
    db = folder / "scan.db"
    open_database(db).conn.close()
    return db


def test_browse_without_datasette_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = new_database(tmp_path)
    for name in [m for m in sys.modules if m.split(".")[0] == "datasette"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "datasette", None)  # `import datasette` now fails
    run = run_in_process("browse", "--db", str(db))
    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        "Error: Datasette is not installed, and siteaudit browse needs it; install it with: "
        "pip install 'siteaudit[browse]'"
    ]


def test_browse_refuses_a_port_in_use(tmp_path: Path) -> None:
    db = new_database(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = run_in_process("browse", "--db", str(db), "--port", str(port))
    assert run.returncode == 1
    assert run.errors == [
        f"Error: cannot serve on 127.0.0.1:{port} (Address already in use); choose another --port"
    ]


def test_browse_refuses_a_file_that_is_not_a_siteaudit_database(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (text)")
    run = run_in_process("browse", "--db", str(other))
    assert run.returncode == 1
    assert run.errors == [
        f"Error: {other}: not a siteaudit database this version can upgrade (no table scans); "
        "use another --db"
    ]
    missing = run_in_process("browse", "--db", str(tmp_path / "missing.db"))
    assert missing.errors == [
        f"Error: {tmp_path / 'missing.db'}: no such database; run siteaudit scan --db "
        f"{tmp_path / 'missing.db'} first"
    ]
