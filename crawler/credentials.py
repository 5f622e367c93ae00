"""Staging-site credentials, read from the environment: never from a file."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field, replace

from settings.loader import ConfigError
from settings.model import AuthConfig


@dataclass(frozen=True)
class Credentials:
    """Basic auth, extra headers and cookies for the staging site's own hosts."""

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

    def with_session(self, session: dict[str, str]) -> Credentials:
        """These credentials and a form login's session cookies; a cookie configured in
        cookie_envs is meant as given, so it wins over the login's of the same name."""
        return replace(self, cookies={**session, **self.cookies})


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


def load_credentials(auth: AuthConfig) -> Credentials:
    """Credentials from the environment; a form login's session is crawler/login.py's."""
    basic = None
    if auth.basic_user:
        basic = (
            auth.basic_user,
            from_environment(auth.basic_password_env, "The basic auth password"),
        )
    headers = pairs(auth.header_envs, "header_envs")
    cookies = pairs(auth.cookie_envs, "cookie_envs")
    return Credentials(basic, headers, cookies)
