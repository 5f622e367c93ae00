"""A form login before the crawl: its session reaches the site's own host only, never storage."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import SplitResult, parse_qs

import pytest

from tests.conftest import query, run_in_process, run_siteaudit
from tests.recording import RecordingHandler, RecordingServer, Route, serve

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


def staging_site(other: RecordingServer) -> dict[str, Route]:
    """A site like Drupal's: a login form with a CSRF token, every other page behind it."""
    logged_out = threading.Event()

    def get(h: RecordingHandler, url: SplitResult) -> None:
        if h.path == "/login":
            # A cookie before logging in, as many sites set: the login must carry it back.
            answer(h, 200, LOGIN_FORM.format(error=""), cookie=f"nonce={NONCE}; Path=/")
        elif h.path == "/login-elsewhere":
            # A form that would post the password to another host.
            action = f'action="{other_base(other)}/login"'
            answer(h, 200, LOGIN_FORM.format(error="").replace('action="/login', action))
        elif h.path not in PAGES and h.path != "/user/logout":
            answer(h, 404, "")
        elif f"SESS={SESSION}" not in h.headers.get("Cookie", "") or logged_out.is_set():
            answer(h, 302, "", location="/login")
        elif h.path == "/user/logout":
            logged_out.set()  # ends the session, as a real logout would
            answer(h, 302, "", location="/login")
        else:
            answer(h, 200, PAGES[h.path].replace("{{OTHER}}", other_base(other)))

    def post(h: RecordingHandler, url: SplitResult) -> None:
        form = parse_qs(h.recorded.body.decode())
        expected = {"name": [USER], "pass": [PASSWORD], "form_token": [TOKEN], "op": ["Log in"]}
        if (
            h.path == "/login?destination=/"
            and form == expected
            and f"nonce={NONCE}" in h.headers.get("Cookie", "")
        ):
            answer(h, 303, "", location="/", cookie=f"SESS={SESSION}; Path=/; HttpOnly")
        else:
            error = "<p>Unrecognised username or password.</p>"
            answer(h, 200, LOGIN_FORM.format(error=error))

    def route(h: RecordingHandler, url: SplitResult) -> None:
        (post if h.command == "POST" else get)(h, url)

    return {"*": route}


def answer(
    h: RecordingHandler, status: int, body: str, location: str = "", cookie: str = ""
) -> None:
    kind = "text/css" if h.path.endswith(".css") else "text/html"
    headers = (("Location", location),) if location else ()
    headers += (("Set-Cookie", cookie),) if cookie else ()
    h.send_body(status, body.encode(), f"{kind}; charset=utf-8", headers)


def other_base(other: RecordingServer) -> str:
    # "localhost", not 127.0.0.1: another host name, so outside the allowed domains.
    return other.base.replace("127.0.0.1", "localhost")


def other_site(h: RecordingHandler, url: SplitResult) -> None:
    """Another host the pages link to and embed from: it must never see the session."""
    h.send_body(200, b"ok", "image/png" if h.path.endswith(".png") else "text/html")


@pytest.fixture
def sites() -> Iterator[tuple[RecordingServer, RecordingServer]]:
    with serve({"*": other_site}) as other, serve(staging_site(other)) as staging:
        yield staging, other


def write_config(path: Path, staging: RecordingServer, **form: str) -> Path:
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


def scan_args(staging: RecordingServer, tmp_path: Path, **form: str) -> list[str]:
    config = write_config(tmp_path / "staging.toml", staging, **form)
    return [
        "scan",
        f"{staging.base}/",
        "--db",
        str(tmp_path / "scan.db"),
        "--config",
        str(config),
        "--browsers",
        "1",
        "--report",
        str(tmp_path / "report"),
        "--verbose",  # every log line too, to prove none carries a secret
    ]


def scan(
    staging: RecordingServer, tmp_path: Path, env: dict[str, str], **form: str
) -> tuple[int, str, Path]:
    result = run_siteaudit(*scan_args(staging, tmp_path, **form), env=env)
    return result.returncode, result.stdout + result.stderr, tmp_path / "scan.db"


