"""A hostile website on 127.0.0.1: pages, files and redirects written to break a scan.

Each attack area is one module in this package (``reading``, ``files``, ``browser``,
``network``, ``outputs``, ``gate``), with a ``ROUTES`` dict mapping paths under
``/<area>/`` to handlers, and an ``INDEX`` list of the paths its own index page links to.
The site's home page links to every area's index, so a crawl of ``/`` meets every attack;
a test that needs only one area starts its scan at ``/<area>/``.

A second server on ``localhost`` (a different host from ``127.0.0.1``) records every
request with its headers: it stands for "another site", where no secret may ever arrive.
"""

from __future__ import annotations

import contextlib
import http.server
import importlib
import pkgutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html import escape
from types import ModuleType
from urllib.parse import SplitResult, urlsplit

HTML = "text/html; charset=utf-8"


@dataclass
class Recorded:
    """One request as the server saw it: method, path and query, and headers."""

    method: str
    path: str
    headers: dict[str, str]


@dataclass
class HostileSite:
    base: str
    other: str  # the "other host" (localhost), which records what reaches it
    requests: list[Recorded] = field(default_factory=list)
    other_requests: list[Recorded] = field(default_factory=list)

    def url(self, path: str = "/") -> str:
        return self.base + path

    def other_url(self, path: str = "/") -> str:
        return self.other + path


class HostileServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, routes: dict[str, Handler], recorded: list[Recorded]) -> None:
        super().__init__(("127.0.0.1", 0), HostileHandler)
        self.routes = routes
        self.recorded = recorded
        self.peer_base = ""  # the other server's base URL, for pages that point there
        self.own_base = ""
        self.stopping = threading.Event()
        self.lock = threading.Lock()


class HostileHandler(http.server.BaseHTTPRequestHandler):
    server: HostileServer
    protocol_version = "HTTP/1.1"
    timeout = 30

    def log_message(self, format: str, *args: object) -> None:
        pass

    def handle(self) -> None:
        with contextlib.suppress(ConnectionError, TimeoutError):
            super().handle()

    def do_GET(self) -> None:
        self.dispatch()

    def do_HEAD(self) -> None:
        self.dispatch()

    def do_POST(self) -> None:
        self.dispatch()

    def dispatch(self) -> None:
        with self.server.lock:
            self.server.recorded.append(
                Recorded(self.command, self.path, {k: v for k, v in self.headers.items()})
            )
        url = urlsplit(self.path)
        handler = self.server.routes.get(url.path)
        if handler is None:
            for prefix, candidate in self.server.routes.items():
                if prefix.endswith("*") and url.path.startswith(prefix[:-1]):
                    handler = candidate
                    break
        (handler or not_found)(self, url)

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


Handler = Callable[[HostileHandler, SplitResult], None]


def page(title: str, body: str, *, head: str = "") -> str:
    """A small, valid, accessible page; `body` goes inside <main> after the <h1>."""
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)} - Hostile Council</title>\n{head}</head>\n"
        f"<body>\n<main>\n<h1>{escape(title)}</h1>\n{body}\n</main>\n</body>\n</html>\n"
    )


def send_page(h: HostileHandler, title: str, body: str, status: int = 200) -> None:
    h.send_body(status, page(title, body).encode())


def link_list(paths: list[str]) -> str:
    items = "".join(f'<li><a href="{escape(p)}">{escape(p)}</a></li>\n' for p in paths)
    return f"<ul>\n{items}</ul>"


def not_found(h: HostileHandler, url: SplitResult) -> None:
    send_page(h, "Not found", "<p>No such page.</p>", status=404)


def area_modules() -> list[ModuleType]:
    """Every attack area: the modules of this package."""
    return [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in pkgutil.iter_modules(__path__)
        if not info.name.startswith("_")
    ]


def all_routes() -> dict[str, Handler]:
    """Every area's routes, its index page and the home page that links to each index."""
    routes: dict[str, Handler] = {}
    indexes = []
    for module in area_modules():
        area = module.__name__.rsplit(".", 1)[-1]
        routes.update(module.ROUTES)
        index_paths = list(getattr(module, "INDEX", []))
        indexes.append(f"/{area}/")
        routes.setdefault(f"/{area}/", _index(area, index_paths))

    def home(h: HostileHandler, url: SplitResult) -> None:
        send_page(h, "Hostile Council home", link_list(indexes))

    routes["/"] = home
    routes.setdefault("/robots.txt", _robots)
    return routes


def _index(area: str, paths: list[str]) -> Handler:
    def index(h: HostileHandler, url: SplitResult) -> None:
        send_page(h, f"Hostile pages: {area}", link_list(paths))

    return index


def _robots(h: HostileHandler, url: SplitResult) -> None:
    h.send_body(200, b"User-agent: *\nAllow: /\n", "text/plain")


def _record_all(h: HostileHandler, url: SplitResult) -> None:
    send_page(h, "Another site", "<p>Another site's page.</p>")


@contextlib.contextmanager
def _serve(routes: dict[str, Handler], recorded: list[Recorded]) -> Iterator[HostileServer]:
    server = HostileServer(routes, recorded)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="hostile", daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def serve_hostile() -> Iterator[HostileSite]:
    """Serve the hostile site on 127.0.0.1 and "another site" on localhost, free ports."""
    other_recorded: list[Recorded] = []
    recorded: list[Recorded] = []
    with (
        _serve({"*": _record_all}, other_recorded) as other,
        _serve(all_routes(), recorded) as server,
    ):
        base = f"http://127.0.0.1:{server.server_port}"
        other_base = f"http://localhost:{other.server_port}"
        server.own_base, server.peer_base = base, other_base
        other.own_base, other.peer_base = other_base, base
        yield HostileSite(base, other_base, recorded, other_recorded)
