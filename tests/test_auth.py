"""Staging sites behind a login: credentials reach the allowed host only, never storage."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import SplitResult

import pytest

from tests.conftest import query, run_in_process, run_siteaudit
from tests.recording import RecordingHandler, RecordingServer, Route, by_suffix, serve

USER, PASSWORD, KEY, COOKIE = "editor", "s3cret-basic", "k3y-header", "c00kie-value"
SECRETS = (PASSWORD, KEY, COOKIE, base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode())
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


def site(pages: dict[str, str], other: str, protected: bool) -> dict[str, Route]:
    """Every path: its page ({{OTHER}} is the other host), or 404; behind the staging
    credentials when protected."""

    def answer(h: RecordingHandler, url: SplitResult) -> None:
        if protected and (
            h.headers.get("Authorization") != BASIC
            or h.headers.get("X-Staging-Key") != KEY
            or f"preview={COOKIE}" not in h.headers.get("Cookie", "")
        ):
            h.send_body(401, b"", headers=(("WWW-Authenticate", 'Basic realm="staging"'),))
            return
        body = pages.get(h.path, "").replace("{{OTHER}}", other).encode()
        h.send_body(200 if h.path in pages else 404, body, by_suffix(h.path))

    return {"*": answer}


PAGE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{t}</title>'
    '<link rel="stylesheet" href="/site.css"></head><body><main><h1>{t}</h1>'
    '<img src="{{{{OTHER}}}}/pixel.png" alt="Map">{body}</main></body></html>'
)
STAGING_PAGES = {
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


@pytest.fixture
def sites() -> Iterator[tuple[RecordingServer, RecordingServer]]:
    with serve(site({"/pixel.png": "", "/linked": "ok"}, "", protected=False)) as other:
        other_base = other.base.replace("127.0.0.1", "localhost")
        with serve(site(STAGING_PAGES, other_base, protected=True)) as staging:
            yield staging, other


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


@pytest.mark.browser
def test_credentials_reach_the_staging_host_only(
    sites: tuple[RecordingServer, RecordingServer], tmp_path: Path
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
    assert not [
        r for r in staging.requests if r.path != "/logout" and r.headers.get("X-Staging-Key") != KEY
    ]
    assert any(r.path == "/site.css" for r in staging.requests)
    # The logout link is recorded, never followed.
    assert not [r for r in staging.requests if r.path == "/logout"]
    # The other host got requests (the image, the link check) but no credentials at all.
    assert {r.path for r in other.requests} >= {"/pixel.png", "/linked"}
    for request in other.requests:
        assert not {"Authorization", "X-Staging-Key"} & set(request.headers), request
        assert COOKIE not in request.headers.get("Cookie", "")
    # No secret in the database, the report or the output.
    stored = db.read_bytes() + b"".join(p.read_bytes() for p in (tmp_path / "report").iterdir())
    for secret in SECRETS:
        assert secret.encode() not in stored and secret not in result.stdout + result.stderr


def test_missing_secret_is_one_line_naming_the_variable(
    sites: tuple[RecordingServer, RecordingServer], tmp_path: Path
) -> None:
    staging, _ = sites
    config = tmp_path / "staging.toml"
    config.write_text(CONFIG)
    result = run_in_process(
        "scan",
        f"{staging.base}/",
        "--db",
        str(tmp_path / "scan.db"),
        "--config",
        str(config),
        env={"STAGING_KEY": KEY, "SITEAUDIT_BASIC_PASSWORD": None},
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: The basic auth password comes from $SITEAUDIT_BASIC_PASSWORD, which is not "
        "set; export SITEAUDIT_BASIC_PASSWORD (siteaudit never reads secrets from files)"
    )
