"""Launching Chromium and ChromeDriver: their options, flags, environment and sandbox user."""

from __future__ import annotations

import functools
import os
import pwd
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service

from browser.axe_core import AxeCoreNotFound, axe_source_path
from vocabulary.checks import CHECKS

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


class BrowserError(Exception):
    """The browser could not be started or has died."""


class DriverExited(WebDriverException):
    """ChromeDriver exited before it answered: the reaper script ended with it."""


class ReapedService(Service):
    """ChromeDriver's service, run under the reaper script, which ends when ChromeDriver does.

    Selenium looks at the script between its tries to connect: a ChromeDriver that exits as
    it starts (missing libraries, a wrong version) is seen at the next look, within a second,
    and named as such, instead of after its 30 s of tries to connect.
    """

    def assert_process_still_running(self) -> None:
        if self.process.poll() is not None:
            raise DriverExited("ChromeDriver exited as it started")


@dataclass(frozen=True)
class BrowserOptions:
    chromium: str = "/usr/bin/chromium"
    chromedriver: str = "/usr/bin/chromedriver"
    page_timeout: float = 30.0
    # The viewport pages are laid out and audited at, in CSS pixels (audit.viewport).
    viewport: tuple[int, int] = (1280, 1024)
    axe_path: Path | None = None  # None: wherever browser/axe_core.py finds it
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
    # audit.screenshots: pictures of the elements found (browser/element_pictures.py).
    screenshots: bool = True
    # audit.checks: axe-core and siteaudit's own browser checks (vocabulary/checks.py).
    checks: tuple[str, ...] = CHECKS

    @property
    def sandbox(self) -> bool:
        return os.geteuid() != 0 or self.run_as is not None


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
    try:
        axe_source_path(options.axe_path)
    except AxeCoreNotFound as err:
        raise BrowserError(str(err)) from None


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
    # Headless Chromium keeps a window at least 500 pixels wide: the exact viewport, a
    # phone's too, is set through DevTools once the tab is open (viewport_override).
    chrome.add_argument("--window-size={},{}".format(*options.viewport))
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


def viewport_override(options: BrowserOptions) -> dict[str, object]:
    """DevTools' Emulation.setDeviceMetricsOverride parameters for the audit's viewport: a
    desktop browser's (no touch, no mobile meta viewport) at exactly that size."""
    width, height = options.viewport
    return {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}


def disabled_features(options: BrowserOptions) -> list[str]:
    """Chromium features switched off, in one flag: Chromium reads only the last of several."""
    # A spare renderer kept warm for the next site costs ~40 MB per browser, for nothing:
    # each tab opens one page and waits for axe.
    features = ["SpareRendererForSitePerProcess"]
    if options.local_site:
        features.append("LocalNetworkAccessChecks")
    return features


def chromedriver_service(options: BrowserOptions, profile_dir: str) -> ReapedService:
    """ChromeDriver under the reaper script, in a new session (process group) of its own.

    The group lets Chromium and every helper it spawns be killed at once if the browser
    hangs; the reaper script kills the group if siteaudit dies.
    """
    home = Path(profile_dir) / "home"
    home.mkdir()
    env = browser_environment(home, options.chromedriver)
    if options.ca_file:
        trust_authorities(home, options.ca_file)
    reaper, popen_kw = str(REAPER), {"start_new_session": True}
    if options.run_as:
        reaper, popen_kw = (
            give_to_user(profile_dir, options.run_as),
            {
                **popen_kw,
                "user": options.run_as[0],
                "group": options.run_as[1],
                "extra_groups": [],
            },
        )
        env["USER"] = env["LOGNAME"] = pwd.getpwuid(options.run_as[0]).pw_name
    return ReapedService(reaper, env=env, popen_kw=popen_kw)


def give_to_user(profile_dir: str, run_as: tuple[int, int]) -> str:
    """Give the session's files to that user; returns its copy of the reaper script,
    which it can run wherever siteaudit itself is installed."""
    reaper = Path(profile_dir) / REAPER.name
    shutil.copyfile(REAPER, reaper)
    reaper.chmod(0o755)
    for path in [Path(profile_dir), *Path(profile_dir).rglob("*")]:
        os.chown(path, *run_as, follow_symlinks=False)
    return str(reaper)


def start_chromium(
    service: ReapedService, chrome: webdriver.ChromeOptions, chromedriver: str
) -> webdriver.Chrome:
    """ChromeDriver started as the service, driving a Chromium started with those options."""
    try:
        return webdriver.Chrome(service=service, options=chrome)
    except DriverExited:
        raise BrowserError(
            f"ChromeDriver exited as it started ({chromedriver}); run `{chromedriver} "
            "--version` to see why, and install Debian's chromium-driver to match Chromium "
            "(apt-get install chromium chromium-driver)"
        ) from None
    except WebDriverException as err:
        raise BrowserError(f"Chromium did not start: {err.msg or err}") from None
