"""Serve a static fixture site on 127.0.0.1, as the demo command and the tests do."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

# Package data, so an installed siteaudit has them too (pyproject.toml's package-data).
DEMO_SITE = Path(__file__).resolve().parent / "demo_site"
DEMO_CONFIG = Path(__file__).resolve().parent / "demo.toml"
# Sitemaps and robots.txt need absolute URLs, unknown until the port is: the fixture files
# say {{BASE}} and the server fills it in.
BASE_PLACEHOLDER = b"{{BASE}}"
TEMPLATED_SUFFIXES = (".xml", ".txt", ".html")


class FixtureHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, with {{BASE}} filled in, and an optional access log kept in memory."""

    access_log: list[str] | None = None

    replacements: ClassVar[dict[bytes, bytes]] = {}

    def log_message(self, format: str, *args: object) -> None:
        pass  # tests read access_log; a scan's output stays clean

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Called exactly once per request (log_message is also called for errors).
        if self.access_log is not None:
            self.access_log.append(f"{self.command} {self.path}")

    def send_head(self):  # type: ignore[no-untyped-def]
        path = self.translate_path(self.path)
        if not path.endswith(TEMPLATED_SUFFIXES) or not Path(path).is_file():
            return super().send_head()
        host, port = self.server.server_address[:2]
        original = Path(path).read_bytes()
        body = original.replace(BASE_PLACEHOLDER, f"http://{host}:{port}".encode())
        for placeholder, value in self.replacements.items():
            body = body.replace(placeholder, value)
        if body == original:
            # Nothing to fill in: served as any static server serves it, with Last-Modified
            # (its file's time), answering If-Modified-Since with 304 Not Modified.
            return super().send_head()
        # Filled in: its time says nothing (the port changes), so it has an ETag instead,
        # and If-None-Match is answered, as a real server does for a rescan.
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        if etag in self.headers.get("If-None-Match", "").replace(" ", "").split(","):
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return None
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.end_headers()
        return io.BytesIO(body)


@contextlib.contextmanager
def serve_site(
    root: Path = DEMO_SITE,
    port: int = 0,
    access_log: list[str] | None = None,
    replacements: dict[str, str] | None = None,
    keep_alive: bool = False,
) -> Iterator[str]:
    """Serve a folder on 127.0.0.1 in a background thread; yields the base URL.

    {{BASE}} in .html, .xml and .txt files becomes the base URL; `replacements` maps
    further placeholders (such as a second server's URL) to their values. With keep_alive
    the server speaks HTTP/1.1 and keeps each connection open for the next request, as
    real web servers do; without it, HTTP/1.0, a connection per request.
    """
    extra = {k.encode(): v.encode() for k, v in (replacements or {}).items()}
    protocol = "HTTP/1.1" if keep_alive else "HTTP/1.0"
    handler = type(
        "Handler",
        (FixtureHandler,),
        {"access_log": access_log, "replacements": extra, "protocol_version": protocol},
    )
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", port), functools.partial(handler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, name="fixture-site", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