def refused(
    staging: RecordingServer, tmp_path: Path, env: dict[str, str | None], **form: str
) -> tuple[int, str]:
    """scan(), in this process, of a configuration refused before anything is sent."""
    result = run_in_process(*scan_args(staging, tmp_path, **form), env=env)
    return result.returncode, result.stdout + result.stderr


@pytest.mark.browser
def test_form_login_session_reaches_the_staging_host_only(
    sites: tuple[RecordingServer, RecordingServer], tmp_path: Path
) -> None:
    staging, other = sites
    code, output, db = scan(staging, tmp_path, {"SITEAUDIT_FORM_PASSWORD": PASSWORD})
    assert code == 0, output
    # One login for the whole scan: the crawler and the browser share its session.
    assert [r.path for r in staging.requests if r.method == "POST"] == ["/login?destination=/"]
    # Both pages, not the login page, crawled and audited in the browser.
    assert query(db, "SELECT url, status_code FROM pages ORDER BY url") == [
        (f"{staging.base}/", 200),
        (f"{staging.base}/page.html", 200),
    ]
    assert query(db, "SELECT count(audited_at) FROM pages") == [(2,)]
    # Chromium loaded the protected stylesheet with the session, and got it.
    stylesheet = [
        r
        for r in staging.requests
        if r.path == "/site.css" and "HeadlessChrome" in r.headers.get("User-Agent", "")
    ]
    assert stylesheet
    assert all(f"SESS={SESSION}" in r.headers.get("Cookie", "") for r in stylesheet)
    assert {r.status for r in stylesheet} == {200}
    # The logout link is recorded, never followed, so the session lasted the whole scan.
    assert not [r for r in staging.requests if r.path == "/user/logout"]
    assert query(db, "SELECT count(*) FROM links WHERE target_url LIKE '%/user/logout'") == [(1,)]
    # Every request for a page or the stylesheet, the crawler's and Chromium's, had the session.
    assert {r.status for r in staging.requests if r.path in PAGES} == {200}
    # The other host was asked for the image and the link check, never with the session.
    assert {r.path for r in other.requests} >= {"/pixel.png", "/linked"}
    for request in other.requests:
        assert SESSION not in request.headers.get("Cookie", ""), request
        assert NONCE not in request.headers.get("Cookie", ""), request
    # No secret in the database, the report or the output (verbose logs included).
    stored = db.read_bytes() + b"".join(p.read_bytes() for p in (tmp_path / "report").iterdir())
    for secret in SECRETS:
        assert secret.encode() not in stored and secret not in output


def failure_line(output: str) -> str:
    return [line for line in output.splitlines() if line.startswith("Error:")][-1]


@pytest.mark.browser
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
    sites: tuple[RecordingServer, RecordingServer],
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
    assert all(r.path.startswith("/login") for r in staging.requests)
    assert not other.requests
    assert PASSWORD not in output and SESSION not in output


def test_missing_password_or_off_site_login_is_one_line(
    sites: tuple[RecordingServer, RecordingServer], tmp_path: Path
) -> None:
    staging, other = sites
    code, output = refused(staging, tmp_path, {"SITEAUDIT_FORM_PASSWORD": None})
    assert code == 1
    assert failure_line(output) == (
        "Error: The form login password comes from $SITEAUDIT_FORM_PASSWORD, which is not "
        "set; export SITEAUDIT_FORM_PASSWORD (siteaudit never reads secrets from files)"
    )
    code, output = refused(
        staging, tmp_path, {"SITEAUDIT_FORM_PASSWORD": PASSWORD}, url=f"{other_base(other)}/login"
    )
    assert code == 1
    assert failure_line(output) == (
        "Error: auth.form.url: localhost is not one of the allowed domains (127.0.0.1); "
        "give the scanned site's login page, or add localhost to site.allowed_domains"
    )
    # Neither attempt sent anything anywhere.
    assert not staging.requests and not other.requests
