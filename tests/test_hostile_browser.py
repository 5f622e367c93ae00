"""The browser stays on the page it was given, off private addresses, and keeps secrets."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from browser.browser import BrowserSession
from browser.browser_proxy import GuardedProxy
from browser.launch import BrowserOptions, unprivileged_user
from tests.conftest import query, run_siteaudit
from tests.hostile import HostileSite, serve_hostile
from tests.hostile.browser import NAVIGATING, SECRET_MARK

pytestmark = pytest.mark.browser

KEY, COOKIE = "k3y-for-staging-only", "c00kie-for-staging-only"
AUTH_CONFIG = """
[site]
private_hosts = ["localhost"]
[auth]
header_envs = ["X-Staging-Key=STAGING_KEY"]
cookie_envs = ["preview=PREVIEW_COOKIE"]
"""


@pytest.fixture(scope="module")
def site() -> Iterator[HostileSite]:
    with serve_hostile() as served:
        yield served


@pytest.fixture(scope="module")
def scanned(site: HostileSite, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One scan of the browser area, with no private host allowed."""
    db = tmp_path_factory.mktemp("hostile-browser") / "scan.db"
    site.other_requests.clear()
    result = run_siteaudit(
        "scan", site.url("/browser/"), "--db", str(db), "--browsers", "1", "--page-timeout", "10"
    )
    assert result.returncode == 0, result.stderr
    return db


def reasons(db: Path, site: HostileSite) -> dict[str, str]:
    rows = query(db, "SELECT url, coalesce(reason, 'audited') FROM pages")
    return {url.removeprefix(site.base): reason for url, reason in rows}


@pytest.mark.parametrize("path", NAVIGATING)
def test_a_page_that_navigates_away_gets_its_reason(
    scanned: Path, site: HostileSite, path: str
) -> None:
    assert reasons(scanned, site)[path] == "navigated-away"
    [(error,)] = query(scanned, "SELECT error FROM pages WHERE url = ?", site.url(path))
    assert error.startswith("navigated away: the page went to ")
    assert "/browser/internal.html?via=" in error


def test_nothing_of_the_internal_page_is_stored(scanned: Path, site: HostileSite) -> None:
    snippets = query(scanned, "SELECT url, rule_id, snippet FROM findings")
    assert not [row for row in snippets if SECRET_MARK in (row[2] or "")], snippets
    assert SECRET_MARK.encode() not in scanned.read_bytes()
    # Chromium never even asked for the internal page's picture.
    assert not [r for r in site.requests if SECRET_MARK in r.path]


def test_chromium_never_reaches_a_private_host_not_allowed(
    scanned: Path, site: HostileSite
) -> None:
    # The frame, image, fetch and websocket all aimed at localhost: none arrived.
    assert not [r.path for r in site.other_requests if r.path.startswith("/internal/")]
    assert reasons(scanned, site)["/browser/private-subresources.html"] == "audited"


def test_credentials_never_follow_a_redirect_to_another_host(
    site: HostileSite, tmp_path: Path
) -> None:
    config = tmp_path / "staging.toml"
    config.write_text(AUTH_CONFIG)
    db = tmp_path / "scan.db"
    site.other_requests.clear()
    site.requests.clear()
    result = run_siteaudit(
        "scan",
        site.url("/browser/credential-redirect.html"),
        "--db",
        str(db),
        "--config",
        str(config),
        "--max-depth",
        "0",
        "--browsers",
        "1",
        env={"STAGING_KEY": KEY, "PREVIEW_COOKIE": COOKIE},
    )
    assert result.returncode == 0, result.stderr
    assert reasons(db, site)["/browser/credential-redirect.html"] == "audited"
    # Chromium sent the credentials to the site's own host...
    from_chromium = [r for r in site.requests if "Chrome" in r.headers.get("User-Agent", "")]
    to_other = [r for r in from_chromium if r.path.startswith("/browser/to-other")]
    assert to_other and all(r.headers.get("X-Staging-Key") == KEY for r in to_other)
    # ...and followed the redirects to the other host (localhost is allowed here), without.
    # (Only Chromium's requests: the crawler's own link checks are not this test's subject.)
    leaks = [
        r
        for r in site.other_requests
        if r.path.startswith("/leak") and "Chrome" in r.headers.get("User-Agent", "")
    ]
    assert {r.path for r in leaks} >= {"/leak?via=img", "/leak?via=css"}, leaks
    for request in leaks:
        assert "X-Staging-Key" not in request.headers, request
        assert COOKIE not in request.headers.get("Cookie", ""), request


