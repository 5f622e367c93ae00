"""HTTPS: a site with its own certificate authority, trusted only through configuration."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from tests.conftest import query, run_siteaudit
from tests.recording import RecordingServer, by_suffix, serve, static

pytestmark = pytest.mark.browser

PAGE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
    '<link rel="stylesheet" href="/site.css"></head><body><main><h1>{title}</h1>'
    '<p class="faint">Bins are collected every week.</p>{body}</main></body></html>'
)
PAGES = {
    "/": PAGE.format(title="Staging home", body='<a href="/bins.html">Bins</a>'),
    "/bins.html": PAGE.format(title="Bins", body=""),
    # Grey on white fails WCAG contrast: axe can only see it once the stylesheet loads.
    "/site.css": ".faint { color: #bbbbbb; background: #ffffff; }",
}


@dataclass
class HttpsSite:
    server: RecordingServer
    ca: trustme.CA

    @property
    def base(self) -> str:
        return self.server.base


@pytest.fixture
def https_site() -> Iterator[HttpsSite]:
    ca = trustme.CA(organization_name="Example Council staging CA")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    with serve(static(PAGES, by_suffix), tls=context) as server:
        yield HttpsSite(server, ca)


def scan(site: HttpsSite, tmp_path: Path, config: str) -> tuple[Path, str, int]:
    (tmp_path / "site.toml").write_text(config)
    db = tmp_path / "scan.db"
    result = run_siteaudit(
        "scan",
        f"{site.base}/",
        "--db",
        str(db),
        "--config",
        str(tmp_path / "site.toml"),
        "--browsers",
        "1",
    )
    return db, result.stdout + result.stderr, result.returncode


def test_untrusted_certificate_is_a_clear_reason(https_site: HttpsSite, tmp_path: Path) -> None:
    db, output, code = scan(https_site, tmp_path, "")
    assert code == 1
    assert "certificate is not trusted" in output and "site.ca_file" in output
    assert query(db, "SELECT reason FROM fetches") == [("tls-error",)]
    assert query(db, "SELECT count(*) FROM pages") == [(0,)]


def test_configured_authority_is_trusted_by_crawler_and_browser(
    https_site: HttpsSite, tmp_path: Path
) -> None:
    https_site.ca.cert_pem.write_to_path(str(tmp_path / "staging-ca.pem"))
    # A relative path is read from the configuration file's folder.
    db, output, code = scan(https_site, tmp_path, '[site]\nca_file = "staging-ca.pem"\n')
    assert code == 0, output
    assert query(db, "SELECT count(*) FROM pages WHERE audited_at IS NOT NULL") == [(2,)]
    # Chromium fetched the stylesheet itself, over the same HTTPS, and trusted it: the
    # contrast failure it defines is found on both pages.
    assert any(
        r.path == "/site.css" and "HeadlessChrome" in r.headers.get("User-Agent", "")
        for r in https_site.server.requests
    )
    assert query(
        db, "SELECT count(DISTINCT url) FROM findings WHERE rule_id = 'color-contrast'"
    ) == [(2,)]
