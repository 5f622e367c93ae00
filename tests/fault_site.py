"""A site on 127.0.0.1 whose pages fail in the ways the real web does.

Reasons a scanner should record for a page (the values of FAULT_PAGES):

- ``audited``: the page loads (perhaps after honouring Retry-After) and is audited normally.
- ``timeout``: no response headers arrived within the download timeout.
- ``http-<status>``: the final response was an HTTP error, e.g. ``http-404``, ``http-500``,
  ``http-503``.
- ``connection-reset``: the server reset the TCP connection without responding.
- ``truncated``: the connection closed before the body reached its Content-Length.
- ``redirect-loop``: a redirect led back to a URL already visited.
- ``too-many-redirects``: more redirect hops than the scanner allows.
- ``too-large``: the body exceeds the scanner's page size limit.
- ``page-hung``: the page's own script never lets the browser finish.
- ``browser-crashed``: the page crashed the browser's renderer.
- ``trap``: one of an endless run of generated URLs that the scanner must stop following.
- ``blocked``: a bot-protection (WAF) challenge came back instead of the page.
"""

from __future__ import annotations

import contextlib
import functools
import re
import secrets
import socket
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html import escape
from urllib.parse import SplitResult

from tests import recording
from tests.recording import HTML, RecordingHandler, RecordingServer, serve

REASONS = frozenset(
    {
        "audited",
        "timeout",
        "http-404",
        "http-500",
        "http-503",
        "connection-reset",
        "truncated",
        "redirect-loop",
        "too-many-redirects",
        "too-large",
        "page-hung",
        "browser-crashed",
        "navigated-away",
        "trap",
        "blocked",
    }
)

# Exactly the pages the home page links to.
FAULT_PAGES: dict[str, str] = {
    "/ok.html": "audited",
    "/slow.html": "timeout",
    "/error-500.html": "http-500",
    "/unavailable.html": "audited",
    "/always-503.html": "http-503",
    "/rate-limited.html": "audited",
    "/reset.html": "connection-reset",
    "/truncated.html": "truncated",
    "/redirect-loop.html": "redirect-loop",
    "/redirect-chain.html": "too-many-redirects",
    "/big.html": "too-large",
    "/latin1.html": "audited",
    "/mislabelled.html": "audited",
    "/endless-script.html": "page-hung",
    "/alert.html": "audited",
    "/navigates-away.html": "navigated-away",  # refused: the browser stays on the page
    "/crash.html": "browser-crashed",
    "/calendar/2026/11": "trap",
    "/session/page?sid=home": "trap",
    "/schemes.html": "audited",
    "/not-found.html": "http-404",
}

# Served but not linked from the home page, so a crawl of the fault site never meets them.
UNLINKED_PAGES: dict[str, str] = {"/challenge/1": "blocked"}

CHAIN_HOPS = 25
BIG_PAGE_BYTES = 10 * 1024 * 1024
TRUNCATED_CLAIMED = 5000
TRUNCATED_SENT = 100
RETRY_AFTER = ("Retry-After", "1")
SCHEME_LINKS = (
    "javascript:void(0)",
    "mailto:council@example.gov.uk",
    "tel:+441234567890",
    "file:///etc/passwd",
)


@dataclass
class FaultSite:
    base: str
    server: RecordingServer

    def url(self, path: str = "/") -> str:
        return self.base + path

    @property
    def access_log(self) -> list[str]:
        """Every request so far as "METHOD /path?query", in the order they arrived."""
        return self.server.log()

    def requests_for(self, path: str) -> int:
        """How many requests (any method) the site has had for `path`, query included."""
        return self.server.requests_for(path)


class FaultServer(RecordingServer):
    slow_seconds = 8.0


class FaultHandler(RecordingHandler):
    server: FaultServer
    server_header = ""

    def version_string(self) -> str:
        return self.server_header or super().version_string()

    def dispatch(self) -> None:
        self.server_header = ""  # a keep-alive connection may follow a challenge with a page
        super().dispatch()


Handler = Callable[[FaultHandler, SplitResult], None]


def page(title: str, body: str, *, head: str = "", charset: str | None = "utf-8") -> str:
    """A small valid, accessible page; `body` goes inside <main> after the <h1>."""
    return recording.page(title, body, head=head, charset=charset, site="Fault Council")


def send_page(h: FaultHandler, title: str, body: str, status: int = 200) -> None:
    h.send_body(status, page(title, body).encode())


def home(h: FaultHandler, url: SplitResult) -> None:
    items = "".join(f'<li><a href="{escape(p)}">{escape(p)}</a></li>\n' for p in FAULT_PAGES)
    send_page(h, "Fault Council home", f"<p>Pages that fail.</p>\n<ul>\n{items}</ul>")


