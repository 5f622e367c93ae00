"""One long-lived headless Chromium session that audits pages with axe-core.

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
import functools
import itertools
import json
import logging
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import websocket
from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service

from browser.axe_session import AxeError, AxeOutcome, AxeSession
from browser.browser_proxy import GuardedProxy

log = logging.getLogger(__name__)
T = TypeVar("T")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
AXE_PATH = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
REAPER = Path(__file__).resolve().parent / "chromedriver-reaper.sh"

# Flags that keep headless Chromium quiet and self-contained on a machine with no internet.
CHROMIUM_FLAGS = (
    "--headless=new",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--window-size=1280,1024",
    # A page's JavaScript heap, axe-core's included, is bounded: a hostile page that would
    # take gigabytes crashes its own tab (browser-crashed) instead of starving the scan.
    "--js-flags=--max-old-space-size=256",
    # WebRTC would otherwise send UDP straight to any address a page names, past the proxy.
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
)

# All that Chromium and ChromeDriver see of siteaudit's environment, which holds form,
# basic auth, header, cookie and SMTP secrets that /proc/<pid>/environ would show.
PASSED_ENVIRONMENT = ("PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR")
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"

# Headers that describe the crawler's transfer, not the page: the body we hand over is
# already decoded and complete.
HOP_HEADERS = {"content-encoding", "content-length", "transfer-encoding", "connection"}


# A page this large is left for about:blank once audited, so its tab's memory is freed.
LARGE_PAGE_BYTES = 256 * 1024


class BrowserError(Exception):
    """The browser could not be started or has died."""


class PageLoadError(Exception):
    """A page could not be audited; the message is the reason recorded for it."""


class PageRefused(PageLoadError):
    """The page did something it may not (navigate away); trying again would not help."""


@dataclass(frozen=True)
class BrowserOptions:
    chromium: str = "/usr/bin/chromium"
    chromedriver: str = "/usr/bin/chromedriver"
    page_timeout: float = 30.0
    axe_path: Path = AXE_PATH
    run_only: tuple[str, ...] = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
    blocked_hosts: tuple[str, ...] = ()
    # (uid, gid) to run ChromeDriver and Chromium as, when siteaudit runs as root: then
    # Chromium keeps its sandbox, which cannot start as root.
    run_as: tuple[int, int] | None = None
    # True when the audited site itself is on a loopback or private address (a test or
    # staging server). A page answered through DevTools has no address of its own, so
    # Chromium's Local Network Access checks would treat it as public and stop its frames
    # on other local origins from loading; a public site keeps those checks.
    local_site: bool = False
    # Hosts Chromium may reach although they are on a private network, exactly as named:
    # the site's allowed domains and site.private_hosts. Every other private address
    # (loopback, RFC 1918, link-local, their IPv6 equivalents) is refused by the proxy.
    private_hosts: tuple[str, ...] = ()
    # A staging site's credentials, sent only to these hosts (and their subdomains).
    credential_hosts: tuple[str, ...] = ()
    credential_headers: tuple[tuple[str, str], ...] = ()
    credential_cookie: str = ""
    basic_auth: tuple[str, str] | None = None
    # Extra certificate authorities (PEM) Chromium trusts, through its own NSS database.
    ca_file: str = ""
    # site.verify_tls = false: a staging site's self-signed certificate is accepted.
    ignore_tls_errors: bool = False

    @property
    def sandbox(self) -> bool:
        return os.geteuid() != 0 or self.run_as is not None


@dataclass(frozen=True)
class PageJob:
    """A page the crawler fetched, handed to the browser as the server sent it."""

    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def check_browser_available(options: BrowserOptions) -> None:
    """Fail early, with the fix, if Chromium, ChromeDriver or axe-core is missing."""
    for what, path in (("Chromium", options.chromium), ("ChromeDriver", options.chromedriver)):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise BrowserError(
                f"{what} not found at {path}; install Debian's chromium and "
                "chromium-driver (apt-get install chromium chromium-driver), "
                "or scan with --no-browser"
            )
    if options.ca_file and not shutil.which("certutil"):
        raise BrowserError(
            "certutil not found, needed to make Chromium trust site.ca_file; install "
            "Debian's libnss3-tools (apt-get install libnss3-tools)"
        )
    if not Path(options.axe_path).is_file():
        raise BrowserError(
            f"axe-core not found at {options.axe_path}; run npm ci in {PROJECT_ROOT}"
        )


def unprivileged_user(name: str) -> tuple[int, int] | None:
    """(uid, gid) to run the browser as when siteaudit runs as root, or None to stay root.

    "" picks the `siteaudit` user that scripts/setup.sh makes, else `nobody`; "root" keeps
    root (and Chromium then runs without its sandbox).
    """
    if os.geteuid() != 0 or name == "root":
        return None
    for candidate in [name] if name else ["siteaudit", "nobody"]:
        try:
            entry = pwd.getpwnam(candidate)
        except KeyError:
            continue
        return entry.pw_uid, entry.pw_gid
    if name:
        raise BrowserError(f"audit.browser_user: no user named {name!r} on this machine")
    return None


def trust_authorities(home: Path, ca_file: str) -> None:
    """Make home's NSS database trust ca_file's authorities for websites.

    Chromium on Linux trusts the system's authorities plus those in ~/.pki/nssdb; a
    home of its own per session keeps the user's real one untouched.
    """
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True, exist_ok=True)
    database = f"sql:{nssdb}"
    run = functools.partial(subprocess.run, check=True, capture_output=True, timeout=30)
    try:
        run(["certutil", "-N", "-d", database, "--empty-password"])
        for number, pem in enumerate(pem_certificates(Path(ca_file).read_bytes())):
            run(
                ["certutil", "-A", "-d", database, "-n", f"siteaudit-ca-{number}", "-t", "C,,"],
                input=pem,
            )
    except (OSError, subprocess.SubprocessError) as err:
        raise BrowserError(f"could not make Chromium trust {ca_file}: {err}") from None


PEM_CERTIFICATE = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def pem_certificates(data: bytes) -> list[bytes]:
    """Each PEM certificate in a file's bytes, as the crawler and Chromium both read it."""
    return PEM_CERTIFICATE.findall(data)


