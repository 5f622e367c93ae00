"""A staging site's form login: a short crawl of its own, for the session cookies it sets."""

from __future__ import annotations

import http.cookiejar
import logging
import multiprocessing
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from parsel import Selector
from scrapy.crawler import CrawlerProcess
from scrapy.downloadermiddlewares.cookies import CookiesMiddleware
from scrapy.http import FormRequest, Response, TextResponse
from twisted.python.failure import Failure

from crawler.context import CrawlContext, crawl_context
from crawler.login_form import (
    LoginError,
    check_action,
    find_login_form,
    find_password_input,
    form_fields,
    site_cookies,
)
from crawler.middlewares import OffsiteRedirect
from crawler.reasons import describe_failure, reason_for_failure
from settings.loader import ConfigError
from settings.model import FormLoginConfig
from vocabulary.urls import host_allowed

log = logging.getLogger(__name__)

# A login page is small; reading more would only be a misconfigured URL.
MAX_LOGIN_PAGE_BYTES = 4 * 1024 * 1024
# After the form is sent, these redirects are followed as a browser would, with a GET;
# 307 and 308 would send the password again, so they are refused.
FOLLOWED_AFTER_POST = (301, 302, 303)
REDIRECTS = [*FOLLOWED_AFTER_POST, 307, 308]
# Errors reach the callbacks, to be reported with their status.
ERROR_STATUSES = list(range(400, 600))


@dataclass(kw_only=True)
class LoginContext(CrawlContext):
    """What the login's crawl is given, and what it ends with: a session, or why not."""

    form: FormLoginConfig
    password: str = field(repr=False)
    session: dict[str, str] = field(default_factory=dict, repr=False)
    failure: str | None = None


def log_in(context: LoginContext, settings: dict[str, Any]) -> dict[str, str]:
    """Log in through the site's login form; return the session cookies (name -> value).

    The login is a crawl of its own, with the scan's crawl settings: its resolver that
    refuses private addresses, its TLS checks, user agent, credentials and redirect rules.
    It runs in a child process, because Twisted's reactor runs once in a process, and the
    session must be known before Chromium starts and before the scan is recorded, which
    both happen before the scan's crawl. Raises ConfigError if the login page is off-site,
    LoginError if the login fails.
    """
    check_login_url(context.form, context.allowed_domains)
    fork = multiprocessing.get_context("fork")
    answers, answer = fork.Pipe(duplex=False)
    child = fork.Process(
        target=crawl_login, args=(context, settings, answer), name="siteaudit-login"
    )
    child.start()
    answer.close()
    try:
        session, failure = answers.recv()
    except EOFError:
        session, failure = {}, f"the login stopped unexpectedly (exit code {child.exitcode})"
    finally:
        child.join()
    if failure is not None:
        raise LoginError(f"form login at {context.form.url} failed: {failure}")
    # Cookie names only: their values are credentials, like the password.
    log.info("form login at %s: signed in, cookies %s", context.form.url, ", ".join(session))
    return session


def crawl_login(context: LoginContext, settings: dict[str, Any], answer: Connection) -> None:
    """In the child process: crawl the login, and send back its session or its failure."""
    process = CrawlerProcess({**settings, **LOGIN_SETTINGS})
    crawler = process.create_crawler(LoginSpider)
    crawler.siteaudit = context  # read by every component's from_crawler (crawler/context.py)
    process.crawl(crawler)
    process.start()
    if context.failure is None and not context.session:
        context.failure = "the login crawl ended before signing in"
    answer.send((context.session, context.failure))
    answer.close()


# The scan's settings, less what only a scan has: its item pipelines and progress display.
LOGIN_SETTINGS: dict[str, Any] = {
    "ITEM_PIPELINES": {},
    "SITEAUDIT_PROGRESS": False,
    "CLOSESPIDER_TIMEOUT": 0,
}


def check_login_url(form: FormLoginConfig, allowed_domains: tuple[str, ...]) -> None:
    if not host_allowed(form.url, allowed_domains):
        host = urlsplit(form.url).hostname
        raise ConfigError(
            f"auth.form.url: {host} is not one of the allowed domains "
            f"({', '.join(allowed_domains)}); give the scanned site's login page, "
            f"or add {host} to site.allowed_domains"
        )


