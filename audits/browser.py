"""One long-lived headless Chromium session that audits pages with axe-core.

The crawler has already downloaded each page: the browser never asks the council's
server for it again. A Chrome DevTools Protocol (CDP) connection pauses the page's own
document request and answers it with the crawler's response (Fetch.fulfillRequest), while
the page's stylesheets, scripts and images load normally. The same connection blocks
requests to analytics and advertising hosts and records what it blocked.
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

from audits.axe_session import AxeError, AxeOutcome, AxeSession

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
)

# Headers that describe the crawler's transfer, not the page: the body we hand over is
# already decoded and complete.
HOP_HEADERS = {"content-encoding", "content-length", "transfer-encoding", "connection"}


class BrowserError(Exception):
    """The browser could not be started or has died."""


class PageLoadError(Exception):
    """A page could not be audited; the message is the reason recorded for it."""


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


def chrome_options(options: BrowserOptions, profile_dir: str) -> webdriver.ChromeOptions:
    chrome = webdriver.ChromeOptions()
    chrome.binary_location = options.chromium
    for flag in CHROMIUM_FLAGS:
        chrome.add_argument(flag)
    chrome.add_argument(f"--user-data-dir={profile_dir}")
    if not options.sandbox:
        # Chromium's sandbox cannot start as root; the scan records sandboxed = 0.
        chrome.add_argument("--no-sandbox")
    if options.local_site:
        chrome.add_argument("--disable-features=LocalNetworkAccessChecks")
    if options.ignore_tls_errors:
        chrome.add_argument("--ignore-certificate-errors")
    chrome.page_load_strategy = "normal"
    # alert() and confirm() would block every WebDriver command: dismiss them.
    chrome.unhandled_prompt_behavior = "dismiss"
    return chrome


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
        reply = self.replies.pop(message_id)
        if "error" in reply:
            raise BrowserError(f"DevTools {method}: {reply['error'].get('message')}")
        return reply.get("result")

    def use_credentials(self, options: BrowserOptions) -> None:
        self.credentials = options if options.credential_hosts else None

    credentials: BrowserOptions | None = None

    def expect(self, job: PageJob, blocked_hosts: tuple[str, ...]) -> None:
        """Answer this job's document request from the crawler's copy; block tracker hosts.

        Only the page's own URL is paused: a pattern that paused every document would also
        pause cross-site frames, which Chromium runs in other processes whose paused
        requests this connection never hears of, so they would never load.
        """
        self.job, self.fulfilled, self.blocked = job, False, []
        patterns = [
            {
                "urlPattern": _escape_pattern(job.url),
                "resourceType": "Document",
                "requestStage": "Request",
            }
        ]
        for host in blocked_hosts:
            suffix = "*" if "/" in host else "/*"
            patterns += [
                {"urlPattern": f"*://{host}{suffix}", "requestStage": "Request"},
                {"urlPattern": f"*://*.{host}{suffix}", "requestStage": "Request"},
            ]
        if self.credentials is not None:
            # Every request to the site's own hosts, to add its credentials there only.
            patterns += [
                {"urlPattern": f"*://{host}*", "requestStage": "Request"}
                for host in self.credentials.credential_hosts
            ]
        self.blocked_patterns = blocked_hosts
        self.call(
            "Fetch.enable",
            {"patterns": patterns, "handleAuthRequests": self.credentials is not None},
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

    def _reply(self, message: dict[str, Any]) -> None:
        event = self.pending.pop(message["id"], None)
        if event:
            self.replies[message["id"]] = message
            event.set()

    def _paused(self, params: dict[str, Any]) -> None:
        request_id, url = params["requestId"], params["request"]["url"]
        if _host_matches(url, self.blocked_patterns):
            self.blocked.append(url[:300])
            self.send(
                "Fetch.failRequest", {"requestId": request_id, "errorReason": "BlockedByClient"}
            )
        elif self._is_page_request(params):
            self.fulfilled = True
            self.send("Fetch.fulfillRequest", fulfil_params(request_id, self.job))
        elif self._gets_credentials(url):
            headers = {
                **params["request"].get("headers", {}),
                **dict(self.credentials.credential_headers),
            }  # type: ignore[union-attr]
            if self.credentials.credential_cookie:  # type: ignore[union-attr]
                headers["Cookie"] = "; ".join(
                    part
                    for part in (headers.get("Cookie"), self.credentials.credential_cookie)
                    if part
                )  # type: ignore[union-attr]
            self.send(
                "Fetch.continueRequest",
                {
                    "requestId": request_id,
                    "headers": [{"name": k, "value": v} for k, v in headers.items()],
                },
            )
        else:
            # Frames' documents, and any later navigation, go to the network as usual.
            self.send("Fetch.continueRequest", {"requestId": request_id})

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

    def _is_page_request(self, params: dict[str, Any]) -> bool:
        return (
            self.job is not None
            and not self.fulfilled
            and params.get("resourceType") == "Document"
            and params.get("frameId") == self.main_frame_id
        )

    main_frame_id: str = ""


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
        self.pgid: int | None = None
        self.pages_audited = 0
        self.axe: AxeSession | None = None

    def start(self) -> BrowserSession:
        # A new session (process group) for ChromeDriver, so Chromium and every helper it
        # spawns can be killed at once if the browser hangs.
        # ChromeDriver runs under a reaper script that kills its group if siteaudit dies.
        env = {**os.environ, "SITEAUDIT_CHROMEDRIVER": self.options.chromedriver}
        home = Path(self.profile_dir) / "home"
        home.mkdir()
        env["HOME"] = str(home)  # Chromium's own: never the user's real one
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
        try:
            self.driver = webdriver.Chrome(
                service=service, options=chrome_options(self.options, self.profile_dir)
            )
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
        outcome = self._run_axe()
        outcome.blocked = list(self.devtools.blocked)
        return outcome

    def _run_axe(self) -> AxeOutcome:
        return self._axe_call(lambda axe: axe.run())

    def _axe_call(self, call: Callable[[AxeSession], T]) -> T:
        """Run axe-core in isolated worlds of the loaded page (audits/axe_session.py)."""
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
        shutil.rmtree(self.profile_dir, ignore_errors=True)


NO_DIALOGS_JS = """
window.alert = () => undefined;
window.confirm = () => false;
window.prompt = () => null;
window.print = () => undefined;
"""
