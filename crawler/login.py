"""A staging site's form login, done once before the crawl, for its session cookies."""

from __future__ import annotations

import http.cookiejar
import logging
import ssl
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

from settings.loader import ConfigError
from settings.model import DEFAULT_USER_AGENT, FormLoginConfig
from vocabulary.urls import host_allowed

log = logging.getLogger(__name__)

# A login page is small; reading more would only be a misconfigured URL.
MAX_LOGIN_PAGE_BYTES = 4 * 1024 * 1024
# Inputs a browser never submits by themselves (a named submit button is added separately).
UNSUBMITTED_TYPES = {"submit", "button", "image", "reset", "file"}


class LoginError(Exception):
    """The form login failed; the message names the login URL, the cause and what to check."""


class AllowedRedirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects within the allowed domains only.

    urllib resends no body after a redirect (a POST becomes a GET; 307 and 308 after a POST
    are refused), so the password goes to the form's action and nowhere else.
    """

    def __init__(self, allowed_domains: tuple[str, ...]) -> None:
        self.allowed_domains = allowed_domains

    def redirect_request(
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> Any:
        if not host_allowed(newurl, self.allowed_domains):
            # Only the host: a GET form's redirect target may carry the password in its query.
            host = urlsplit(newurl).hostname
            fp.close()
            raise LoginError(f"it redirected to {host}, outside the allowed domains")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def form_login(
    form: FormLoginConfig,
    password: str,
    allowed_domains: tuple[str, ...],
    ssl_context: ssl.SSLContext | None = None,
    timeout: float = 30.0,
    user_agent: str = DEFAULT_USER_AGENT,
    headers: dict[str, str] | None = None,
) -> dict[str, str]:
    """Log in through the site's login form; return the session cookies it set (name → value).

    headers (basic auth, extra headers) go with every login request: all of them are to
    allowed hosts, since the login URL, the form's action and every redirect must be.
    Raises ConfigError if the login page is off-site, LoginError if the login fails.
    """
    if not host_allowed(form.url, allowed_domains):
        host = urlsplit(form.url).hostname
        raise ConfigError(
            f"auth.form.url: {host} is not one of the allowed domains "
            f"({', '.join(allowed_domains)}); give the scanned site's login page, "
            f"or add {host} to site.allowed_domains"
        )
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(jar),
        urllib.request.HTTPSHandler(context=ssl_context),
        AllowedRedirects(allowed_domains),
    )
    opener.addheaders = [("User-Agent", user_agent), *(headers or {}).items()]
    try:
        cookies = sign_in(opener, jar, form, password, allowed_domains, timeout)
    except LoginError as err:
        raise LoginError(f"form login at {form.url} failed: {err}") from None
    # Cookie names only: their values are credentials, like the password.
    log.info("form login at %s: signed in, cookies %s", form.url, ", ".join(sorted(cookies)))
    return cookies


def sign_in(
    opener: urllib.request.OpenerDirector,
    jar: http.cookiejar.CookieJar,
    form: FormLoginConfig,
    password: str,
    allowed_domains: tuple[str, ...],
    timeout: float,
) -> dict[str, str]:
    """Fetch the login page, submit its form as a browser would, and check it worked."""
    page_url, page = fetch(opener, urllib.request.Request(form.url), timeout, "the login page")
    login_form = find_login_form(page, form)
    fields = form_fields(login_form)
    fields = [(k, v) for k, v in fields if k not in (form.username_field, form.password_field)]
    fields += [(form.username_field, form.username), (form.password_field, password)]
    action = urljoin(page_url, str(login_form.get("action") or "").strip() or page_url)
    check_action(action, page_url, allowed_domains)
    data = urlencode(fields)
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(page_url))
    headers = {"Referer": page_url, "Origin": origin}  # CSRF checks such as Django's
    if str(login_form.get("method") or "get").lower() == "post":
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(action, data.encode(), headers, method="POST")
    else:
        # A GET form puts the password in the query, as a browser would.
        request = urllib.request.Request(f"{action.split('?', 1)[0]}?{data}", headers=headers)
    _, after = fetch(opener, request, timeout, "the login")
    if find_password_input(after, form.password_field) is not None:
        raise LoginError(
            "the page after logging in still asks for a password; check auth.form.username "
            f"and ${form.password_env}"
        )
    cookies = site_cookies(jar, urlsplit(page_url).hostname or "")
    if not cookies:
        raise LoginError("the site set no session cookie, so there is no session to crawl with")
    return cookies


def fetch(
    opener: urllib.request.OpenerDirector,
    request: urllib.request.Request,
    timeout: float,
    what: str,
) -> tuple[str, BeautifulSoup]:
    """The final URL and parsed page of a request, redirects followed."""
    try:
        with opener.open(request, timeout=timeout) as response:
            body = response.read(MAX_LOGIN_PAGE_BYTES)
            charset = response.headers.get_content_charset()
            return response.geturl(), BeautifulSoup(body, "lxml", from_encoding=charset)
    except urllib.error.HTTPError as err:
        err.close()
        raise LoginError(f"{what} answered HTTP status {err.code}") from None
    except urllib.error.URLError as err:
        raise LoginError(f"could not reach {what}: {err.reason}") from None
    except OSError as err:  # timeouts and dropped connections while reading
        raise LoginError(f"could not reach {what}: {err}") from None


def find_password_input(page: BeautifulSoup, name: str) -> Tag | None:
    found = page.find("input", attrs={"name": name})
    return found if isinstance(found, Tag) else None


def find_login_form(page: BeautifulSoup, form: FormLoginConfig) -> Tag:
    """The form that holds the configured password field, with the username field too."""
    password = find_password_input(page, form.password_field)
    if password is None:
        raise LoginError(
            f"the login page has no password field named {form.password_field!r}; "
            "check auth.form.password_field and auth.form.url"
        )
    login_form = password.find_parent("form")
    if login_form is None:
        raise LoginError(f"the password field {form.password_field!r} is in no form")
    if (
        login_form.find(["input", "select", "textarea"], attrs={"name": form.username_field})
        is None
    ):
        raise LoginError(
            f"the login form has no field named {form.username_field!r}; "
            "check auth.form.username_field"
        )
    return login_form


def form_fields(login_form: Tag) -> list[tuple[str, str]]:
    """What a browser would submit besides the credentials: hidden CSRF tokens and the like."""
    fields: list[tuple[str, str]] = []
    for element in login_form.find_all(["input", "select", "textarea"]):
        name = element.get("name")
        if not name or element.has_attr("disabled"):
            continue
        if element.name == "textarea":
            fields.append((str(name), element.get_text()))
        elif element.name == "select":
            option = element.find("option", selected=True) or element.find("option")
            if option is not None:
                fields.append((str(name), str(option.get("value", option.get_text()))))
        else:
            kind = str(element.get("type", "text")).lower()
            if kind in UNSUBMITTED_TYPES or (
                kind in ("checkbox", "radio") and not element.has_attr("checked")
            ):
                continue
            fields.append(
                (str(name), str(element.get("value", "on" if kind == "checkbox" else "")))
            )
    # The first named submit button, as if clicked: some sites (Drupal's "op") expect it.
    button = login_form.find(
        lambda tag: (
            tag.name in ("button", "input")
            and tag.has_attr("name")
            and str(tag.get("type", "submit" if tag.name == "button" else "text")).lower()
            == "submit"
        )
    )
    if button is not None:
        fields.append((str(button["name"]), str(button.get("value", ""))))
    return fields


def check_action(action: str, page_url: str, allowed_domains: tuple[str, ...]) -> None:
    """The password goes only to an allowed host, and never from HTTPS down to HTTP."""
    parts = urlsplit(action)
    if parts.scheme not in ("http", "https") or not host_allowed(action, allowed_domains):
        raise LoginError(
            f"the login form sends the password to {parts.hostname or 'no web host'}, outside the "
            "allowed domains; siteaudit sends it nowhere else"
        )
    if urlsplit(page_url).scheme == "https" and parts.scheme == "http":
        raise LoginError("the login form would send the password unencrypted (over http)")


def site_cookies(jar: http.cookiejar.CookieJar, host: str) -> dict[str, str]:
    """The cookies the jar would send back to the login host: its session."""
    cookies = {}
    for cookie in jar:
        domain = cookie.domain.lstrip(".").lower()
        if "." not in host:
            # The cookie jar files cookies of dotless hosts (localhost) under HOST.local.
            domain = domain.removesuffix(".local")
        if cookie.value is not None and (host == domain or host.endswith("." + domain)):
            cookies[cookie.name] = cookie.value
    return cookies
