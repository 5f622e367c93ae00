"""Redirects and secrets: a hostile site cannot leak credentials, flood a host or reach inside."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy.http import Request

from crawler.auth import strip_credentials
from crawler.credentials import Credentials
from settings.loader import ConfigError, config_from_dict
from tests.conftest import ROOT, query, run_siteaudit
from tests.hostile import HostileSite, serve_hostile
from tests.hostile.network import MANY_EXTERNAL, SUBDOMAIN, UNRESOLVABLE
from vocabulary.urls import normalise_url

KEY, PASSWORD, COOKIE = "staging-key-5e1f", "basic-pw-77c2", "preview-cookie-a91d"
SECRETS = (KEY, PASSWORD, COOKIE)
ENV = {"STAGING_KEY": KEY, "SITEAUDIT_BASIC_PASSWORD": PASSWORD, "PREVIEW_COOKIE": COOKIE}
AUTH = """
[auth]
basic_user = "editor"
header_envs = ["X-Staging-Key=STAGING_KEY"]
cookie_envs = ["preview=PREVIEW_COOKIE"]
"""
# The other host (localhost) stands for another public site: named as private, so that
# only the allowed-domain rules, not the private-network check, keep secrets from it.
OTHER_IS_PUBLIC = '[site]\nprivate_hosts = ["localhost"]\n'


def scan(
    tmp_path: Path, url: str, config: str, *, expect: int = 0
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    db, toml = tmp_path / "scan.db", tmp_path / "site.toml"
    toml.write_text(config)
    result = run_siteaudit(
        "scan", url, "--db", str(db), "--config", str(toml), "--no-browser", "-v", env=ENV
    )
    assert result.returncode == expect, result.stderr
    return db, result


def leaked(site: HostileSite) -> list[object]:
    """Requests that reached the other host with a credential."""
    return [
        r
        for r in site.other_requests
        if {"x-staging-key", "authorization"} & {k.lower() for k in r.headers}
        or COOKIE in r.headers.get("Cookie", "")
    ]


def test_redirect_off_site_is_recorded_not_crawled_and_secrets_stay_home(tmp_path: Path) -> None:
    config = OTHER_IS_PUBLIC + AUTH + "[links]\nmax_external_per_host = 1000\n"
    with serve_hostile() as site:
        db, result = scan(tmp_path, site.url("/network/"), config)
    other = site.other_url("")
    # The credentials were sent, to the site's own host only.
    assert all(r.headers.get("X-Staging-Key") == KEY for r in site.requests)
    assert site.other_requests and leaked(site) == []
    # Both redirects (HTTP and meta refresh) are recorded with their reason and target...
    assert query(
        db, "SELECT url, final_url, reason FROM fetches WHERE reason IS NOT NULL ORDER BY url"
    ) == [
        (site.url("/network/away"), f"{other}/landed", "offsite-redirect"),
        (site.url("/network/refresh-away"), f"{other}/refreshed", "offsite-redirect"),
    ]
    # ...never stored as the site's pages, and not called broken...
    assert query(db, "SELECT count(*) FROM pages WHERE url LIKE ?", f"{other}%") == [(0,)]
    broken = {s for (s,) in query(db, "SELECT snippet FROM findings WHERE kind = 'broken-link'")}
    assert UNRESOLVABLE in broken and not {s for s in broken if s.startswith(other)}
    # ...and each target is kept as an external link, and checked like one (HEAD, no secret).
    assert query(
        db,
        "SELECT l.target_url, l.internal, f.status_code FROM links l JOIN fetches f "
        "ON f.url = l.target_url AND f.kind = 'external' "
        "WHERE l.target_url IN (?, ?) ORDER BY 1",
        f"{other}/landed",
        f"{other}/refreshed",
    ) == [(f"{other}/landed", 0, 200), (f"{other}/refreshed", 0, 200)]
    assert {(r.method, r.path) for r in site.other_requests} >= {
        ("HEAD", "/landed"),
        ("HEAD", "/refreshed"),
    }
    stored = db.read_bytes()
    for secret in SECRETS:
        assert secret.encode() not in stored and secret not in result.stdout + result.stderr


def test_start_url_redirecting_off_site_says_where_in_one_line(tmp_path: Path) -> None:
    with serve_hostile() as site:
        _, result = scan(tmp_path, site.url("/network/away"), AUTH, expect=1)
    assert leaked(site) == [] and site.other_requests == []  # localhost is private here
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: could not fetch {site.url('/network/away')}: it redirects to "
        f"{site.other_url('/landed')}, outside the allowed domains; scan that address, "
        "or add its host to site.allowed_domains"
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("caps", "checked", "line"),
    [
        (
            "max_external_per_host = 50",
            50,
            f"External links: 50 checked; links.max_external_per_host reached on 1 host, "
            f"{MANY_EXTERNAL - 50} more not checked",
        ),
        (
            "max_external = 20\nmax_external_per_host = 1000",
            20,
            f"External links: 20 checked; links.max_external reached, "
            f"{MANY_EXTERNAL - 20} more not checked",
        ),
    ],
)
def test_external_link_checks_stop_at_the_caps(
    tmp_path: Path, caps: str, checked: int, line: str
) -> None:
    with serve_hostile() as site:
        db, result = scan(
            tmp_path, site.url("/network/many-external"), f"{OTHER_IS_PUBLIC}[links]\n{caps}\n"
        )
    # One page linked to 300 pages of another host; it was asked about `checked` of them.
    assert len(site.other_requests) == checked
    assert query(db, "SELECT count(*) FROM fetches WHERE kind = 'external'") == [(checked,)]
    assert query(db, "SELECT count(*) FROM links WHERE internal = 0") == [(MANY_EXTERNAL,)]
    assert line in result.stderr
    # Links over the cap are not checked, so not reported as broken.
    assert query(db, "SELECT count(*) FROM findings WHERE kind = 'broken-link'") == [(0,)]


def test_ipv6_link_keeps_its_host_and_is_not_fetched(tmp_path: Path) -> None:
    with serve_hostile() as site:
        db, result = scan(tmp_path, site.url("/network/ipv6"), "")
    port = site.base.rsplit(":", 1)[1]
    assert query(db, "SELECT target_url, internal FROM links") == [
        (f"http://[::1]:{port}/network/secret", 0)
    ]
    # Loopback, so not checked (and not called broken); nothing asked for the secret page.
    assert query(db, "SELECT count(*) FROM fetches WHERE kind = 'external'") == [(0,)]
    assert not [r for r in site.requests if r.path == "/network/secret"]
    assert "::1 is on a private network" in result.stderr


def loopback_subdomain_runner(tmp_path: Path) -> list[str] | None:
    """A command prefix under which SUBDOMAIN resolves to 127.0.0.1: none needed where the
    system resolves names under localhost; else a private mount of a hosts file that says
    so (a user namespace, no root needed); None if neither is possible here."""
    try:
        if {i[4][0] for i in socket.getaddrinfo(SUBDOMAIN, None)} <= {"127.0.0.1", "::1"}:
            return []
    except OSError:
        pass
    hosts = tmp_path / "hosts"
    hosts.write_text(f"127.0.0.1 localhost {SUBDOMAIN}\n")
    prefix = [
        *("unshare", "--user", "--map-root-user", "--mount", "sh", "-c"),
        'mount --bind "$0" /etc/hosts && exec "$@"',
        str(hosts),
    ]
    if not shutil.which("unshare"):
        return None
    probe = subprocess.run(
        [*prefix, "getent", "hosts", SUBDOMAIN], capture_output=True, text=True, timeout=30
    )
    return prefix if probe.returncode == 0 and "127.0.0.1" in probe.stdout else None


def scan_with_subdomain(
    tmp_path: Path, runner: list[str], url: str, config: str
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    db, toml = tmp_path / "scan.db", tmp_path / "site.toml"
    toml.write_text(config)
    command = [sys.executable, "-m", "app.cli", "scan", url, "--db", str(db)]
    result = subprocess.run(
        [*runner, *command, "--config", str(toml), "--no-browser", "-v"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        env={**os.environ, **ENV, "PYTHONUNBUFFERED": "1"},
    )
    assert result.returncode == 0, result.stderr
    return db, result


def test_subdomain_of_the_site_on_a_private_address_is_refused(tmp_path: Path) -> None:
    runner = loopback_subdomain_runner(tmp_path)
    if runner is None:
        pytest.skip(f"cannot make {SUBDOMAIN} resolve to 127.0.0.1 here (no unshare)")
    with serve_hostile() as site:
        # The site is "localhost" as the user named it; SUBDOMAIN is a subdomain of it that
        # a hostile DNS pointed at an internal address (as it might at 169.254.169.254).
        start = site.url("/network/subdomain").replace("127.0.0.1", "localhost")
        db, _ = scan_with_subdomain(tmp_path / "refused", runner, start, AUTH)
        refused_requests = [r for r in site.requests if SUBDOMAIN in r.headers.get("Host", "")]
        # Named in site.private_hosts, it is fetched: the refusal's advice works.
        allowed_db, _ = scan_with_subdomain(
            tmp_path / "named", runner, start, f'[site]\nprivate_hosts = ["{SUBDOMAIN}"]\n'
        )
    port = site.base.rsplit(":", 1)[1]
    secret = f"http://{SUBDOMAIN}:{port}/network/secret"
    assert refused_requests == []
    assert query(db, "SELECT count(*) FROM pages WHERE url = ?", secret) == [(0,)]
    assert query(
        db, "SELECT url, reason, error FROM fetches WHERE url LIKE '%.localhost%' ORDER BY url"
    ) == [
        (
            secret,
            "private-network",
            f"not fetched: {SUBDOMAIN} is on a private network; "
            "add it to site.private_hosts to check it",
        ),
        (
            f"http://missing.localhost:{port}/",
            "dns-failure",
            "CannotResolveHostError: DNS lookup failed: no results for hostname lookup: "
            "missing.localhost.",
        ),
    ]
    assert query(allowed_db, "SELECT count(*) FROM pages WHERE url = ?", secret) == [(1,)]


CONNECT = """
import sys
from twisted.internet import defer, task
from twisted.internet.endpoints import HostnameEndpoint, connectProtocol
from twisted.internet.protocol import Protocol
from crawler.resolver import PrivateNetworkResolver