def ok(h: FaultHandler, url: SplitResult) -> None:
    send_page(h, "An ordinary page", "<p>Nothing is wrong with this page.</p>")


def slow(h: FaultHandler, url: SplitResult) -> None:
    # An Event wait rather than sleep, so shutting the server down wakes it at once.
    if h.server.stopping.wait(h.server.slow_seconds):
        h.close_connection = True  # shutting down: hang up unanswered
        return
    send_page(h, "A slow page", "<p>This page took a long time to start.</p>")


def error_500(h: FaultHandler, url: SplitResult) -> None:
    send_page(h, "Server error", "<p>Something went wrong.</p>", status=500)


def service_unavailable(h: FaultHandler, url: SplitResult) -> None:
    body = page("Service unavailable", "<p>Try again shortly.</p>").encode()
    h.send_body(503, body, headers=(RETRY_AFTER,))


def unavailable(h: FaultHandler, url: SplitResult) -> None:
    if h.server.hit(url.path) == 1:
        return service_unavailable(h, url)
    send_page(h, "Available again", "<p>This page is back after one 503.</p>")


def rate_limited(h: FaultHandler, url: SplitResult) -> None:
    if h.server.hit(url.path) <= 2:
        body = page("Too many requests", "<p>Slow down.</p>").encode()
        return h.send_body(429, body, headers=(RETRY_AFTER,))
    send_page(h, "No longer rate limited", "<p>This page is back after two 429s.</p>")


def reset(h: FaultHandler, url: SplitResult) -> None:
    # SO_LINGER on with a zero timeout makes close() send RST, not FIN. The descriptor is
    # really closed when the handler releases rfile, before socketserver's shutdown() can
    # send a FIN (that shutdown then fails quietly on the closed socket).
    h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    h.connection.close()
    h.close_connection = True


def truncated(h: FaultHandler, url: SplitResult) -> None:
    body = page("A truncated page", "<p>" + "Cut short. " * 500 + "</p>").encode()
    h.send_response(200)
    h.send_header("Content-Type", HTML)
    h.send_header("Content-Length", str(TRUNCATED_CLAIMED))
    h.end_headers()
    h.wfile.write(body[:TRUNCATED_SENT])
    h.close_connection = True  # the FIN after 100 bytes is the fault


def redirect_loop(h: FaultHandler, url: SplitResult) -> None:
    h.redirect("/redirect-loop-2.html")


def redirect_loop_2(h: FaultHandler, url: SplitResult) -> None:
    h.redirect("/redirect-loop.html")


def redirect_chain(h: FaultHandler, url: SplitResult) -> None:
    h.redirect("/chain/1")


def chain(h: FaultHandler, url: SplitResult) -> None:
    """/chain/N redirects to /chain/N+1; /chain/25 is a page, after 25 hops in all."""
    hop = url.path.removeprefix("/chain/")
    if not hop.isdigit() or not 1 <= int(hop) <= CHAIN_HOPS:
        return not_found(h, url)
    if int(hop) < CHAIN_HOPS:
        return h.redirect(f"/chain/{int(hop) + 1}")
    send_page(h, "End of the chain", f"<p>You followed {CHAIN_HOPS} redirects.</p>")


@functools.cache
def big_page() -> bytes:
    paragraph = (
        "<p>The council publishes its minutes, agendas and decisions here so that residents "
        "can see what was decided, when, and why.</p>\n"
    )
    count = BIG_PAGE_BYTES // len(paragraph) + 1
    return page("A very large page", paragraph * count).encode()


def big(h: FaultHandler, url: SplitResult) -> None:
    h.send_body(200, big_page())


def latin1(h: FaultHandler, url: SplitResult) -> None:
    html = page("Café prices", "<p>Lunch at the café £5 a head.</p>", charset="iso-8859-1")
    h.send_body(200, html.encode("iso-8859-1"), "text/html; charset=iso-8859-1")


def mislabelled(h: FaultHandler, url: SplitResult) -> None:
    # windows-1252 bytes (0x93, 0x94, 0x92, 0xA3) that are invalid as the UTF-8 the header
    # claims, with no <meta charset> to contradict it.
    text = "<p>\u201cIt\u2019s only £5,\u201d said the clerk.</p>"
    h.send_body(200, page("Mislabelled text", text, charset=None).encode("windows-1252"))


def endless_script(h: FaultHandler, url: SplitResult) -> None:
    body = "<p>The script below never finishes.</p>\n<script>for(;;){}</script>"
    send_page(h, "A page that hangs", body)


def alert(h: FaultHandler, url: SplitResult) -> None:
    # In <head>, so the dialogs open before the content is parsed.
    head = '<script>alert("hello"); confirm("sure?")</script>\n'
    h.send_body(200, page("A page with dialogs", "<p>Dismiss them.</p>", head=head).encode())


