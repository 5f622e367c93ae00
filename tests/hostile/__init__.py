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
import importlib
import pkgutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import escape
from types import ModuleType
from urllib.parse import SplitResult

from tests import recording
from tests.recording import HTML, Recorded, RecordingHandler, Route, serve

__all__ = [
    "HTML",
    "Handler",
    "HostileHandler",
    "HostileSite",
    "Recorded",
    "link_list",
    "page",
    "send_page",
    "serve_hostile",
]

# The areas' handlers are the shared recording server's (tests/recording.py).
HostileHandler = RecordingHandler
Handler = Route


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


def page(title: str, body: str, *, head: str = "") -> str:
    """A small, valid, accessible page; `body` goes inside <main> after the <h1>."""
    return recording.page(title, body, head=head, site="Hostile Council")


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
    routes["*"] = not_found  # last, after every area's own prefixes
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
def serve_hostile() -> Iterator[HostileSite]:
    """Serve the hostile site on 127.0.0.1 and "another site" on localhost, free ports."""
    with serve({"*": _record_all}) as other, serve(all_routes()) as server:
        other_base = f"http://localhost:{other.server_port}"
        server.peer_base, other.peer_base = other_base, server.base
        yield HostileSite(server.base, other_base, server.requests, other.requests)
