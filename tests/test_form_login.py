"""A form login before the crawl: its session reaches the site's own host only, never storage."""

from __future__ import annotations

import http.server
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from tests.conftest import query, run_siteaudit

pytestmark = pytest.mark.browser

USER, PASSWORD = "editor", "f0rm-pa55word"
# Fresh each run, so finding one anywhere can only mean siteaudit copied it there.
SESSION, NONCE, TOKEN = (secrets.token_hex(12) for _ in range(3))
SECRETS = (PASSWORD, SESSION, NONCE)

LOGIN_FORM = (
    '<!DOCTYPE html><html lang="en"><head><title>Log in</title></head><body><main>'
    "<h1>Log in</h1>{error}"
    '<form method="post" action="/login?destination=/">'
    f'<input type="hidden" name="form_token" value="{TOKEN}">'
    '<label>Username <input name="name"></label>'
    '<label>Password <input type="password" name="pass"></label>'
    '<input type="submit" name="op" value="Log in"></form></main></body></html>'
)
PAGE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{t}</title>'
    '<link rel="stylesheet" href="/site.css"></head><body><main><h1>{t}</h1>'
    '<img src="{{{{OTHER}}}}/pixel.png" alt="Map">{body}</main></body></html>'
)
PAGES = {
    "/": PAGE.format(
        t="Staging home",
        body=(
            '<a href="/page.html">Page</a><a href="/user/logout">Sign out</a>'
            '<a href="{{OTHER}}/linked">Partner</a>'
        ),
    ),
    "/page.html": PAGE.format(t="Staging page", body="<p>Draft content.</p>"),
    "/site.css": "body { color: #222; }",
}


@dataclass
class Server:
    base: str = ""
    # Each request's method, path, headers and the status it was answered with.
    seen: list[dict[str, str]] = field(default_factory=list)
    logged_out: bool = False


def start(handler: type[http.server.BaseHTTPRequestHandler]) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def serve_staging(other: Server) -> tuple[http.server.ThreadingHTTPServer, Server]:
    """A site like Drupal's: a login form with a CSRF token, every other page behind it."""
    record = Server()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/login":
                # A cookie before logging in, as many sites set: the login must carry it back.
                self.answer(200, LOGIN_FORM.format(error=""), cookie=f"nonce={NONCE}; Path=/")
            elif self.path == "/login-elsewhere":
                # A form that would post the password to another host.
                action = f'action="{other.base}/login"'
                self.answer(200, LOGIN_FORM.format(error="").replace('action="/login', action))
            elif self.path not in PAGES and self.path != "/user/logout":
                self.answer(404, "")
            elif f"SESS={SESSION}" not in self.headers.get("Cookie", "") or record.logged_out:
                self.answer(302, "", location="/login")
            elif self.path == "/user/logout":
                record.logged_out = True  # ends the session, as a real logout would
                self.answer(302, "", location="/login")
            else:
                self.answer(200, PAGES[self.path].replace("{{OTHER}}", other.base))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = parse_qs(self.rfile.read(length).decode())
            expected = {"name": [USER], "pass": [PASSWORD], "form_token": [TOKEN], "op": ["Log in"]}
            if (
                self.path == "/login?destination=/"
                and form == expected
                and f"nonce={NONCE}" in self.headers.get("Cookie", "")
            ):
                self.answer(303, "", location="/", cookie=f"SESS={SESSION}; Path=/; HttpOnly")
            else:
                error = "<p>Unrecognised username or password.</p>"
                self.answer(200, LOGIN_FORM.format(error=error))

        def answer(self, status: int, body: str, location: str = "", cookie: str = "") -> None:
            record.seen.append(
                {"method": self.command, "path": self.path, "status": str(status)}
                | dict(self.headers.items())
            )
            data = body.encode()
            self.send_response(status)
            kind = "text/css" if self.path.endswith(".css") else "text/html"
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            if location:
                self.send_header("Location", location)
            if cookie:
                self.send_header("Set-Cookie", cookie)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = start(Handler)
    record.base = f"http://127.0.0.1:{server.server_address[1]}"
    return server, record


def serve_other() -> tuple[http.server.ThreadingHTTPServer, Server]:
    """Another host the pages link to and embed from: it must never see the session."""
    record = Server()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            record.seen.append({"method": "GET", "path": self.path, **dict(self.headers.items())})
            kind = "image/png" if self.path.endswith(".png") else "text/html"
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        do_HEAD = do_GET

        def log_message(self, *args: object) -> None:
            pass

    server = start(Handler)
    # "localhost", not 127.0.0.1: another host name, so outside the allowed domains.
    record.base = f"http://localhost:{server.server_address[1]}"
    return server, record


@pytest.fixture
def sites() -> Iterator[tuple[Server, Server]]:
    other_server, other = serve_other()
    staging_server, staging = serve_staging(other)
    yield staging, other
    staging_server.shutdown()
    other_server.shutdown()


def write_config(path: Path, staging: Server, **form: str) -> Path:
    values = {
        "url": f"{staging.base}/login",
        "username": USER,
        "username_field": "name",
        "password_field": "pass",
        **form,
    }
    lines = "".join(f'{key} = "{value}"\n' for key, value in values.items())
    path.write_text(
        f'[site]\nprivate_hosts = ["localhost"]\n[auth.form]\n{lines}'
        '[links]\nallow = ["localhost", "127.0.0.1"]\n'
    )
    return path