def navigates_away(h: FaultHandler, url: SplitResult) -> None:
    # It leaves while it loads, so the attempt comes before axe-core runs however fast the
    # machine; a page that leaves only once audited was audited as itself.
    script = '<script>location.href = "/ok.html";\nwindow.open("/ok.html");</script>'
    send_page(h, "A page that leaves", f"<p>This page leaves as it loads.</p>\n{script}")


def crash(h: FaultHandler, url: SplitResult) -> None:
    # Chromium may refuse chrome://crash from a web page; unbounded allocation then kills the
    # renderer out of memory instead.
    scripts = (
        '<script>location.href = "chrome://crash"</script>\n'
        "<script>let a=[]; for(;;) a.push(new Array(1e6).fill(0.5));</script>"
    )
    send_page(h, "A page that crashes", f"<p>This page crashes the renderer.</p>\n{scripts}")


CALENDAR = re.compile(r"/calendar/(\d+)/(\d{1,2})")


def calendar(h: FaultHandler, url: SplitResult) -> None:
    """Any month links to the next, for ever: a classic crawler trap."""
    match = CALENDAR.fullmatch(url.path)
    if not match or not 1 <= int(match[2]) <= 12:
        return not_found(h, url)
    year, month = int(match[1]), int(match[2])
    after = (year + 1, 1) if month == 12 else (year, month + 1)
    link = f'<a href="/calendar/{after[0]}/{after[1]:02d}">Next month</a>'
    send_page(h, f"Events in {year}-{month:02d}", f"<p>No events.</p>\n<p>{link}</p>")


def session(h: FaultHandler, url: SplitResult) -> None:
    # A fresh session id in every link makes every page look new to a crawler.
    link = f'<a href="/session/page?sid={secrets.token_hex(8)}">Continue</a>'
    send_page(h, "Your session", f"<p>{link}</p>")


def schemes(h: FaultHandler, url: SplitResult) -> None:
    items = "".join(f'<li><a href="{escape(u)}">{escape(u)}</a></li>\n' for u in SCHEME_LINKS)
    send_page(h, "Links that are not web pages", f"<ul>\n{items}</ul>")


def not_found(h: FaultHandler, url: SplitResult) -> None:
    send_page(h, "Page not found", "<p>There is no page here.</p>", status=404)


def robots(h: FaultHandler, url: SplitResult) -> None:
    h.send_body(200, b"User-agent: *\nAllow: /\nCrawl-delay: 0\n", "text/plain; charset=utf-8")


CHALLENGE = """<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="UTF-8">
<title>Attention Required! | Cloudflare</title>
</head>
<body>
<div id="cf-wrapper">
<h1>Sorry, you have been blocked</h1>
<h2>Access denied</h2>
<p>This website is using a security service to protect itself from online attacks.</p>
<p>Cloudflare Ray ID: <strong>8f1c2d3e4a5b6c7d</strong></p>
</div>
</body>
</html>
"""


def challenge(h: FaultHandler, url: SplitResult) -> None:
    # Headers as Cloudflare sends them, so either the body or the headers can give it away.
    h.server_header = "cloudflare"
    headers = (("CF-RAY", "8f1c2d3e4a5b6c7d-LHR"), ("cf-mitigated", "challenge"))
    h.send_body(403, CHALLENGE.encode(), headers=headers)


ROUTES: dict[str, Handler] = {
    "/": home,
    "/ok.html": ok,
    "/slow.html": slow,
    "/error-500.html": error_500,
    "/unavailable.html": unavailable,
    "/always-503.html": service_unavailable,
    "/rate-limited.html": rate_limited,
    "/reset.html": reset,
    "/truncated.html": truncated,
    "/redirect-loop.html": redirect_loop,
    "/redirect-loop-2.html": redirect_loop_2,
    "/redirect-chain.html": redirect_chain,
    "/big.html": big,
    "/latin1.html": latin1,
    "/mislabelled.html": mislabelled,
    "/endless-script.html": endless_script,
    "/alert.html": alert,
    "/navigates-away.html": navigates_away,
    "/crash.html": crash,
    "/session/page": session,
    "/schemes.html": schemes,
    "/not-found.html": not_found,
    "/robots.txt": robots,
    "/calendar/*": calendar,
    "/chain/*": chain,
    "/challenge/*": challenge,
    "*": not_found,
}


@contextlib.contextmanager
def serve_faults(slow_seconds: float = 8.0) -> Iterator[FaultSite]:
    """Serve the fault site on a free port of 127.0.0.1 in a daemon thread."""
    with serve(ROUTES, handler=FaultHandler, server_class=FaultServer) as server:
        server.slow_seconds = slow_seconds  # before anyone knows its address
        yield FaultSite(server.base, server)
