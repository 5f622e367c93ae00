"""The forwarding proxy all of Chromium's traffic goes through, refusing private addresses.

Chromium runs a hostile site's scripts, frames and subresources; any of them can ask for
http://169.254.169.254/ or a router's admin page, and a name can resolve to a public
address when checked and a private one when used (DNS rebinding). Chromium is started with
this proxy as its only way out (loopback included), for every frame, process, request and
websocket. The proxy resolves each host itself, refuses a private address unless the host
is allowed by name, and connects to the very address it checked.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import socketserver
import threading
from urllib.parse import urlsplit

from vocabulary.urls import is_private_address

log = logging.getLogger(__name__)

MAX_HEAD = 64 * 1024
CONNECT_TIMEOUT = 30.0
IDLE_TIMEOUT = 300.0  # a tunnel or response with no traffic for this long is closed
# Hop-by-hop headers between Chromium and the proxy; the proxy asks the server to close.
HOP_HEADERS = {"connection", "proxy-connection", "keep-alive", "proxy-authorization", "te"}


class Refused(Exception):
    """The proxy will not connect there; the message says why."""


class GuardedProxy:
    """A forwarding proxy on 127.0.0.1 that never connects to a private address, except to
    the hosts in `allowed` (exactly as named: the site's own and site.private_hosts)."""

    def __init__(self, allowed: tuple[str, ...]) -> None:
        self.allowed = frozenset(host.lower().strip("[]") for host in allowed)
        self.refused: list[str] = []
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.server = _Server(self)
        self.thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="browser-proxy",
            daemon=True,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> GuardedProxy:
        self.thread.start()
        return self

    def close(self) -> None:
        """Stop accepting, and close every connection still open."""
        self.server.shutdown()
        self.server.server_close()
        with self.lock:
            for sock in list(self.sockets):
                with contextlib.suppress(OSError):
                    sock.close()
            self.sockets.clear()

    def connect(self, host: str, port: int) -> socket.socket:
        """A connection to host:port, to an address checked here, or Refused."""
        host = host.lower().strip("[]")
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise Refused(f"{host} does not resolve") from None
        if host not in self.allowed and any(is_private_address(i[4][0]) for i in infos):
            self.refused.append(f"{host}:{port}")
            log.info("browser proxy refused %s:%s, a private address", host, port)
            raise Refused(f"{host} is on a private network; not in site.private_hosts")
        error: OSError | None = None
        for family, kind, proto, _, address in infos:
            sock = socket.socket(family, kind, proto)
            sock.settimeout(CONNECT_TIMEOUT)
            try:
                sock.connect(address)  # the address checked above, not a new lookup
            except OSError as err:
                sock.close()
                error = err
                continue
            self.track(sock)
            return sock
        raise Refused(f"could not connect to {host}:{port}: {error}")

    def track(self, sock: socket.socket) -> None:
        with self.lock:
            self.sockets.add(sock)

    def forget(self, sock: socket.socket) -> None:
        with self.lock:
            self.sockets.discard(sock)
        with contextlib.suppress(OSError):
            sock.close()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, proxy: GuardedProxy) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.proxy = proxy


class _Handler(socketserver.BaseRequestHandler):
    server: _Server
    request: socket.socket

    def handle(self) -> None:
        proxy = self.server.proxy
        proxy.track(self.request)
        self.request.settimeout(IDLE_TIMEOUT)
        try:
            head, rest = read_head(self.request)
            method, target, headers = parse_head(head)
            if method == "CONNECT":
                self.tunnel(target, rest)
            else:
                self.forward(method, target, headers, rest)
        except Refused as err:
            self.refuse(str(err))
        except (OSError, ValueError):
            pass  # the browser or the server went away, or sent nonsense: drop it
        finally:
            proxy.forget(self.request)

    def tunnel(self, target: str, rest: bytes) -> None:
        """CONNECT host:port (HTTPS and websockets): a checked connection, then raw bytes."""
        host, _, port = target.rpartition(":")
        upstream = self.server.proxy.connect(host, int(port))
        try:
            self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if rest:
                upstream.sendall(rest)
            relay(self.request, upstream)
        finally:
            self.server.proxy.forget(upstream)

    def forward(
        self, method: str, target: str, headers: list[tuple[str, str]], rest: bytes
    ) -> None:
        """A plain http:// request: one request per connection, so that a kept-alive
        connection can never carry a later request to another host."""
        url = urlsplit(target)
        if url.scheme != "http" or not url.hostname:
            raise ValueError(f"not an absolute http URL: {target[:100]}")
        if any(name.lower() == "transfer-encoding" for name, _ in headers):
            raise Refused("chunked request bodies are not forwarded")
        length = int(next((v for n, v in headers if n.lower() == "content-length"), "0"))
        upstream = self.server.proxy.connect(url.hostname, url.port or 80)
        try:
            path = (url.path or "/") + (f"?{url.query}" if url.query else "")
            lines = [f"{method} {path} HTTP/1.1"]
            lines += [f"{n}: {v}" for n, v in headers if n.lower() not in HOP_HEADERS]
            lines.append("Connection: close")
            upstream.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            body = rest[:length]
            while len(body) < length:
                chunk = self.request.recv(min(65536, length - len(body)))
                if not chunk:
                    return
                body += chunk
            upstream.sendall(body)
            copy(upstream, self.request)
        finally:
            self.server.proxy.forget(upstream)

    def refuse(self, why: str) -> None:
        body = f"siteaudit: {why}\n".encode()
        head = (
            "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        with contextlib.suppress(OSError):
            self.request.sendall(head.encode() + body)


def read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    """The request head (up to the blank line) and whatever bytes followed it."""
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > MAX_HEAD:
            raise ValueError("request head too long")
        chunk = sock.recv(65536)
        if not chunk:
            raise ValueError("connection closed before the request head")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def parse_head(head: bytes) -> tuple[str, str, list[tuple[str, str]]]:
    request_line, *lines = head.decode("latin-1").split("\r\n")
    method, target, _version = request_line.split(" ")
    headers = []
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep or not name.strip() or name != name.strip():
            raise ValueError("bad header line")
        headers.append((name, value.strip()))
    return method.upper(), target, headers


def relay(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until either side closes or both are idle too long."""
    sockets = [a, b]
    while True:
        ready, _, _ = select.select(sockets, [], [], IDLE_TIMEOUT)
        if not ready:
            return
        for sock in ready:
            data = sock.recv(65536)
            if not data:
                return
            (b if sock is a else a).sendall(data)


def copy(source: socket.socket, target: socket.socket) -> None:
    """Copy the server's response to the browser until the server closes."""
    source.settimeout(IDLE_TIMEOUT)
    while data := source.recv(65536):
        target.sendall(data)