def scan(
    staging: Server, tmp_path: Path, env: dict[str, str], **form: str
) -> tuple[int, str, Path]:
    config = write_config(tmp_path / "staging.toml", staging, **form)
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
        "--verbose",  # every log line too, to prove none carries a secret
        env=env,
    )
    return result.returncode, result.stdout + result.stderr, db


def test_form_login_session_reaches_the_staging_host_only(
    sites: tuple[Server, Server], tmp_path: Path
) -> None:
    staging, other = sites
    code, output, db = scan(staging, tmp_path, {"SITEAUDIT_FORM_PASSWORD": PASSWORD})
    assert code == 0, output
    # One login for the whole scan: the crawler and the browser share its session.
    assert [r["path"] for r in staging.seen if r["method"] == "POST"] == ["/login?destination=/"]
    # Both pages, not the login page, crawled and audited in the browser.
    assert query(db, "SELECT url, status_code FROM pages ORDER BY url") == [
        (f"{staging.base}/", 200),
        (f"{staging.base}/page.html", 200),
    ]
    assert query(db, "SELECT count(audited_at) FROM pages") == [(2,)]
    # Chromium loaded the protected stylesheet with the session, and got it.
    stylesheet = [
        r
        for r in staging.seen
        if r["path"] == "/site.css" and "HeadlessChrome" in r.get("User-Agent", "")
    ]
    assert stylesheet
    assert all(f"SESS={SESSION}" in r.get("Cookie", "") for r in stylesheet)
    assert {r["status"] for r in stylesheet} == {"200"}
    # The logout link is recorded, never followed, so the session lasted the whole scan.
    assert not [r for r in staging.seen if r["path"] == "/user/logout"]
    assert query(db, "SELECT count(*) FROM links WHERE target_url LIKE '%/user/logout'") == [(1,)]
    # Every request for a page or the stylesheet, the crawler's and Chromium's, had the session.
    assert {r["status"] for r in staging.seen if r["path"] in PAGES} == {"200"}
    # The other host was asked for the image and the link check, never with the session.
    assert {r["path"] for r in other.seen} >= {"/pixel.png", "/linked"}
    for request in other.seen:
        assert SESSION not in request.get("Cookie", ""), request
        assert NONCE not in request.get("Cookie", ""), request
    # No secret in the database, the report or the output (verbose logs included).
    stored = db.read_bytes() + b"".join(p.read_bytes() for p in (tmp_path / "report").iterdir())
    for secret in SECRETS:
        assert secret.encode() not in stored and secret not in output


def failure_line(output: str) -> str:
    return [line for line in output.splitlines() if line.startswith("Error:")][-1]


@pytest.mark.parametrize(
    ("env", "form", "expected"),
    [
        (
            {"SITEAUDIT_FORM_PASSWORD": "wrong-password"},
            {},
            "failed: the page after logging in still asks for a password; "
            "check auth.form.username and $SITEAUDIT_FORM_PASSWORD",
        ),
        (
            {"SITEAUDIT_FORM_PASSWORD": PASSWORD},
            {"password_field": "password"},
            "failed: the login page has no password field named 'password'; "
            "check auth.form.password_field and auth.form.url",
        ),
        (
            {"SITEAUDIT_FORM_PASSWORD": PASSWORD},
            {"username_field": "user"},
            "failed: the login form has no field named 'user'; check auth.form.username_field",
        ),
        (
            {"SITEAUDIT_FORM_PASSWORD": PASSWORD},
            {"url": "{base}/login-gone"},
            "failed: the login page answered HTTP status 404",
        ),
        (
            {"SITEAUDIT_FORM_PASSWORD": PASSWORD},
            {"url": "{base}/login-elsewhere"},
            "failed: the login form sends the password to localhost, outside the allowed "
            "domains; siteaudit sends it nowhere else",
        ),
    ],
)
def test_failed_login_is_one_line_and_stores_nothing(
    sites: tuple[Server, Server],
    tmp_path: Path,
    env: dict[str, str],
    form: dict[str, str],
    expected: str,
) -> None:
    staging, other = sites
    form = {key: value.format(base=staging.base) for key, value in form.items()}
    code, output, db = scan(staging, tmp_path, env, **form)
    assert code == 1
    url = form.get("url", f"{staging.base}/login")
    assert failure_line(output) == f"Error: form login at {url} {expected}"
    assert not db.exists() or query(db, "SELECT count(*) FROM scans") == [(0,)]
    # Nothing but the login: no crawl, no browser.
    assert all(r["path"].startswith("/login") for r in staging.seen)
    assert not other.seen
    assert PASSWORD not in output and SESSION not in output


def test_missing_password_or_off_site_login_is_one_line(
    sites: tuple[Server, Server], tmp_path: Path
) -> None:
    staging, other = sites
    code, output, _ = scan(staging, tmp_path, {})
    assert code == 1
    assert failure_line(output) == (
        "Error: The form login password comes from $SITEAUDIT_FORM_PASSWORD, which is not "
        "set; export SITEAUDIT_FORM_PASSWORD (siteaudit never reads secrets from files)"
    )
    code, output, _ = scan(
        staging, tmp_path, {"SITEAUDIT_FORM_PASSWORD": PASSWORD}, url=f"{other.base}/login"
    )
    assert code == 1
    assert failure_line(output) == (
        "Error: auth.form.url: localhost is not one of the allowed domains (127.0.0.1); "
        "give the scanned site's login page, or add localhost to site.allowed_domains"
    )
    # Neither attempt sent anything anywhere.
    assert not staging.seen and not other.seen
