"""The fixed list of reasons a URL was not audited, from the failures that cause them.

| reason | meaning |
|---|---|
| `audited` | fetched and audited (in the browser, or read with --no-browser) |
| `http-NNN` | the server answered status NNN (4xx or 5xx), after any retries |
| `timeout` | no complete response within site.timeout seconds |
| `connection-refused` | nothing listening at that address |
| `connection-reset` | the server closed or reset the connection without an answer |
| `dns-failure` | the host name does not resolve |
| `tls-error` | the HTTPS certificate or handshake failed |
| `truncated` | the body was shorter than its Content-Length |
| `too-large` | larger than the download limit, as received or once decompressed |
| `redirect-loop` | redirects that come back to a URL already visited |
| `offsite-redirect` | redirects off the allowed domains (its target is link-checked) |
| `too-many-redirects` | more than 10 redirects |
| `disallowed-by-robots` | robots.txt asks crawlers not to fetch it |
| `private-network` | not fetched: an address on a private network, not in site.private_hosts |
| `trap` | not fetched: a crawler trap (endless calendars, session ids, repeating paths) |
| `blocked` | a firewall or bot challenge stopped serving the crawler |
| `page-hung` | the page did not finish loading, or axe-core did not finish, in time |
| `navigated-away` | the page tried to go elsewhere (script, meta refresh, form): not audited |
| `page-too-complex` | reading took over audit.read_timeout s, or over audit.max_elements |
| `browser-crashed` | the page crashed the browser's tab |
| `audit-tampered` | axe-core's result held a rule id, impact or help URL it never gives |
| `browser-error` | another browser failure |
| `fetch-error` | another download failure |
"""

from __future__ import annotations

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
    StopDownload,
)
from twisted.python.failure import Failure

from audits.accessibility import REJECTED
from crawler.middlewares import OffsiteRedirect

EXCEPTION_REASONS = (
    (DownloadTimeoutError, "timeout"),
    (DownloadConnectionRefusedError, "connection-refused"),
    (CannotResolveHostError, "dns-failure"),
    (ResponseDataLossError, "truncated"),
    (StopDownload, "too-large"),  # the spider stops only pages over the size limit
)


def reason_for_status(status: int) -> str | None:
    return f"http-{status}" if status >= 400 else None


def reason_for_failure(failure: Failure) -> str:
    """One reason from the list for a failed download."""
    value = failure.value
    for kind, reason in EXCEPTION_REASONS:
        if isinstance(value, kind):
            return reason
    text = str(value).lower()
    if isinstance(value, IgnoreRequest):
        return ignore_reason(failure, text)
    if isinstance(value, DownloadCancelledError) or "maxsize" in text or "exceeds" in text:
        return "too-large"
    if "ssl" in text or "certificate" in text or "tls" in text:
        return "tls-error"
    if isinstance(value, DownloadFailedError) or "reset" in text or "lost" in text:
        return (
            "connection-reset"
            if ("reset" in text or "lost" in text or "closed" in text or "not cleanly" in text)
            else "fetch-error"
        )
    return "fetch-error"


def describe_failure(failure: Failure) -> str:
    """One short phrase for why a fetch failed."""
    value = failure.value
    if isinstance(value, IgnoreRequest):
        text = str(value) or "ignored"
        return "disallowed by robots.txt" if "robots" in text.lower() else f"not fetched: {text}"
    name = type(value).__name__
    text = str(value).splitlines()[0] if str(value) else ""
    if "certificate verify failed" in text:
        return (
            "the HTTPS certificate is not trusted (certificate verify failed); if the site "
            "uses its own certificate authority, set site.ca_file to its PEM file"
        )
    return f"{name}: {text}"[:300] if text else name


def ignore_reason(failure: Failure, text: str) -> str:
    if "download_maxsize" in text:  # HttpCompressionMiddleware: inflates past the limit
        return "too-large"
    if isinstance(failure.value, OffsiteRedirect):
        return "offsite-redirect"
    if "private network" in text:  # first: the message names the host, which may say robots
        return "private-network"
    if "robots" in text:
        return "disallowed-by-robots"
    if "redirect" in text:
        request = failure.request  # type: ignore[attr-defined]
        urls = [*request.meta.get("redirect_urls", []), request.url]
        return "redirect-loop" if len(set(urls)) < len(urls) else "too-many-redirects"
    return "fetch-error"


# The start of the error recorded for a page too large to audit in the browser.
TOO_MANY_ELEMENTS = "too many elements"


def reason_for_browser_error(error: str) -> str:
    """A reason from the browser pool's error text."""
    text = error.lower()
    if error.startswith(REJECTED):  # the page's own values follow: match nothing in them
        return "audit-tampered"
    if text.startswith(TOO_MANY_ELEMENTS):
        return "page-too-complex"
    if text.startswith("navigated away"):
        return "navigated-away"
    if "crash" in text:
        return "browser-crashed"
    if "did not finish" in text or "stopped responding" in text or "timed out" in text:
        return "page-hung"
    return "browser-error"
