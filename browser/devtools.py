"""The DevTools connection to the audited tab: the crawler's copy of each page, and no other.

The crawler has already downloaded each page: the browser never asks the council's
server for it again. A Chrome DevTools Protocol (CDP) connection pauses the page's own
document request and answers it with the crawler's response (Fetch.fulfillRequest), while
the page's stylesheets, scripts and images load normally. The same connection blocks
requests to analytics and advertising hosts and records what it blocked, refuses every
later navigation of the page (it stays on the document it was given), and adds a staging
site's credentials to requests for the site's own hosts only. All of Chromium's traffic
goes through browser/browser_proxy.py, which refuses private-network addresses.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import threading
import urllib.request
from dataclasses import dataclass
from typing import Any

import websocket

from browser.launch import BrowserError, BrowserOptions
from vocabulary.urls import normalise_url

# Headers that describe the crawler's transfer, not the page: the body we hand over is
# already decoded and complete.
HOP_HEADERS = {"content-encoding", "content-length", "transfer-encoding", "connection"}


class PageLoadError(Exception):
    """A page could not be audited; the message is the reason recorded for it."""


class PageRefused(PageLoadError):
    """The page did something it may not (navigate away); trying again would not help."""


@dataclass(frozen=True)
class PageJob:
    """A page the crawler fetched, handed to the browser as the server sent it."""

    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    # The absolute URL of the page's own timed meta refresh, if it has one (see _paused).
    refresh: str | None = None


class DevTools:
    """A CDP connection to one page target, with a thread that answers paused requests."""

    def __init__(self, ws_url: str) -> None:
        # websocket-client checks each text message's UTF-8 a byte at a time in Python (about
        # 30 ms a 100 kB picture); its decode to str, in C, refuses invalid UTF-8 all the same.
        self.ws = websocket.create_connection(
            ws_url, suppress_origin=True, timeout=None, skip_utf8_validation=True
        )
        self.ids = itertools.count(1)
        self.send_lock = threading.Lock()
        self.pending: dict[int, threading.Event] = {}
        self.replies: dict[int, dict[str, Any]] = {}
        self.job: PageJob | None = None
        self.fulfilled = False
        self.blocked: list[str] = []
        self.blocked_patterns: tuple[str, ...] = ()
        # The job's own document (its loader id, once committed) and every navigation of
        # the main frame refused after it.
        self.loader_id: str | None = None
        self.navigations: list[str] = []
        # The page's own timed refresh, answered 204 like any navigation but not refused.
        self.refreshes: list[str] = []
        self.listener = threading.Thread(target=self._listen, name="cdp-listener", daemon=True)
        self.listener.start()

    def send(self, method: str, params: dict[str, Any] | None = None) -> int:
        with self.send_lock:
            message_id = next(self.ids)
            self.ws.send(json.dumps({"id": message_id, "method": method, "params": params or {}}))
        return message_id

    def call(self, method: str, params: dict[str, Any] | None = None, timeout: float = 10) -> Any:
        event = threading.Event()
        with self.send_lock:
            message_id = next(self.ids)
            self.pending[message_id] = event
            self.ws.send(json.dumps({"id": message_id, "method": method, "params": params or {}}))
        return self._answer(method, message_id, event, timeout)

    def call_each(self, method: str, params_list: list[dict[str, Any]], timeout: float = 10) -> Any:
        """The same command once with each of `params_list`, all written to the socket at
        once, and the last one's answer (DevTools handles a session's commands in order, so
        the others are done by then; their answers are not read). Chromium then takes them
        back to back: 100 Tab presses cost its renderer about a third less CPU than sent a
        message at a time."""
        event = threading.Event()
        with self.send_lock:
            frames = []
            for params in params_list:
                message_id = next(self.ids)
                message = json.dumps({"id": message_id, "method": method, "params": params})
                frames.append(websocket.ABNF.create_frame(message, websocket.ABNF.OPCODE_TEXT))
            self.pending[message_id] = event
            with self.ws.lock:
                self.ws.sock.sendall(b"".join(frame.format() for frame in frames))
        return self._answer(method, message_id, event, timeout)

    def _answer(self, method: str, message_id: int, event: threading.Event, timeout: float) -> Any:
        if not event.wait(timeout):
            raise BrowserError(f"DevTools did not answer {method}")
        reply = self.replies.pop(message_id, None)
        if reply is None:
            raise BrowserError(f"DevTools connection closed during {method}")
        if "error" in reply:
            raise BrowserError(f"DevTools {method}: {reply['error'].get('message')}")
        return reply.get("result")

    def use_credentials(self, options: BrowserOptions) -> None:
        self.credentials = options if options.credential_hosts else None

    credentials: BrowserOptions | None = None

    def expect(self, job: PageJob, blocked_hosts: tuple[str, ...]) -> None:
        """Answer this job's document request from the crawler's copy; refuse any other
        document for the main frame; block tracker hosts; pause requests for credentials.

        Every document request is paused, to see the main frame's; a frame's document
        continues at once (see _paused). With credentials, every request is paused, also
        each hop of a redirect, so that none leaves with them for another host.
        """
        self.job, self.fulfilled, self.blocked = job, False, []
        self.loader_id, self.navigations, self.refreshes = None, [], []
        patterns = [{"urlPattern": "*", "resourceType": "Document", "requestStage": "Request"}]
        for host in blocked_hosts:
            suffix = "*" if "/" in host else "/*"
            patterns += [
                {"urlPattern": f"*://{host}{suffix}", "requestStage": "Request"},
                {"urlPattern": f"*://*.{host}{suffix}", "requestStage": "Request"},
            ]
        if self.credentials is not None:
            patterns.append({"urlPattern": "*", "requestStage": "Request"})
        self.blocked_patterns = blocked_hosts
        self.call(
            "Fetch.enable",
            {"patterns": patterns, "handleAuthRequests": self.credentials is not None},
        )

    def check_document(self) -> None:
        """Raise PageRefused unless the main frame still shows the job's own document."""
        if self.navigations:
            raise PageRefused(f"navigated away: the page went to {self.navigations[0][:300]}")
        tree = self.call("Page.getFrameTree")
        frame = tree["frameTree"]["frame"]
        if self.loader_id is None or frame.get("loaderId") != self.loader_id:
            raise PageRefused(
                f"navigated away: the browser shows {str(frame.get('url'))[:300]}, "
                "not the page it was given"
            )

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close()

    def _listen(self) -> None:
        while True:
            try:
                message = json.loads(self.ws.recv())
            except Exception:  # noqa: BLE001 - the browser went away; the session notices
                for event in self.pending.values():
                    event.set()
                return
            if "id" in message:
                self._reply(message)
            elif message.get("method") == "Fetch.requestPaused":
                self._paused(message["params"])
            elif message.get("method") == "Fetch.authRequired":
                self._auth_required(message["params"])
            elif message.get("method") == "Page.frameNavigated":
                self._navigated(message["params"]["frame"])

    def _reply(self, message: dict[str, Any]) -> None:
        event = self.pending.pop(message["id"], None)
        if event:
            self.replies[message["id"]] = message
            event.set()

    def _paused(self, params: dict[str, Any]) -> None:
        request_id, url = params["requestId"], params["request"]["url"]
        main_document = (
            params.get("resourceType") == "Document" and params.get("frameId") == self.main_frame_id
        )
        if _host_matches(url, self.blocked_patterns) and not main_document:
            self.blocked.append(url[:300])
            self.send(
                "Fetch.failRequest", {"requestId": request_id, "errorReason": "BlockedByClient"}
            )
        elif main_document and self._is_page_request(url):
            self.fulfilled = True
            self.send("Fetch.fulfillRequest", fulfil_params(request_id, self.job))
        elif main_document:
            # Any other document for the main frame: a script, meta refresh, form or link
            # taking the page elsewhere. 204 No Content makes Chromium stay where it is.
            # The page's own timed refresh firing while the checks run is no reason to
            # refuse it: a person sees the page until then, and the document stays.
            if self.fulfilled and not self._is_declared_refresh(url):
                self.navigations.append(url)
            elif self.fulfilled:
                self.refreshes.append(url[:300])
            self.send(
                "Fetch.fulfillRequest",
                {"requestId": request_id, "responseCode": 204, "responseHeaders": []},
            )
        else:
            self._continue(request_id, url, params["request"].get("headers", {}))

    def _continue(self, request_id: str, url: str, headers: dict[str, str]) -> None:
        """Let a request go on, with the site's credentials if (and only if) it is for one
        of the site's hosts: a redirect hop to another host has them taken off."""
        if self.credentials is None:
            self.send("Fetch.continueRequest", {"requestId": request_id})
            return
        stripped = _without_credentials(headers, self.credentials)
        if self._gets_credentials(url):
            stripped = _with_credentials(stripped, self.credentials)
        elif stripped == headers:
            self.send("Fetch.continueRequest", {"requestId": request_id})
            return
        self.send(
            "Fetch.continueRequest",
            {
                "requestId": request_id,
                "headers": [{"name": k, "value": v} for k, v in stripped.items()],
            },
        )

    def _gets_credentials(self, url: str) -> bool:
        return self.credentials is not None and _host_matches(
            url, self.credentials.credential_hosts
        )

    def _auth_required(self, params: dict[str, Any]) -> None:
        """Answer a basic auth challenge from the site's own hosts; refuse anyone else's."""
        basic = self.credentials.basic_auth if self.credentials else None
        if basic and self._gets_credentials(params["request"]["url"]):
            answer = {"response": "ProvideCredentials", "username": basic[0], "password": basic[1]}
        else:
            answer = {"response": "CancelAuth"}
        self.send(
            "Fetch.continueWithAuth",
            {"requestId": params["requestId"], "authChallengeResponse": answer},
        )

    def _is_page_request(self, url: str) -> bool:
        return (
            self.job is not None
            and not self.fulfilled
            and _without_fragment(url) == _without_fragment(self.job.url)
        )

    def _is_declared_refresh(self, url: str) -> bool:
        """True for the job's own timed meta refresh (as the crawler read it from the HTML
        sent, never one a script added), to its target or to the page itself."""
        if self.job is None or self.job.refresh is None:
            return False
        try:
            return normalise_url(url) == self.job.refresh
        except ValueError:
            return False

    def _navigated(self, frame: dict[str, Any]) -> None:
        """Note the main frame's documents: the job's own once, and any other after it."""
        if frame.get("parentId") or not self.fulfilled or self.job is None:
            return
        own = _without_fragment(frame.get("url", "")) == _without_fragment(self.job.url)
        if own and self.loader_id is None:
            self.loader_id = frame.get("loaderId")
        else:
            self.navigations.append(str(frame.get("url")))

    main_frame_id: str = ""


