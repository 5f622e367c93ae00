"""One long-lived headless Chromium session that audits pages with axe-core.

Chromium is started by browser/launch.py, behind the proxy in browser/browser_proxy.py; the
crawler's copy of each page reaches it through the DevTools connection of
browser/devtools.py, and axe-core runs on it in isolated worlds (browser/axe_session.py).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from typing import TypeVar

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException

from browser.axe_core import axe_source_path
from browser.axe_session import AxeError, AxeOutcome, AxeSession
from browser.browser_proxy import GuardedProxy
from browser.devtools import DevTools, PageJob, PageLoadError, connect_to_tab
from browser.element_pictures import (
    MAX_PICTURED,
    PageViews,
    PictureCache,
    join_views,
    pictures_taken,
    view_page,
)
from browser.focus_templates import FocusTemplates
from browser.launch import (
    BrowserError,
    BrowserOptions,
    chrome_options,
    chromedriver_service,
    start_chromium,
    viewport_override,
)
from browser.own_checks import (
    CheckPage,
    CheckResult,
    restore_viewport,
    run_checks,
    run_one_check,
)
from vocabulary.checks import AXE, BROWSER_CHECKS, LAYOUT_CHECKS

T = TypeVar("T")

# The browser checks that leave the page's layout alone: they run before the pictures.
READING_CHECKS = tuple(name for name in BROWSER_CHECKS if name not in LAYOUT_CHECKS)

# A page this large is left for about:blank once audited, so its tab's memory is freed.
LARGE_PAGE_BYTES = 256 * 1024
# The time putting back the audit's viewport for the next page may take.
VIEWPORT_SECONDS = 10.0


class BrowserSession:
    """A Chromium + ChromeDriver pair in its own process group, audited through axe-core."""

    def __init__(
        self,
        options: BrowserOptions,
        pictures: PictureCache | None = None,
        focus_templates: FocusTemplates | None = None,
    ) -> None:
        self.options = options
        # Pictures of elements already pictured in this scan, shared with the pool's others.
        self.picture_cache = pictures
        # Tab walks of the site's templates, shared likewise (this session's own if none).
        self.focus_templates = focus_templates or FocusTemplates()
        self.profile_dir = tempfile.mkdtemp(prefix="siteaudit-chromium-")
        self.driver: webdriver.Chrome | None = None
        self.devtools: DevTools | None = None
        self.proxy: GuardedProxy | None = None
        self.pgid: int | None = None
        self.pages_audited = 0
        self.axe: AxeSession | None = None

    def start(self) -> BrowserSession:
        """Start ChromeDriver and Chromium behind their proxy, and connect to Chromium's tab."""
        service = chromedriver_service(self.options, self.profile_dir)
        self.proxy = GuardedProxy(self.options.private_hosts).start()
        chrome = chrome_options(self.options, self.profile_dir, self.proxy.url)
        try:
            self.driver = start_chromium(service, chrome, self.options.chromedriver)
        except BrowserError:
            self.kill()
            raise
        self.pgid = os.getpgid(service.process.pid)
        self.driver.set_page_load_timeout(self.options.page_timeout)
        self.driver.set_script_timeout(self.options.page_timeout)
        self._connect_devtools()
        return self

    def _connect_devtools(self) -> None:
        assert self.driver is not None
        address = self.driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
        self.devtools = connect_to_tab(address, self.driver.current_window_handle)
        self.devtools.use_credentials(self.options)
        self.devtools.call("Page.enable")
        # The page has focus as a window on a person's screen would, whether or not the
        # headless window has: focus that a script puts on an element (a template walk's
        # start, browser/focus_js.py) is the page's at once, not at its first key press.
        self.devtools.call("Emulation.setFocusEmulationEnabled", {"enabled": True})
        # The page's layout is audit.viewport's, whatever the window's size can be.
        self.devtools.call("Emulation.setDeviceMetricsOverride", viewport_override(self.options))
        # Dialogs would stop the page (and WebDriver) until someone answers them.
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
        page = CheckPage(self.devtools, self._check_deadline(), self.options.viewport)
        page.focus_templates = self.focus_templates
        try:
            self._check_and_picture(outcome, page)
            self.devtools.check_document()  # nor on one that tried to leave while checked
            outcome.blocked = list(self.devtools.blocked)
        finally:
            self._leave_page(job, page, outcome)
        return outcome

    def _check_deadline(self) -> float:
        return time.monotonic() + self.options.page_timeout

    def _leave_page(self, job: PageJob, page: CheckPage, outcome: AxeOutcome) -> None:
        """Put back the audit's viewport if the layout checks left the page at another, with
        time of its own (the next page's audit needs it, whatever time this page's checks
        had left); and let the tab free a large page's memory now, not when the next page
        comes. The viewport goes back on the page itself: leaving for about:blank first
        would spare the page's layout at its own size, but costs more, as Chromium then
        starts a new renderer process for most next pages (docs/performance.md)."""
        assert self.driver is not None
        if page.laid_out_elsewhere:
            page.deadline = max(page.deadline, time.monotonic() + VIEWPORT_SECONDS)
            run_one_check("viewport", restore_viewport, page, outcome.own)
        if len(job.body) > LARGE_PAGE_BYTES:
            with contextlib.suppress(WebDriverException):
                self.driver.get("about:blank")

    def _check_and_picture(self, outcome: AxeOutcome, page: CheckPage) -> None:
        """The own checks and the pictures, in docs/design.md's order: the checks that
        leave the layout alone, the pictures of what axe and they found, then the layout
        checks, each of which pictures its elements as it sees them fail (CheckPage.picture:
        at 320 px wide, at half the audit's size, with WCAG's text spacing), so the picture
        shows the fault and the page is never laid out at its own size again for it. The
        audit's viewport is put back, with no wait for a frame, as the page is left
        (_leave_page)."""
        deadline = page.deadline
        outcome.own = run_checks(page, self.options.checks, READING_CHECKS)
        parts = [(self._view_elements(outcome, deadline), violation_nodes(outcome))]

        def picture_where_seen(found: CheckResult, look: str) -> None:
            most = max(MAX_PICTURED - sum(pictures_taken(views) for views, _ in parts), 0)
            views = self._view_elements(found, deadline, most, look)
            parts.append((views, violation_nodes(found)))

        page.picture = picture_where_seen
        outcome.own.add(run_checks(page, self.options.checks, LAYOUT_CHECKS))
        outcome.views = join_views(parts)

    def _view_elements(
        self,
        found: AxeOutcome | CheckResult,
        deadline: float,
        most: int | None = None,
        look: str = "",
    ) -> PageViews:
        """Where the elements found are, and their pictures, in what is left of the
        checks' time: taking them never fails the audit (browser/element_pictures.py)."""
        assert self.devtools is not None
        return view_page(
            self.devtools, found, deadline, self.options.screenshots, self.picture_cache, most, look
        )

    def _run_axe(self) -> AxeOutcome:
        if AXE not in self.options.checks:  # --checks without axe: the own checks alone
            return AxeOutcome([], [], "", 0, 0, [])
        return self._axe_call(lambda axe: axe.run())

    def _axe_call(self, call: Callable[[AxeSession], T]) -> T:
        """Run axe-core in isolated worlds of the loaded page (browser/axe_session.py)."""
        assert self.driver is not None and self.devtools is not None
        if self.axe is None:
            address = self.driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
            self.axe = AxeSession(
                self.devtools,
                address,
                axe_source_path(self.options.axe_path),
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


def violation_nodes(found: AxeOutcome | CheckResult) -> int:
    """How many elements the violations name: where the needs-review ones start."""
    return sum(len(rule["nodes"]) for rule in found.results()["violations"])