def browser_environment(home: Path, chromedriver: str) -> dict[str, str]:
    """The minimal environment ChromeDriver and Chromium run in: never siteaudit's own."""
    env = {name: os.environ[name] for name in PASSED_ENVIRONMENT if name in os.environ}
    env.setdefault("PATH", DEFAULT_PATH)
    env["HOME"] = str(home)  # Chromium's own: never the user's real one
    env["SITEAUDIT_CHROMEDRIVER"] = chromedriver  # for the reaper script
    return env


def chrome_options(
    options: BrowserOptions, profile_dir: str, proxy_url: str
) -> webdriver.ChromeOptions:
    chrome = webdriver.ChromeOptions()
    chrome.binary_location = options.chromium
    for flag in CHROMIUM_FLAGS:
        chrome.add_argument(flag)
    chrome.add_argument(f"--user-data-dir={profile_dir}")
    # Every request through the proxy, loopback too ("<-loopback>" removes Chromium's
    # implicit bypass for localhost, 127.0.0.1 and [::1]).
    chrome.add_argument(f"--proxy-server={proxy_url}")
    chrome.add_argument("--proxy-bypass-list=<-loopback>")
    if not options.sandbox:
        # Chromium's sandbox cannot start as root; the scan records sandboxed = 0.
        chrome.add_argument("--no-sandbox")
    chrome.add_argument("--disable-features=" + ",".join(disabled_features(options)))
    if options.ignore_tls_errors:
        chrome.add_argument("--ignore-certificate-errors")
    chrome.page_load_strategy = "normal"
    # alert() and confirm() would block every WebDriver command: dismiss them.
    chrome.unhandled_prompt_behavior = "dismiss"
    return chrome


def disabled_features(options: BrowserOptions) -> list[str]:
    """Chromium features switched off, in one flag: Chromium reads only the last of several."""
    # A spare renderer kept warm for the next site costs ~40 MB per browser, for nothing:
    # each tab opens one page and waits for axe.
    features = ["SpareRendererForSitePerProcess"]
    if options.local_site:
        features.append("LocalNetworkAccessChecks")
    return features


class DevTools:
    """A CDP connection to one page target, with a thread that answers paused requests."""

    def __init__(self, ws_url: str) -> None:
        self.ws = websocket.create_connection(ws_url, suppress_origin=True, timeout=None)
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
        self.loader_id, self.navigations = None, []
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
            if self.fulfilled:
                self.navigations.append(url)
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


def _escape_pattern(url: str) -> str:
    """A Fetch urlPattern matching exactly this URL ("*" and "?" are wildcards there)."""
    return url.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")


def fulfil_params(request_id: str, job: PageJob) -> dict[str, Any]:
    headers = [{"name": k, "value": v} for k, v in job.headers if k.lower() not in HOP_HEADERS]
    return {
        "requestId": request_id,
        "responseCode": job.status or 200,
        "responseHeaders": headers,
        "body": base64.b64encode(job.body).decode("ascii"),
    }


