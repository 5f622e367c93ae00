"""The tests' one local web server: a ThreadingHTTPServer on 127.0.0.1:0 that records requests.

A site is a dict of routes, path to handler; a route ending in ``*`` matches every path
that starts with what comes before it. Each handler is called with the request's handler
(``h``, for ``h.send_body``, ``h.redirect``, ``h.server``) and the parsed path, after the
request was recorded: method, path with query, headers, body, and when it arrived and left.
"""

from __future__ import annotations

import contextlib
import http.server
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html import escape
from urllib.parse import SplitResult, urlsplit

HTML = "text/html; charset=utf-8"


@dataclass
class Recorded:
    """One request as the server saw it."""

    method: str
    path: str  # with its query
    headers: dict[str, str]
    body: bytes = b""
    arrived: float = 0.0  # time.monotonic()
    left: float = field(default=0.0, compare=False)  # when the answer was sent (or given up)
    status: int = field(default=0, compare=False)  # the status answered, 0 for none


class RecordingServer(http.server.ThreadingHTTPServer):
    # A handler stuck behind a client that never reads must not keep the test process alive.
    daemon_threads = True
    # socketserver's backlog of 5 makes a crawler's extra connects wait out a 1 s SYN retry.
    request_queue_size = 128

    def __init__(
        self,
        routes: dict[str, Route],
        handler: type[RecordingHandler] | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(("127.0.0.1", 0), handler or RecordingHandler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.scheme = "https" if tls else "http"
        self.routes = routes
        self.requests: list[Recorded] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()  # set first on shutdown, to wake waiting handlers
        self.peer_base = ""  # another server's base URL, for pages that point there
        self._hits: Counter[str] = Counter()

    @property
    def base(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_port}"

    def url(self, path: str = "/") -> str:
        return self.base + path

    def record(self, request: Recorded) -> None:
        with self.lock:
            self.requests.append(request)

    def hit(self, path: str) -> int:
        """Count a request for `path`; how many there have been, this one included."""
        with self.lock:
            self._hits[path] += 1
            return self._hits[path]

    def log(self) -> list[str]:
        """Every request so far as "METHOD /path?query", in the order they arrived."""
        with self.lock:
            return [f"{r.method} {r.path}" for r in self.requests]

    def requests_for(self, path: str) -> int:
        """How many requests (any method) there have been for `path`, query included."""
        with self.lock:
            return sum(1 for r in self.requests if r.path == path)

    def route(self, path: str) -> Route:
        if path in self.routes:
            return self.routes[path]
        for prefix, handler in self.routes.items():
            if prefix.endswith("*") and path.startswith(prefix[:-1]):
                return handler
        return not_found


class RecordingHandler(http.server.BaseHTTPRequestHandler):
    server: RecordingServer
    # Keep-alive, as real servers do, so a crawler's connection reuse is exercised too.
    protocol_version = "HTTP/1.1"
    # An idle keep-alive connection eventually frees its thread.
    timeout = 30
    recorded = Recorded("", "", {})  # the request being answered

    def log_message(self, format: str, *args: object) -> None:
        pass  # tests read server.requests; keep test output clean

    def handle(self) -> None:
        # Clients that give up mid-response (size limits, timeouts) are part of many tests.
        with contextlib.suppress(ConnectionError, TimeoutError):
            super().handle()

    def do_GET(self) -> None:
        self.dispatch()

    def do_HEAD(self) -> None:
        self.dispatch()

    def do_POST(self) -> None:
        self.dispatch()

    def dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        # Recorded before it is answered, so requests that never get an answer count too.
        request = Recorded(
            self.command, self.path, dict(self.headers.items()), body, time.monotonic()
        )
        self.server.record(request)
        self.recorded = request
        url = urlsplit(self.path)
        try:
            self.server.route(url.path)(self, url)
        finally:
            request.left = time.monotonic()

    def send_response(self, code: int, message: str | None = None) -> None:
        self.recorded.status = code
        super().send_response(code, message)

    def send_body(
        self,
        status: int,
        body: bytes,
        content_type: str = HTML,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def redirect(self, location: str, status: int = 302) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


Route = Callable[[RecordingHandler, SplitResult], None]


def page(title: str, body: str, *, head: str = "", charset: str | None = "utf-8", site: str) -> str:
    """A small valid, accessible page of `site`; `body` goes inside <main> after the <h1>."""
    meta = f'<meta charset="{charset}">\n' if charset else ""
    return (
        f'<!doctype html>\n<html lang="en">\n<head>\n{meta}'
        f"<title>{escape(title)} - {escape(site)}</title>\n{head}</head>\n"
        f"<body>\n<main>\n<h1>{escape(title)}</h1>\n{body}\n</main>\n</body>\n</html>\n"
    )


def not_found(h: RecordingHandler, url: SplitResult) -> None:
    h.send_body(404, b"not here", "text/plain; charset=utf-8")


@contextlib.contextmanager
def serve(
    routes: dict[str, Route],
    *,
    handler: type[RecordingHandler] | None = None,
    tls: ssl.SSLContext | None = None,
    server_class: type[RecordingServer] = RecordingServer,
) -> Iterator[RecordingServer]:
    """Serve `routes` on a free port of 127.0.0.1 in a daemon thread, recording requests."""
    server = server_class(routes, handler, tls)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="test-site", daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()  # wake waiting handlers first, so none waits out its time
        server.shutdown()
        server.server_close()


def static(
    pages: dict[str, str | bytes], content_type: Callable[[str], str] | None = None
) -> dict[str, Route]:
    """Routes that answer each path in `pages` with its text (200), HTML unless told."""

    def answer(h: RecordingHandler, url: SplitResult) -> None:
        text = pages[h.path] if h.path in pages else pages[url.path]
        body = text.encode() if isinstance(text, str) else text
        h.send_body(200, body, content_type(url.path) if content_type else HTML)

    return dict.fromkeys(pages, answer)


def by_suffix(path: str) -> str:
    """A content type from the path's ending, as a static file server would say."""
    for suffix, kind in ((".css", "text/css"), (".png", "image/png"), (".txt", "text/plain")):
        if path.endswith(suffix):
            return kind
    return HTML