def environ_of(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:  # a helper that has just exited
        return b""


def test_chromium_and_chromedriver_run_without_siteaudits_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SITEAUDIT_SMTP_PASSWORD", "smtp-s3cret-in-environ")
    session = BrowserSession(BrowserOptions(run_as=unprivileged_user(""))).start()
    try:
        assert session.pgid is not None
        members = [
            entry.name
            for entry in Path("/proc").iterdir()
            if entry.name.isdigit() and group_of(entry.name) == session.pgid
        ]
        names = {pid: command_of(pid) for pid in members}
        assert {"chromedriver", "chromium"} <= set(names.values()), names
        for pid in members:
            assert b"smtp-s3cret-in-environ" not in environ_of(pid), names[pid]
        # ChromeDriver's environment is the minimal one (and what the reaper's shell adds),
        # HOME the session's own. (Chromium's helpers write their titles over their
        # environment, so only ChromeDriver's can be read whole.)
        [driver] = [pid for pid, name in names.items() if name == "chromedriver"]
        environ = environ_of(driver).split(b"\0")
        assert b"HOME=" + session.profile_dir.encode() + b"/home" in environ
        assert {entry.split(b"=", 1)[0] for entry in environ if entry} <= {
            b"PATH",
            b"LANG",
            b"LANGUAGE",
            b"LC_ALL",
            b"LC_CTYPE",
            b"TZ",
            b"TMPDIR",
            b"HOME",
            b"SITEAUDIT_CHROMEDRIVER",
            b"USER",
            b"LOGNAME",
            b"PWD",
            b"SHLVL",
            b"_",
        }
    finally:
        session.close()


def group_of(pid: str) -> int | None:
    try:
        return os.getpgid(int(pid))
    except (ProcessLookupError, PermissionError):
        return None


def command_of(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def ask(proxy: GuardedProxy, request: bytes) -> bytes:
    """Send raw bytes to the proxy and read its whole answer."""
    with socket.create_connection(("127.0.0.1", proxy.server.server_address[1]), 10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


@pytest.mark.parametrize(
    "target",
    [
        "169.254.169.254:80",
        "10.0.0.1:80",
        "[::1]:80",
        "[fd00::1]:443",
        "localhost:80",
        "no.such.host.invalid:443",
    ],
)
def test_the_proxy_refuses_private_and_unresolvable_hosts(target: str) -> None:
    proxy = GuardedProxy(("127.0.0.1",)).start()
    try:
        answer = ask(proxy, f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
        assert answer.startswith(b"HTTP/1.1 403 "), answer
    finally:
        proxy.close()


def test_the_proxy_forwards_to_allowed_hosts_one_request_per_connection(
    site: HostileSite,
) -> None:
    proxy = GuardedProxy(("127.0.0.1",)).start()
    try:
        own = site.url("/example/ordinary.html")
        other = site.other_url("/internal/kept-alive")
        site.other_requests.clear()
        # Two requests on one kept-alive connection: the second, for a host that is not
        # allowed, must never be carried to it over the first one's connection.
        answer = ask(
            proxy,
            f"GET {own} HTTP/1.1\r\nHost: x\r\nProxy-Connection: keep-alive\r\n\r\n"
            f"GET {other} HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
        )
        assert answer.startswith(b"HTTP/1.1 200 ") and b"An ordinary page" in answer
        assert answer.count(b"HTTP/1.1 ") == 1
        assert site.other_requests == []
        assert ask(proxy, f"GET {other} HTTP/1.1\r\nHost: x\r\n\r\n".encode()).startswith(
            b"HTTP/1.1 403 "
        )
        assert site.other_requests == []
    finally:
        proxy.close()
