"""A document sent without a Content-Length and stopped at documents.max_bytes is still a
row in documents (unchecked), as one whose Content-Length says it is too large is."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import SplitResult

import pytest

from tests.conftest import query, run_siteaudit
from tests.recording import RecordingHandler, page, serve

pytestmark = pytest.mark.slow  # a --no-browser crawl

LIMIT = 50_000


def home(h: RecordingHandler, url: SplitResult) -> None:
    links = '<a href="/chunked.pdf">Chunked report</a> <a href="/long.pdf">Long report</a>'
    h.send_body(200, page("Reports", links, site="Test council").encode())


def chunked_pdf(h: RecordingHandler, url: SplitResult) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "application/pdf")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    chunk = b"%PDF-1.7\n" + b"0" * 16_384
    for _ in range(8):  # 130 KB, over the limit, with no Content-Length to say so
        h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    h.wfile.write(b"0\r\n\r\n")


def long_pdf(h: RecordingHandler, url: SplitResult) -> None:
    h.send_body(200, b"%PDF-1.7\n" + b"0" * (2 * LIMIT), "application/pdf")


def test_a_chunked_document_over_the_limit_is_recorded(tmp_path: Path) -> None:
    db, config = tmp_path / "scan.db", tmp_path / "site.toml"
    config.write_text(f"[documents]\nmax_bytes = {LIMIT}\n")
    routes = {"/": home, "/chunked.pdf": chunked_pdf, "/long.pdf": long_pdf}
    with serve(routes) as site:
        result = run_siteaudit(
            "scan", site.url("/"), "--db", str(db), "--no-browser", "--config", str(config)
        )
        base = site.base
    assert result.returncode == 0, result.stderr
    documents = query(
        db, "SELECT url, content_type, bytes, linked_from FROM documents ORDER BY url"
    )
    assert documents == [
        (f"{base}/chunked.pdf", "application/pdf", None, f"{base}/"),
        (f"{base}/long.pdf", "application/pdf", 2 * LIMIT + 9, f"{base}/"),
    ]
    [(kind, reason)] = query(db, "SELECT kind, reason FROM fetches WHERE url LIKE '%chunked.pdf'")
    assert (kind, reason) == ("document", "too-large")
