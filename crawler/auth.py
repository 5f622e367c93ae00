"""Staging-site credentials, read from the environment and sent only to allowed hosts."""

from __future__ import annotations

import base64
import os
import ssl
from dataclasses import dataclass, field
from typing import Any

from scrapy.http import Request

from crawler.login import form_login
from settings.loader import ConfigError
from settings.model import DEFAULT_USER_AGENT, AuthConfig
from vocabulary.urls import host_allowed


@dataclass(frozen=True)
class Credentials:
    basic: tuple[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.basic or self.headers or self.cookies)

    def request_headers(self) -> dict[str, str]:
        """Headers that carry these credentials (Authorization, extras, Cookie)."""
        headers = dict(self.headers)
        if self.basic:
            token = base64.b64encode(":".join(self.basic).encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        return headers

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())


def from_environment(name: str, what: str) -> str:
    value = os.environ.get(name)
    if value is None:
        raise ConfigError(
            f"{what} comes from ${name}, which is not set; export {name} "
            "(siteaudit never reads secrets from files)"
        )
    return value


def pairs(entries: tuple[str, ...], key: str) -> dict[str, str]:
    """["X-Key=ENV_VAR", …] as {"X-Key": value of $ENV_VAR}."""
    found = {}
    for entry in entries:
        name, sep, variable = entry.partition("=")
        if not sep or not name.strip() or not variable.strip():
            raise ConfigError(f"auth.{key}: {entry!r} must be NAME=ENVIRONMENT_VARIABLE")
        found[name.strip()] = from_environment(variable.strip(), f"auth.{key} {name.strip()}")
    return found


def load_credentials(
    auth: AuthConfig,
    allowed_domains: tuple[str, ...] = (),
    ssl_context: ssl.SSLContext | None = None,
    timeout: float = 30.0,
    user_agent: str = DEFAULT_USER_AGENT,
) -> Credentials:
    """Credentials from the environment; with [auth.form], logs in (call once per scan)."""
    basic = None
    if auth.basic_user:
        basic = (
            auth.basic_user,
            from_environment(auth.basic_password_env, "The basic auth password"),
        )
    headers = pairs(auth.header_envs, "header_envs")
    cookies = pairs(auth.cookie_envs, "cookie_envs")
    if auth.form.url:
        password = from_environment(auth.form.password_env, "The form login password")
        # Basic auth and extra headers too: a staging site may sit behind both.
        given = Credentials(basic, headers).request_headers()
        session = form_login(
            auth.form, password, allowed_domains, ssl_context, timeout, user_agent, given
        )
        # A cookie configured in cookie_envs is meant as given: it wins over the login's.
        cookies = {**session, **cookies}
    return Credentials(basic, headers, cookies)


class AuthMiddleware:
    """Adds the staging site's credentials to requests for the allowed domains only, and
    takes them off any other request.

    Scrapy's redirects keep custom headers (it drops only Cookie and Authorization when
    the host changes), so a request that a redirect sends to another host may still carry
    them: every request passes through here again, redirected ones included.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> AuthMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        context = self.crawler.spider.context
        credentials: Credentials = context.credentials
        if not credentials:
            return
        if not host_allowed(request.url, context.allowed_domains):
            strip_credentials(request, credentials)
            return
        for name, value in credentials.request_headers().items():
            request.headers[name] = value
        if credentials.cookies:
            existing = request.headers.get("Cookie", b"").decode("latin-1")
            request.headers["Cookie"] = "; ".join(
                part for part in (existing, credentials.cookie_header()) if part
            )


def strip_credentials(request: Request, credentials: Credentials) -> None:
    """Remove the configured headers, basic auth and cookies; keep the host's own cookies."""
    for name in credentials.request_headers():
        request.headers.pop(name, None)
    if credentials.cookies and "Cookie" in request.headers:
        ours = {name.strip() for name in credentials.cookies}
        kept = [
            part
            for header in request.headers.getlist("Cookie")
            for part in header.decode("latin-1").split(";")
            if part.strip() and part.split("=", 1)[0].strip() not in ours
        ]
        del request.headers["Cookie"]
        if kept:
            request.headers["Cookie"] = "; ".join(part.strip() for part in kept)