def _without_fragment(url: str) -> str:
    return url.split("#", 1)[0]


def _without_credentials(headers: dict[str, str], options: BrowserOptions) -> dict[str, str]:
    """The headers without the configured credential headers or cookie."""
    names = {name.lower() for name, _ in options.credential_headers}
    kept = {k: v for k, v in headers.items() if k.lower() not in names}
    ours = {part.strip() for part in options.credential_cookie.split(";") if part.strip()}
    for name in [k for k in kept if k.lower() == "cookie"]:
        parts = [p.strip() for p in kept[name].split(";") if p.strip() and p.strip() not in ours]
        if parts:
            kept[name] = "; ".join(parts)
        else:
            del kept[name]
    return kept


def _with_credentials(headers: dict[str, str], options: BrowserOptions) -> dict[str, str]:
    """The headers with the configured credential headers and cookie added."""
    added = {**headers, **dict(options.credential_headers)}
    if options.credential_cookie:
        cookie = next((k for k in added if k.lower() == "cookie"), "Cookie")
        added[cookie] = "; ".join(p for p in (added.get(cookie), options.credential_cookie) if p)
    return added


def _host_matches(url: str, entries: tuple[str, ...]) -> bool:
    """True if the URL's host is an entry's host (or its subdomain), under the entry's path
    if it has one ("facebook.com/tr"): blocked hosts and credential hosts alike."""
    rest = url.split("://", 1)[-1].lower()
    host, _, path = rest.partition("/")
    host = host.rsplit("@", 1)[-1].split(":", 1)[0]
    for entry in entries:
        entry_host, _, entry_path = entry.partition("/")
        if (host == entry_host or host.endswith("." + entry_host)) and path.startswith(entry_path):
            return True
    return False


def fulfil_params(request_id: str, job: PageJob) -> dict[str, Any]:
    headers = [{"name": k, "value": v} for k, v in job.headers if k.lower() not in HOP_HEADERS]
    return {
        "requestId": request_id,
        "responseCode": job.status or 200,
        "responseHeaders": headers,
        "body": base64.b64encode(job.body).decode("ascii"),
    }


def connect_to_tab(address: str, window_handle: str) -> DevTools:
    """A DevTools connection to the tab ChromeDriver drives, at its debugger address."""
    with urllib.request.urlopen(f"http://{address}/json", timeout=10) as reply:
        targets = json.load(reply)
    # ChromeDriver's window handle is the DevTools target id of that tab.
    pages = [t for t in targets if t["type"] == "page"]
    page = next((t for t in pages if t["id"] == window_handle), pages[0])
    devtools = DevTools(page["webSocketDebuggerUrl"])
    devtools.main_frame_id = page["id"]
    return devtools