class LoginSpider(scrapy.Spider):
    """Fetch the login page, submit its form as a browser would, and check it worked.

    Basic auth and extra headers go with every request (AuthMiddleware), all of them to
    allowed hosts, since the login page, the form's action and every redirect must be.
    """

    name = "login"

    def __init__(self, context: LoginContext, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.context, self.form = context, context.form

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> LoginSpider:
        context = crawl_context(crawler)
        assert isinstance(context, LoginContext)
        spider = cls(context, *args, **kwargs)
        spider._set_crawler(crawler)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(
            self.form.url,
            callback=self.submit_form,
            errback=self.failed,
            meta=login_meta("the login page"),
            dont_filter=True,
        )

    def submit_form(self, response: Response) -> Iterator[scrapy.Request]:
        """Fill in the form that holds the password field, and send it to its action."""
        page = self.page_of(response)
        if page is None:
            return
        try:
            login_form = find_login_form(page, self.form)
            fields = [
                (k, v)
                for k, v in form_fields(login_form)
                if k not in (self.form.username_field, self.form.password_field)
            ]
            action = urljoin(response.url, (login_form.attrib.get("action") or "").strip())
            check_action(action, response.url, self.context.allowed_domains)
        except LoginError as err:
            self.fail(str(err))
            return
        fields += [(self.form.username_field, self.form.username)]
        fields += [(self.form.password_field, self.context.password)]
        method = "POST" if login_form.attrib.get("method", "get").lower() == "post" else "GET"
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(response.url))
        meta = login_meta("the login", handle=REDIRECTS + ERROR_STATUSES)
        # A GET form puts the password in the query (in place of the action's), as a browser
        # would.
        yield FormRequest(
            action,
            method=method,
            formdata=fields,
            headers={"Referer": response.url, "Origin": origin},  # CSRF checks such as Django's
            meta={**meta, "dont_redirect": True, "dont_retry": True, "page_url": response.url},
            callback=self.after_login,
            errback=self.failed,
            dont_filter=True,
        )

    def after_login(self, response: Response) -> Iterator[scrapy.Request]:
        """Follow the answer's redirect with a GET; then check the page no longer asks for a
        password, and keep the cookies the site now holds for the login host."""
        page_url = response.meta["page_url"]
        if response.status in REDIRECTS:
            yield from self.follow(response, page_url)
            return
        page = self.page_of(response)
        if page is None:
            return
        if find_password_input(page, self.form.password_field) is not None:
            self.fail(
                "the page after logging in still asks for a password; check "
                f"auth.form.username and ${self.form.password_env}"
            )
            return
        cookies = site_cookies(login_cookies(self.crawler), urlsplit(page_url).hostname or "")
        if cookies:
            self.context.session = cookies
        else:
            self.fail("the site set no session cookie, so there is no session to crawl with")

    def follow(self, response: Response, page_url: str) -> Iterator[scrapy.Request]:
        location = response.headers.get("Location", b"").decode("latin-1")
        target = urljoin(response.url, location)
        if response.status not in FOLLOWED_AFTER_POST or not location:
            self.fail(f"the login answered HTTP status {response.status}")
        elif not host_allowed(target, self.context.allowed_domains):
            self.fail(f"it redirected to {urlsplit(target).hostname}, outside the allowed domains")
        else:
            meta = {**login_meta("the login"), "page_url": page_url}
            yield scrapy.Request(target, callback=self.after_login, errback=self.failed, meta=meta)

    def page_of(self, response: Response) -> Selector | None:
        """The HTML of a login response; None, and the login failed, if its status is an error."""
        if response.status >= 400:
            self.fail(f"{response.meta['what']} answered HTTP status {response.status}")
            return None
        text = response.text if isinstance(response, TextResponse) else ""
        return Selector(text=text or "<html></html>")

    def failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        if isinstance(failure.value, OffsiteRedirect):
            # Only the host: a GET form's redirect target may carry the password in its query.
            host = urlsplit(failure.value.target).hostname
            self.fail(f"it redirected to {host}, outside the allowed domains")
        elif "page_url" in request.meta:
            # The form was sent: a GET form's URL holds the password, and Scrapy's error
            # messages quote the URL, so only the reason is given.
            self.fail(f"could not reach {request.meta['what']}: {reason_for_failure(failure)}")
        else:
            self.fail(f"could not reach {request.meta['what']}: {describe_failure(failure)}")

    def fail(self, why: str) -> None:
        if self.context.failure is None:
            self.context.failure = why


def login_meta(what: str, handle: Iterable[int] = ERROR_STATUSES) -> dict[str, Any]:
    """A login request's meta: what it is, for errors, and how it is fetched."""
    return {
        "kind": "login",
        "what": what,
        # Not crawling: the login page is the one the user named, whatever robots.txt says
        # (Drupal's disallows /user/login).
        "dont_obey_robotstxt": True,
        "download_maxsize": MAX_LOGIN_PAGE_BYTES,
        "handle_httpstatus_list": list(handle),
    }


def login_cookies(crawler: Any) -> Iterable[http.cookiejar.Cookie]:
    """The cookies the login's crawl holds: Scrapy's cookie middleware keeps them."""
    for middleware in crawler.engine.downloader.middleware.middlewares:
        if isinstance(middleware, CookiesMiddleware):
            return middleware.jars[None]
    return ()
