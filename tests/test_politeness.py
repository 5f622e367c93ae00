"""Politeness and safety of the crawl: Crawl-delay, adaptive throttling, private networks."""

from __future__ import annotations

import http.server
import itertools
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import query, run_siteaudit

PAGE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
    "</head><body><main><h1>{title}</h1><p>Bins are collected every week.</p>{body}"
    "</main></body></html>"
)


@dataclass
class Visit:
    path: str
    method: str
    arrived: float
    left: float = 0.0


@dataclass
class Recorder:
    base: str = ""
    visits: list[Visit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def most_pages_at_once(self) -> int:
        """The most page requests the server was answering at the same moment."""
        pages = self.pages()
        return max(sum(1 for o in pages if o.arrived <= p.arrived < o.left) for p in pages)

    def pages(self) -> list[Visit]:
        return sorted(
            (v for v in self.visits if v.path.startswith("/page")), key=lambda v: v.arrived
        )


Route = Callable[[str], tuple[int, dict[str, str], str]]


@contextmanager
def serve(route: Route, delay: float = 0.0) -> Iterator[Recorder]:
    """A local site whose answers come from route(path); each page takes `delay` seconds."""
    record = Recorder()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.answer(body=True)

        def do_HEAD(self) -> None:
            self.answer(body=False)

        def answer(self, body: bool) -> None:
            visit = Visit(self.path, self.command, time.monotonic())
            with record.lock:
                record.visits.append(visit)
            try:
                if self.path.startswith("/page"):
                    time.sleep(delay)
                status, headers, text = route(self.path)
                data = text.encode()
                self.send_response(status)
                headers = {"Content-Type": "text/html; charset=utf-8", **headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if body:
                    self.wfile.write(data)
            finally:
                visit.left = time.monotonic()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    record.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield record
    finally:
        server.shutdown()


def site(robots: str, pages: int) -> Route:
    links = "".join(f'<a href="/page{n}.html">Page {n}</a>' for n in range(pages))

    def route(path: str) -> tuple[int, dict[str, str], str]:
        if path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, robots
        if path == "/":
            return 200, {}, PAGE.format(title="Home", body=links)
        if path.startswith("/page"):
            return 200, {}, PAGE.format(title=path, body="")
        return 404, {}, "not here"

    return route


def scan(base: str, tmp_path: Path, config: str = "") -> tuple[Path, str]:
    tmp_path.mkdir(exist_ok=True)
    db = tmp_path / "scan.db"
    toml = tmp_path / "site.toml"
    toml.write_text(config)
    result = run_siteaudit(
        "scan", f"{base}/", "--db", str(db), "--no-browser", "--config", str(toml), "-v"
    )
    assert result.returncode == 0, result.stderr
    return db, result.stderr


def test_robots_crawl_delay_spaces_requests_one_at_a_time(tmp_path: Path) -> None:
    robots = "User-agent: *\nCrawl-delay: 1\nDisallow: /private/\n"
    with serve(site(robots, pages=4)) as server:
        db, output = scan(server.base, tmp_path, "[site]\nconcurrency_per_host = 4\n")
    assert query(db, "SELECT count(*) FROM pages") == [(5,)]
    pages = server.pages()
    assert len(pages) == 4
    gaps = [b.arrived - a.arrived for a, b in itertools.pairwise(pages)]
    assert min(gaps) >= 0.9, gaps
    assert server.most_pages_at_once() == 1
    assert "asks crawlers to wait 1s between requests (robots.txt Crawl-delay)" in output


def test_crawl_delay_is_ignored_when_robots_txt_is_not_obeyed(tmp_path: Path) -> None:
    with serve(site("User-agent: *\nCrawl-delay: 5\n", pages=4), delay=0.3) as server:
        scan(server.base, tmp_path, "[site]\nobey_robots = false\nadaptive_throttle = false\n")
    # Four 0.3 s pages at once, not one every 5 s.
    assert server.most_pages_at_once() >= 3


def test_adaptive_throttle_spaces_requests_to_a_slow_server(tmp_path: Path) -> None:
    # Each page takes 0.4 s: with 4 in flight as the target, requests go 0.1 s apart, each
    # gap varied by Scrapy's ±50% jitter (DOWNLOAD_DELAY_JITTER), so never under 0.05 s.
    with serve(site("User-agent: *\n", pages=12), delay=0.4) as server:
        scan(server.base, tmp_path, "[site]\nconcurrency_per_host = 4\n")
    later = server.pages()[5:]
    gaps = [b.arrived - a.arrived for a, b in itertools.pairwise(later)]
    assert len(later) == 7 and min(gaps) >= 0.045 and statistics.median(gaps) >= 0.08, gaps


def test_without_adaptive_throttle_requests_go_together(tmp_path: Path) -> None:
    with serve(site("User-agent: *\n", pages=12), delay=0.4) as server:
        scan(server.base, tmp_path, "[site]\nconcurrency_per_host = 4\nadaptive_throttle = false\n")
    assert server.most_pages_at_once() == 4


def test_private_network_addresses_are_never_fetched_unless_configured(tmp_path: Path) -> None:
    with serve(site("User-agent: *\n", pages=0)) as intranet:
        other = intranet.base.replace("127.0.0.1", "localhost")
        links = (
            f'<a href="{other}/staff">Staff intranet</a>'
            '<a href="http://169.254.169.254/latest/meta-data/">Metadata</a>'
            '<a href="http://10.1.2.3/admin">Router</a>'
            '<a href="file:///etc/passwd">Passwords</a>'
            '<a href="/to-file">Moved</a>'
        )

        def route(path: str) -> tuple[int, dict[str, str], str]:
            if path == "/":
                return 200, {}, PAGE.format(title="Home", body=links)
            if path == "/to-file":
                return 302, {"Location": "file:///etc/passwd"}, ""
            return 404, {}, ""

        with serve(route) as council:
            db, _ = scan(council.base, tmp_path / "refused", "[links]\ncheck_external = true\n")
            refused = list(intranet.visits)
            allowed_db, _ = scan(
                council.base,
                tmp_path / "allowed",
                '[site]\nprivate_hosts = ["localhost"]\n',
            )
    assert refused == []
    # The links are recorded, but not checked, so not reported as broken; only the redirect
    # to a local file is broken (no browser follows it either), and the file is never read.
    assert query(db, "SELECT count(*) FROM links WHERE target_url LIKE '%169.254%'") == [(1,)]
    assert query(db, "SELECT url FROM fetches WHERE kind = 'external'") == []
    broken = query(db, "SELECT summary FROM findings WHERE kind = 'broken-link'")
    assert len(broken) == 1 and broken[0][0].startswith("“Moved” goes to a page on this site")
    assert query(db, "SELECT count(*) FROM fetches WHERE final_url LIKE 'file:%'") == [(0,)]
    # Named in site.private_hosts, the intranet link is checked (and found missing).
    assert {v.path for v in intranet.visits} == {"/staff"}
    assert query(allowed_db, "SELECT url, status_code FROM fetches WHERE kind = 'external'") == [
        (f"{other}/staff", 404)
    ]
