"""Staging-site credentials sent with requests to the allowed hosts, and taken off all others."""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import NotConfigured
from scrapy.http import Request

from crawler.context import crawl_context
from crawler.credentials import Credentials
from vocabulary.urls import host_allowed


class AuthMiddleware:
    """Adds the staging site's credentials to requests for the allowed domains only, and
    takes them off any other request.

    Scrapy's redirects keep custom headers (it drops only Cookie and Authorization when
    the host changes), so a request that a redirect sends to another host may still carry
    them: every request passes through here again, redirected ones included.
    """

    def __init__(self, credentials: Credentials, allowed_domains: tuple[str, ...]) -> None:
        self.credentials = credentials
        self.allowed_domains = allowed_domains

    @classmethod
    def from_crawler(cls, crawler: Any) -> AuthMiddleware:
        context = crawl_context(crawler)
        if not context.credentials:
            raise NotConfigured
        return cls(context.credentials, context.allowed_domains)

    def process_request(self, request: Request) -> None:
        credentials = self.credentials
        if not host_allowed(request.url, self.allowed_domains):
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