class BrowserSession:
    """A Chromium + ChromeDriver pair in its own process group, audited through axe-core."""

    def __init__(self, options: BrowserOptions) -> None:
        self.options = options
        self.profile_dir = tempfile.mkdtemp(prefix="siteaudit-chromium-")
        self.driver: webdriver.Chrome | None = None
        self.devtools: DevTools | None = None
        self.proxy: GuardedProxy | None = None
        self.pgid: int | None = None
        self.pages_audited = 0
        self.axe: AxeSession | None = None

    def start(self) -> BrowserSession:
        # A new session (process group) for ChromeDriver, so Chromium and every helper it
        # spawns can be killed at once if the browser hangs.
        # ChromeDriver runs under a reaper script that kills its group if siteaudit dies.
        home = Path(self.profile_dir) / "home"
        home.mkdir()
        env = browser_environment(home, self.options.chromedriver)
        if self.options.ca_file:
            trust_authorities(home, self.options.ca_file)
        reaper, popen_kw = str(REAPER), {"start_new_session": True}
        if self.options.run_as:
            reaper, popen_kw = (
                self._as_unprivileged_user(self.options.run_as),
                {
                    **popen_kw,
                    "user": self.options.run_as[0],
                    "group": self.options.run_as[1],
                    "extra_groups": [],
                },
            )
            env["USER"] = env["LOGNAME"] = pwd.getpwuid(self.options.run_as[0]).pw_name
        service = Service(reaper, env=env, popen_kw=popen_kw)
        self.proxy = GuardedProxy(self.options.private_hosts).start()
        chrome = chrome_options(self.options, self.profile_dir, self.proxy.url)
        try:
            self.driver = webdriver.Chrome(service=service, options=chrome)
        except WebDriverException as err:
            self.kill()
            raise BrowserError(f"Chromium did not start: {err.msg or err}") from None
        self.pgid = os.getpgid(service.process.pid)
        self.driver.set_page_load_timeout(self.options.page_timeout)
        self.driver.set_script_timeout(self.options.page_timeout)
        self._connect_devtools()
        return self

    def _as_unprivileged_user(self, run_as: tuple[int, int]) -> str:
        """Give the session's files to that user; returns its copy of the reaper script,
        which it can run wherever siteaudit itself is installed."""
        reaper = Path(self.profile_dir) / REAPER.name
        shutil.copyfile(REAPER, reaper)
        reaper.chmod(0o755)
        for path in [Path(self.profile_dir), *Path(self.profile_dir).rglob("*")]:
            os.chown(path, *run_as, follow_symlinks=False)
        return str(reaper)

    def _connect_devtools(self) -> None:
        assert self.driver is not None
        address = self.driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
        handle = self.driver.current_window_handle
        with urllib.request.urlopen(f"http://{address}/json", timeout=10) as reply:
            targets = json.load(reply)
        # ChromeDriver's window handle is the DevTools target id of that tab.
        pages = [t for t in targets if t["type"] == "page"]
        page = next((t for t in pages if t["id"] == handle), pages[0])
        self.devtools = DevTools(page["webSocketDebuggerUrl"])
        self.devtools.main_frame_id = page["id"]
        # Dialogs would stop the page (and WebDriver) until someone answers them.
        self.devtools.use_credentials(self.options)
        self.devtools.call("Page.enable")
        self.devtools.call("Page.addScriptToEvaluateOnNewDocument", {"source": NO_DIALOGS_JS})

    def axe_version(self) -> tuple[str, list[str]]:
        """The axe-core version and the ids of every rule it has, read on a blank page."""
        assert self.driver is not None
        self.driver.get("about:blank")
        return self._axe_call(lambda axe: axe.version())

    def audit(self, job: PageJob) -> AxeOutcome:
        """Load the crawler's copy of a page and run axe-core on it and its frames."""
        assert self.driver is not None and self.devtools is not None
        self.devtools.expect(job, self.options.blocked_hosts)
        try:
            self.driver.get(job.url)
        except TimeoutException:
            raise PageLoadError(
                f"page did not finish loading in {self.options.page_timeout:g}s"
            ) from None
        finally:
            self.pages_audited += 1
        if not self.devtools.fulfilled:
            raise PageLoadError("browser did not request the page (blocked or not a document)")
        self.devtools.check_document()  # axe runs on the page given, never another document
        outcome = self._run_axe()
        self.devtools.check_document()  # nor on one that tried to leave while axe ran
        outcome.blocked = list(self.devtools.blocked)
        if len(job.body) > LARGE_PAGE_BYTES:
            # Let the tab free a large page's memory now, not when the next page comes.
            with contextlib.suppress(WebDriverException):
                self.driver.get("about:blank")
        return outcome

    def _run_axe(self) -> AxeOutcome:
        return self._axe_call(lambda axe: axe.run())

    def _axe_call(self, call: Callable[[AxeSession], T]) -> T:
        """Run axe-core in isolated worlds of the loaded page (browser/axe_session.py)."""
        assert self.driver is not None and self.devtools is not None
        if self.axe is None:
            address = self.driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
            self.axe = AxeSession(
                self.devtools,
                address,
                self.options.axe_path,
                self.options.run_only,
                self.options.page_timeout,
            )
        try:
            return call(self.axe)
        except AxeError as err:
            raise PageLoadError(str(err)) from None

    def healthy(self) -> bool:
        return (
            self.driver is not None
            and self.devtools is not None
            and self.devtools.listener.is_alive()
        )

    def close(self) -> None:
        """Quit politely, then make sure nothing of this session is left running."""
        if self.devtools:
            self.devtools.close()
        if self.driver:
            with contextlib.suppress(Exception):
                self.driver.quit()
        self.kill()

    def kill(self) -> None:
        """Kill ChromeDriver, Chromium and all their helpers: the whole process group."""
        if self.pgid:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pgid, signal.SIGKILL)
        proxy, self.proxy = self.proxy, None
        if proxy:
            proxy.close()
        shutil.rmtree(self.profile_dir, ignore_errors=True)


NO_DIALOGS_JS = """
window.alert = () => undefined;
window.confirm = () => false;
window.prompt = () => null;
window.print = () => undefined;
"""
