"""Staging sites behind a login: credentials reach the allowed host only, never storage."""

from __future__ import annotations

import base64
import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import query, run_siteaudit

pytestmark = pytest.mark.browser

USER, PASSWORD, KEY, COOKIE = "editor", "s3cret-basic", "k3y-header", "c00kie-value"
SECRETS = (PASSWORD, KEY, COOKIE, base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode())


@dataclass
class Server:
    base: str
    seen: list[dict[str, str]] = field(default_factory=list)


def serve(pages: dict[str, str], protected: bool) -> tuple[http.server.ThreadingHTTPServer, Server]:
    record = Server("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.reply(send_body=True)

        def do_HEAD(self) -> None:
            self.reply(send_body=False)

        def reply(self, send_body: bool) -> None:
            record.seen.append({"path": self.path, **dict(self.headers.items())})
            expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            if protected and (
                self.headers.get("Authorization") != expected
                or self.headers.get("X-Staging-Key") != KEY
                or f"preview={COOKIE}" not in self.headers.get("Cookie", "")
            ):
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="staging"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = pages.get(self.path, "").replace("{{OTHER}}", other_base()).encode()
            kind = (
                "text/css"
                if self.path.endswith(".css")
                else ("image/png" if self.path.endswith(".png") else "text/html")
            )
            self.send_response(200 if self.path in pages else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body:
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    record.base = f"http://127.0.0.1:{server.server_address[1]}"
    return server, record


OTHER: dict[str, str] = {}


def other_base() -> str:
    return OTHER["base"]


PAGE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{t}</title>'
    '<link rel="stylesheet" href="/site.css"></head><body><main><h1>{t}</h1>'
    '<img src="{{{{OTHER}}}}/pixel.png" alt="Map">{body}</main></body></html>'
)


@pytest.fixture
def sites() -> Iterator[tuple[Server, Server]]:
    other_server, other = serve({"/pixel.png": "", "/linked": "ok"}, protected=False)
    OTHER["base"] = other.base.replace("127.0.0.1", "localhost")
    staging_pages = {
        "/": PAGE.format(
            t="Staging home",
            body=(
                '<a href="/page.html">Page</a><a href="/logout">Sign out</a>'
                '<a href="{{OTHER}}/linked">Partner</a>'
            ),
        ),
        "/page.html": PAGE.format(t="Staging page", body="<p>Draft content.</p>"),
        "/logout": "logged out",
        "/site.css": "body { color: #222; }",
    }
    staging_server, staging = serve(staging_pages, protected=True)
    yield staging, other
    staging_server.shutdown()
    other_server.shutdown()


CONFIG = """
[site]
private_hosts = ["localhost"]
[auth]
basic_user = "editor"
header_envs = ["X-Staging-Key=STAGING_KEY"]
cookie_envs = ["preview=PREVIEW_COOKIE"]
[links]
allow = ["localhost", "127.0.0.1"]
"""
ENV = {"SITEAUDIT_BASIC_PASSWORD": PASSWORD, "STAGING_KEY": KEY, "PREVIEW_COOKIE": COOKIE}


def test_credentials_reach_the_staging_host_only(
    sites: tuple[Server, Server], tmp_path: Path
) -> None:
    staging, other = sites
    config = tmp_path / "staging.toml"
    config.write_text(CONFIG)
    db = tmp_path / "scan.db"
    result = run_siteaudit(
        "scan",
        f"{staging.base}/",
        "--db",
        str(db),
        "--config",
        str(config),
        "--browsers",
        "1",
        "--report",
        str(tmp_path / "report"),
        env=ENV,
    )
    assert result.returncode == 0, result.stderr
    # Both pages audited in the browser, their stylesheet loaded with the credentials.
    assert query(db, "SELECT count(audited_at) FROM pages") == [(2,)]
    assert not [r for r in staging.seen if r["path"] != "/logout" and r.get("X-Staging-Key") != KEY]
    assert any(r["path"] == "/site.css" for r in staging.seen)
    # The logout link is recorded, never followed.
    assert not [r for r in staging.seen if r["path"] == "/logout"]
    # The other host got requests (the image, the link check) but no credentials at all.
    assert {r["path"] for r in other.seen} >= {"/pixel.png", "/linked"}
    for request in other.seen:
        assert not {"Authorization", "X-Staging-Key"} & set(request), request
        assert COOKIE not in request.get("Cookie", "")
    # No secret in the database, the report or the output.
    stored = db.read_bytes() + b"".join(p.read_bytes() for p in (tmp_path / "report").iterdir())
    for secret in SECRETS:
        assert secret.encode() not in stored and secret not in result.stdout + result.stderr


def test_missing_secret_is_one_line_naming_the_variable(
    sites: tuple[Server, Server], tmp_path: Path
) -> None:
    staging, _ = sites
    config = tmp_path / "staging.toml"
    config.write_text(CONFIG)
    result = run_siteaudit(
        "scan",
        f"{staging.base}/",
        "--db",
        str(tmp_path / "scan.db"),
        "--config",
        str(config),
        env={"STAGING_KEY": KEY},
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: The basic auth password comes from $SITEAUDIT_BASIC_PASSWORD, which is not "
        "set; export SITEAUDIT_BASIC_PASSWORD (siteaudit never reads secrets from files)"
    )