@defer.inlineCallbacks
def main(reactor):
    PrivateNetworkResolver(reactor, ["127.0.0.1"]).install_on_reactor()
    for host in ("localhost", "127.0.0.1", "localhost"):
        try:
            protocol = yield connectProtocol(
                HostnameEndpoint(reactor, host, int(sys.argv[1])), Protocol()
            )
            protocol.transport.loseConnection()
            print(host, "connected")
        except Exception as err:
            print(host, type(err).__name__)

task.react(main)
"""


def test_connections_use_only_addresses_the_resolver_checked() -> None:
    """The check is the connection's own lookup: Twisted's endpoint, as Scrapy uses it, gets
    no address for a name that resolves to a private address, and so never connects."""
    with serve_hostile() as site:
        port = site.base.rsplit(":", 1)[1]
        result = subprocess.run(
            [sys.executable, "-c", CONNECT, port],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
    assert result.stdout.splitlines() == [
        "localhost DNSLookupError",
        "127.0.0.1 connected",
        "localhost DNSLookupError",  # from the cache: refused again, without a lookup
    ], result.stderr


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("http://[::1]:8080/", "http://[::1]:8080/"),
        ("HTTP://[::1]/a#b", "http://[::1]/a"),
        ("http://[FE80::1%25eth0]:80/x", "http://[fe80::1%25eth0]/x"),
        ("https://[2001:db8::1]:443/?utm_source=x&a=1", "https://[2001:db8::1]/?a=1"),
        ("/b", "http://[::1]:8080/b"),
    ],
)
def test_normalise_url_keeps_ipv6_brackets(url: str, normal: str) -> None:
    base = "http://[::1]:8080/a/"
    assert normalise_url(url, base=base, strip_params=("utm_*",)) == normal


def test_credentials_are_stripped_from_a_request_to_another_host() -> None:
    credentials = Credentials(("editor", PASSWORD), {"X-Staging-Key": KEY}, {"preview": COOKIE})
    request = Request(
        "https://elsewhere.example/",
        headers={
            **credentials.request_headers(),
            "Cookie": f"theirs=1; preview={COOKIE}",
            "Accept": "text/html",
        },
    )
    strip_credentials(request, credentials)
    assert request.headers.to_unicode_dict() == {"Accept": "text/html", "Cookie": "theirs=1"}


@pytest.mark.parametrize("key", ["max_external", "max_external_per_host"])
def test_external_caps_must_be_positive(key: str) -> None:
    with pytest.raises(ConfigError, match=f"links.{key} must be at least 1; set links.check_"):
        config_from_dict({"links": {key: 0}}, "site.toml")
