"""The fault site itself, checked with plain sockets and http.client rather than the crawler."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urljoin, urlsplit

import pytest
from bs4 import BeautifulSoup

from tests.fault_site import (
    BIG_PAGE_BYTES,
    CHAIN_HOPS,
    FAULT_PAGES,
    REASONS,
    SCHEME_LINKS,
    TRUNCATED_CLAIMED,
    TRUNCATED_SENT,
    UNLINKED_PAGES,
    FaultSite,
    serve_faults,
)

# Pages answered 200 with HTML on the first request, whatever they then do in a browser.
HTML_PAGES = [
    "/",
    "/ok.html",
    "/latin1.html",
    "/mislabelled.html",
    "/endless-script.html",
    "/alert.html",
    "/navigates-away.html",
    "/crash.html",
    "/calendar/2026/11",
    "/session/page?sid=home",
    "/schemes.html",
    "/chain/25",
]


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes

    def soup(self) -> BeautifulSoup:
        return BeautifulSoup(self.body, "html.parser")


@pytest.fixture(scope="module")
def site() -> Iterator[FaultSite]:
    """Shared by tests of stateless pages; stateful ones start their own."""
    with serve_faults(slow_seconds=1) as fault_site:
        yield fault_site


def connect(site: FaultSite, timeout: float = 5) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", urlsplit(site.base).port, timeout=timeout)


def fetch(site: FaultSite, path: str, method: str = "GET", timeout: float = 5) -> Reply:
    conn = connect(site, timeout)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        conn.close()


def raw_get(site: FaultSite, path: str) -> bytes:
    """Everything the server sends for one request, up to its close of the connection."""
    with socket.create_connection(("127.0.0.1", urlsplit(site.base).port), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def links(reply: Reply) -> list[str]:
    return [a["href"] for a in reply.soup().find_all("a")]


def test_reasons_come_from_the_vocabulary() -> None:
    assert set(FAULT_PAGES.values()) | set(UNLINKED_PAGES.values()) <= REASONS


def test_home_links_to_every_fault_page_and_no_challenge(site: FaultSite) -> None:
    reply = fetch(site, "/")
    assert reply.status == 200
    assert links(reply) == list(FAULT_PAGES)
    assert not any(href.startswith("/challenge/") for href in links(reply))


@pytest.mark.parametrize("path", HTML_PAGES)
def test_html_pages_are_accessible_enough(site: FaultSite, path: str) -> None:
    reply = fetch(site, path)
    assert reply.status == 200
    assert reply.headers.get_content_type() == "text/html"
    soup = reply.soup()
    assert soup.html is not None and soup.html["lang"] == "en"
    assert soup.title is not None and soup.title.string
    assert soup.main is not None and soup.main.h1 is not None
    assert b"http://" not in reply.body and b"https://" not in reply.body  # nothing external


def test_head_sends_headers_without_a_body(site: FaultSite) -> None:
    reply = fetch(site, "/ok.html", method="HEAD")
    assert reply.status == 200
    assert int(reply.headers["Content-Length"]) > 0
    assert reply.body == b""


@pytest.mark.parametrize(
    ("path", "status"),
    [("/error-500.html", 500), ("/not-found.html", 404), ("/no-such-page", 404)],
)
def test_error_pages_fail_every_time(site: FaultSite, path: str, status: int) -> None:
    assert [fetch(site, path).status for _ in range(3)] == [status] * 3


def test_always_503_keeps_asking_for_a_retry(site: FaultSite) -> None:
    for _ in range(3):
        reply = fetch(site, "/always-503.html")
        assert (reply.status, reply.headers["Retry-After"]) == (503, "1")


def test_unavailable_recovers_after_one_503() -> None:
    with serve_faults(slow_seconds=1) as site:
        first = fetch(site, "/unavailable.html")
        assert (first.status, first.headers["Retry-After"]) == (503, "1")
        assert [fetch(site, "/unavailable.html").status for _ in range(2)] == [200, 200]


def test_rate_limited_recovers_after_two_429s() -> None:
    with serve_faults(slow_seconds=1) as site:
        replies = [fetch(site, "/rate-limited.html") for _ in range(3)]
    assert [r.status for r in replies] == [429, 429, 200]
    assert [r.headers["Retry-After"] for r in replies[:2]] == ["1", "1"]


def test_slow_page_times_out_a_short_wait_then_answers(site: FaultSite) -> None:
    with pytest.raises(TimeoutError):
        fetch(site, "/slow.html", timeout=0.3)
    started = time.monotonic()
    assert fetch(site, "/slow.html").status == 200
    assert time.monotonic() - started >= 0.9


def test_shutdown_interrupts_a_slow_response() -> None:
    errors: list[BaseException] = []

    def request(site: FaultSite) -> None:
        try:
            fetch(site, "/slow.html", timeout=30)
        except (ConnectionError, http.client.HTTPException) as error:
            errors.append(error)

    started = time.monotonic()
    with serve_faults(slow_seconds=60) as site:
        client = threading.Thread(target=request, args=(site,), daemon=True)
        client.start()
        while site.requests_for("/slow.html") == 0:
            time.sleep(0.01)
    client.join(timeout=5)
    assert time.monotonic() - started < 3
    assert not client.is_alive()
    assert errors  # hung up unanswered rather than serving the page


def test_reset_closes_the_connection_without_a_response(site: FaultSite) -> None:
    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)):
        fetch(site, "/reset.html")


def test_truncated_body_is_shorter_than_its_content_length(site: FaultSite) -> None:
    head, _, body = raw_get(site, "/truncated.html").partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert f"Content-Length: {TRUNCATED_CLAIMED}".encode() in head
    assert len(body) == TRUNCATED_SENT


def follow(site: FaultSite, path: str, limit: int = 50) -> tuple[list[str], Reply]:
    """Follow redirects by hand; returns the paths visited and the last reply."""
    visited = [path]
    reply = fetch(site, path)
    while reply.status in (301, 302) and len(visited) <= limit:
        path = urlsplit(urljoin(site.url(path), reply.headers["Location"])).path
        visited.append(path)
        reply = fetch(site, path)
    return visited, reply


def test_redirect_loop_comes_back(site: FaultSite) -> None:
    visited, reply = follow(site, "/redirect-loop.html", limit=4)
    assert visited[:3] == ["/redirect-loop.html", "/redirect-loop-2.html", "/redirect-loop.html"]
    assert reply.status == 302


def test_redirect_chain_has_25_hops_then_a_page(site: FaultSite) -> None:
    visited, reply = follow(site, "/redirect-chain.html")
    assert len(visited) - 1 == CHAIN_HOPS
    assert visited[-1] == f"/chain/{CHAIN_HOPS}"
    assert reply.status == 200


def test_big_page_is_at_least_10_mb_of_paragraphs(site: FaultSite) -> None:
    reply = fetch(site, "/big.html", timeout=30)
    assert len(reply.body) >= BIG_PAGE_BYTES >= 10_000_000
    assert int(reply.headers["Content-Length"]) == len(reply.body)
    assert reply.body.count(b"<p>") > 50_000
    # Only the head is parsed: html.parser takes seconds over 10 MB.
    assert Reply(200, reply.headers, reply.body[:2000]).soup().main.h1 is not None
    assert reply.body.endswith(b"</main>\n</body>\n</html>\n")


def test_latin1_page_is_latin1_bytes(site: FaultSite) -> None:
    reply = fetch(site, "/latin1.html")
    assert reply.headers["Content-Type"] == "text/html; charset=iso-8859-1"
    assert "café £5".encode("iso-8859-1") in reply.body
    assert "café".encode() not in reply.body


def test_mislabelled_page_is_windows_1252_behind_a_utf8_header(site: FaultSite) -> None:
    reply = fetch(site, "/mislabelled.html")
    assert reply.headers.get_content_charset() == "utf-8"
    with pytest.raises(UnicodeDecodeError):
        reply.body.decode("utf-8")
    assert "\u201cIt\u2019s only £5" in reply.body.decode("windows-1252")
    assert b"charset" not in reply.body


@pytest.mark.parametrize(
    ("path", "script"),
    [
        ("/endless-script.html", "for(;;){}"),
        ("/alert.html", 'alert("hello"); confirm("sure?")'),
        ("/navigates-away.html", 'window.open("/ok.html")'),
        ("/crash.html", 'location.href = "chrome://crash"'),
        ("/crash.html", "a.push(new Array(1e6).fill(0.5))"),
    ],
)
def test_hostile_scripts_are_in_place(site: FaultSite, path: str, script: str) -> None:
    assert script in fetch(site, path).body.decode()


def test_schemes_page_links_to_non_web_urls(site: FaultSite) -> None:
    assert links(fetch(site, "/schemes.html")) == list(SCHEME_LINKS)


def test_calendar_links_to_next_month_for_ever(site: FaultSite) -> None:
    assert links(fetch(site, "/calendar/2026/11")) == ["/calendar/2026/12"]
    assert links(fetch(site, "/calendar/2026/12")) == ["/calendar/2027/01"]
    assert links(fetch(site, "/calendar/9999/12")) == ["/calendar/10000/01"]
    assert fetch(site, "/calendar/2026/13").status == 404


def test_session_pages_link_to_a_new_session_each_time(site: FaultSite) -> None:
    onward = [links(fetch(site, "/session/page?sid=home"))[0] for _ in range(2)]
    assert all(href.startswith("/session/page?sid=") for href in onward)
    assert len(set(onward)) == 2
    assert fetch(site, onward[0]).status == 200


def test_robots_allows_everything_without_delay(site: FaultSite) -> None:
    reply = fetch(site, "/robots.txt")
    assert reply.headers.get_content_type() == "text/plain"
    assert reply.body.decode().splitlines() == ["User-agent: *", "Allow: /", "Crawl-delay: 0"]


@pytest.mark.parametrize("path", ["/challenge/1", "/challenge/2", "/challenge/99"])
def test_challenges_look_like_a_waf(site: FaultSite, path: str) -> None:
    reply = fetch(site, path)
    assert reply.status == 403
    assert reply.headers["Server"] == "cloudflare"
    assert b"Attention Required! | Cloudflare" in reply.body
    assert b"Access denied" in reply.body


def test_access_log_records_every_request_across_threads() -> None:
    with serve_faults(slow_seconds=1) as site:
        paths = [f"/ok.html?n={n}" for n in range(20)]
        threads = [threading.Thread(target=fetch, args=(site, p)) for p in paths]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)):
            fetch(site, "/reset.html")  # requests never answered are logged too
        fetch(site, "/ok.html", method="HEAD")
    assert sorted(site.access_log[:20]) == sorted(f"GET {p}" for p in paths)
    assert site.access_log[20:] == ["GET /reset.html", "HEAD /ok.html"]
    assert site.requests_for("/reset.html") == 1
