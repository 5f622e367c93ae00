"""A login page's form read as a browser would fill it in, and the session cookies it leaves."""

from __future__ import annotations

import http.cookiejar
from collections.abc import Iterable
from urllib.parse import urlsplit

from parsel import Selector

from settings.model import FormLoginConfig
from vocabulary.urls import host_allowed

# Inputs a browser never submits by themselves (a named submit button is added separately).
UNSUBMITTED_TYPES = {"submit", "button", "image", "reset", "file"}


class LoginError(Exception):
    """The form login failed; the message names the login URL, the cause and what to check."""


def find_password_input(page: Selector, name: str) -> Selector | None:
    found = page.xpath("//input[@name=$name]", name=name)
    return found[0] if found else None


def find_login_form(page: Selector, form: FormLoginConfig) -> Selector:
    """The form that holds the configured password field, with the username field too."""
    password = find_password_input(page, form.password_field)
    if password is None:
        raise LoginError(
            f"the login page has no password field named {form.password_field!r}; "
            "check auth.form.password_field and auth.form.url"
        )
    forms = password.xpath("ancestor::form[1]")
    if not forms:
        raise LoginError(f"the password field {form.password_field!r} is in no form")
    login_form = forms[0]
    named = ".//*[self::input or self::select or self::textarea][@name=$name]"
    if not login_form.xpath(named, name=form.username_field):
        raise LoginError(
            f"the login form has no field named {form.username_field!r}; "
            "check auth.form.username_field"
        )
    return login_form


def form_fields(login_form: Selector) -> list[tuple[str, str]]:
    """What a browser would submit besides the credentials: hidden CSRF tokens and the like."""
    fields: list[tuple[str, str]] = []
    for element in login_form.xpath(".//input|.//select|.//textarea"):
        name = element.attrib.get("name")
        if name and "disabled" not in element.attrib:
            fields += [(name, value) for value in field_value(element)]
    # The first named submit button, as if clicked: some sites (Drupal's "op") expect it.
    buttons = login_form.xpath(
        ".//button[@name][not(@type) or translate(@type, 'SUBMIT', 'submit') = 'submit']"
        "|.//input[@name][translate(@type, 'SUBMIT', 'submit') = 'submit']"
    )
    if buttons:
        fields.append((buttons[0].attrib["name"], buttons[0].attrib.get("value", "")))
    return fields


def field_value(element: Selector) -> list[str]:
    """The value an input, select or textarea submits: none, or one."""
    tag = element.root.tag
    if tag == "textarea":
        return ["".join(element.xpath(".//text()").getall())]
    if tag == "select":
        options = element.xpath(".//option[@selected]") or element.xpath(".//option")
        if not options:
            return []
        option = options[0]
        return [option.attrib.get("value", "".join(option.xpath(".//text()").getall()))]
    kind = element.attrib.get("type", "text").lower()
    if kind in UNSUBMITTED_TYPES or (
        kind in ("checkbox", "radio") and "checked" not in element.attrib
    ):
        return []
    return [element.attrib.get("value", "on" if kind == "checkbox" else "")]


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


def site_cookies(jar: Iterable[http.cookiejar.Cookie], host: str) -> dict[str, str]:
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
