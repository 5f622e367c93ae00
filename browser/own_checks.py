"""siteaudit's own checks in the browser, run on the page axe-core has just audited.

Each check is a function of a CheckPage that returns a CheckResult: rules in axe-core's
result shape (vocabulary/checks.py names them), so they become findings, locations and
pictures exactly as axe's do. They run in an isolated world of their own, where the page's
scripts cannot reach their code. A check that changes the page (its viewport, its styles,
where focus is) puts it back before it returns, so the next check and the pictures see the
page as loaded, except the viewport: the layout checks go from one size to the next, and
the audit's is put back once after them. One check failing costs that check's results
only, never the audit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from browser.focus_templates import FocusTemplates
from browser.launch import BrowserOptions, viewport_override
from vocabulary.checks import BROWSER_CHECKS, OWN_RULES

log = logging.getLogger(__name__)

WORLD = "siteaudit-checks"
# The most elements one rule reports on a page: a page cannot flood the store.
MAX_NODES = 50
SNIPPET_CHARS = 1000


class CheckError(Exception):
    """A check could not finish on this page; the message says why."""


class Connection(Protocol):
    def call(
        self, method: str, params: dict[str, Any] | None = None, timeout: float = 10
    ) -> Any: ...


@dataclass
class CheckResult:
    """What the checks found, in axe-core's shape: rules, each with its elements."""

    violations: list[dict[str, Any]] = field(default_factory=list)
    incomplete: list[dict[str, Any]] = field(default_factory=list)
    # The page's focus order, as the Tab key moves through it: one selector per stop.
    focus_order: list[str] | None = None
    # "check: reason" for each check that could not finish on this page.
    errors: list[str] = field(default_factory=list)

    def results(self) -> dict[str, list[dict[str, Any]]]:
        """The rules found, as AxeOutcome.results gives axe's (for the pictures)."""
        return {"violations": self.violations, "incomplete": self.incomplete}

    def found_elements(self) -> bool:
        return any(r["nodes"] for r in self.violations + self.incomplete)

    def add(self, other: CheckResult) -> None:
        self.violations += other.violations
        self.incomplete += other.incomplete
        if other.focus_order is not None:
            self.focus_order = other.focus_order
        self.errors += other.errors


class CheckPage:
    """The loaded page as the checks see it: DevTools calls and JavaScript in an isolated
    world, all within the page's deadline."""

    def __init__(self, devtools: Connection, deadline: float, viewport: tuple[int, int]) -> None:
        self.devtools, self.deadline, self.viewport = devtools, deadline, viewport
        self._context_id: int | None = None
        # Pictures a layout check's elements as the page is at that moment, naming the
        # styles the check put on it ("" if none), as the browser session sets it; never
        # raises, as pictures never fail an audit.
        self.picture: Callable[[CheckResult, str], None] = lambda found, look: None
        self._laid_out_elsewhere = False
        self._scrollbars_hidden = False
        # The Tab walks of templates seen on earlier pages (browser/focus_templates.py), as
        # the browser session sets it; None: every page is walked whole.
        self.focus_templates: FocusTemplates | None = None

    def send(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """One DevTools call within the page's time; every failure is a CheckError."""
        params = params or {}
        return self._within_time(method, lambda left: self.devtools.call(method, params, left))

    def send_each(self, method: str, params_list: list[dict[str, Any]]) -> Any:
        """The same DevTools command with each of `params_list`, in order, within the page's
        time: written at once where the connection can (DevTools.call_each), otherwise one
        call at a time. The last one's answer."""
        call_each = getattr(self.devtools, "call_each", None)
        if call_each is None:
            for params in params_list[:-1]:
                self.send(method, params)
            return self.send(method, params_list[-1])
        return self._within_time(method, lambda left: call_each(method, params_list, left))

    def _within_time(self, method: str, call: Callable[[float], Any]) -> Any:
        """`call` given the seconds the page has left; its failures as CheckErrors."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise CheckError("the page's time ran out")
        try:
            return call(left)
        except CheckError:
            raise
        except Exception as err:  # noqa: BLE001 - DevTools and websocket errors alike
            raise CheckError(f"{method}: {str(err).splitlines()[0][:200]}") from None

    def js(self, function: str, *args: Any) -> Any:
        """Call a JavaScript function in the checks' world with JSON arguments; its
        (awaited) JSON result. LIB_JS's `siteauditChecks` is there to use."""
        params = {
            "functionDeclaration": function,
            "executionContextId": self.context_id(),
            "arguments": [{"value": a} for a in args],
            "awaitPromise": True,
            "returnByValue": True,
            "silent": True,
        }
        reply = self.send("Runtime.callFunctionOn", params)
        if "exceptionDetails" in reply:
            details = reply["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise CheckError(f"script failed: {str(text).splitlines()[0][:200]}")
        return reply["result"].get("value")

    @property
    def laid_out_elsewhere(self) -> bool:
        """Whether the page is laid out at another viewport than the audit's."""
        return self._laid_out_elsewhere or self._scrollbars_hidden

    def lay_out_at(self, width: int, height: int, hide_scrollbars: bool = False) -> None:
        """Lay the page out at another viewport, until restore_layout puts back the
        audit's. Checks that need several sizes go from one to the next without going
        back in between: each return to the audit's size costs a layout and a frame."""
        if hide_scrollbars != self._scrollbars_hidden:
            self.send("Emulation.setScrollbarsHidden", {"hidden": hide_scrollbars})
            self._scrollbars_hidden = hide_scrollbars
        size = {"width": width, "height": height}
        self._laid_out_elsewhere = True
        self.send("Emulation.setDeviceMetricsOverride", {**self._audit_metrics(), **size})

    def restore_layout(self, settle: bool = True) -> None:
        """Exactly the audit's viewport again (browser/launch.py viewport_override), once
        the page's own resize handlers have run, scrolled to the top; without `settle`,
        for the next page only (on about:blank: this one is gone). Raises CheckError if
        the time ran out."""
        if self._laid_out_elsewhere:
            self.send("Emulation.setDeviceMetricsOverride", self._audit_metrics())
            self._laid_out_elsewhere = False
            if self._scrollbars_hidden:
                self.send("Emulation.setScrollbarsHidden", {"hidden": False})
                self._scrollbars_hidden = False
            if settle:
                self.js(SETTLE_JS)

    def _audit_metrics(self) -> dict[str, object]:
        return viewport_override(BrowserOptions(viewport=self.viewport))

    def context_id(self) -> int:
        """The checks' isolated world in the top frame, made (and LIB_JS loaded) once."""
        if self._context_id is None:
            # The top frame's id is the tab's target id (browser/devtools.py connect_to_tab).
            frame = getattr(self.devtools, "main_frame_id", "")
            if not frame:
                frame = self.send("Page.getFrameTree")["frameTree"]["frame"]["id"]
            params = {"frameId": frame, "worldName": WORLD}
            context = self.send("Page.createIsolatedWorld", params)["executionContextId"]
            reply = self.send(
                "Runtime.evaluate", {"expression": LIB_JS, "contextId": context, "silent": True}
            )
            if "exceptionDetails" in reply:
                raise CheckError("the checks' script could not be loaded")
            self._context_id = context
        return self._context_id


BrowserCheck = Callable[[CheckPage], CheckResult]


def rule_result(rule_id: str, nodes: list[dict[str, Any]], impact: str | None = None) -> dict:
    """One own rule's result in axe-core's shape, its elements as LIB_JS's `node` gives
    them (at most MAX_NODES, each snippet shortened)."""
    rule = OWN_RULES[rule_id]
    return {
        "id": rule.id,
        "impact": impact or rule.impact,
        "tags": rule_tags(rule_id),
        "help": rule.help,
        "description": rule.help,
        "helpUrl": rule.help_url,
        "nodes": [
            {
                "target": n.get("target") or [],
                "ancestry": n.get("ancestry") or n.get("target") or [],
                "html": str(n.get("html") or "")[:SNIPPET_CHARS],
                "impact": impact or rule.impact,
                "failureSummary": str(n.get("failureSummary") or "")[:SNIPPET_CHARS],
            }
            for n in nodes[:MAX_NODES]
        ],
    }


def rule_tags(rule_id: str) -> list[str]:
    """axe-style tags for an own rule: its level's, then one per criterion ("wcag1410")."""
    rule = OWN_RULES[rule_id]
    level = "wcag2aa" if rule.level == "AA" else "wcag2a"
    return [level, *("wcag" + c.replace(".", "") for c in rule.criteria)]


def run_browser_checks(
    devtools: Connection,
    checks: tuple[str, ...],
    deadline: float,
    viewport: tuple[int, int],
    runners: dict[str, BrowserCheck] | None = None,
) -> CheckResult:
    """The chosen browser checks, in BROWSER_CHECKS order (docs/design.md says why), then
    the audit's viewport again for the pictures if a check laid the page out at another."""
    page = CheckPage(devtools, deadline, viewport)
    result = run_checks(page, checks, BROWSER_CHECKS, runners)
    run_one_check("viewport", restore_layout, page, result)
    return result


def run_checks(
    page: CheckPage,
    checks: tuple[str, ...],
    names: tuple[str, ...],
    runners: dict[str, BrowserCheck] | None = None,
) -> CheckResult:
    """Those of `names` that are chosen, in BROWSER_CHECKS order, each one's failure its
    own; a layout check leaves the page at its viewport (CheckPage.restore_layout)."""
    runners = runners if runners is not None else browser_check_runners()
    result = CheckResult()
    for name in BROWSER_CHECKS:
        if name in names and name in checks and name in runners:
            run_one_check(name, runners[name], page, result)
    return result


def restore_layout(page: CheckPage) -> CheckResult:
    page.restore_layout()
    return CheckResult()


def restore_viewport(page: CheckPage) -> CheckResult:
    """The audit's viewport for the next page, with nothing left to look at on this one."""
    page.restore_layout(settle=False)
    return CheckResult()


def run_one_check(name: str, check: BrowserCheck, page: CheckPage, result: CheckResult) -> None:
    """One check, its results added; its failure is recorded as its error, never raised."""
    try:
        result.add(check(page))
    except CheckError as err:
        log.info("check %s did not finish: %s", name, err)
        result.errors.append(f"{name}: {err}")
    except Exception as err:  # a bug in one check costs its results only
        log.warning("check %s failed on this page", name, exc_info=True)
        result.errors.append(f"{name}: failed ({type(err).__name__})")


def browser_check_runners() -> dict[str, BrowserCheck]:
    """Each browser check by name (vocabulary/checks.py's BROWSER_CHECKS)."""
    from browser import keyboard_checks, layout_checks  # they use this module's helpers

    return {**keyboard_checks.RUNNERS, **layout_checks.RUNNERS}


# After the viewport changes back: the page's own resize handlers run at its next frame, so
# wait for it (at most 100 ms, as a hidden tab has no frames), then scroll to the top.
SETTLE_JS = r"""
async () => {
  await new Promise((done) => {
    const timer = setTimeout(done, 100);
    requestAnimationFrame(() => { clearTimeout(timer); done(); });
  });
  scrollTo({left: 0, top: 0, behavior: 'instant'});
}
"""

# Loaded once into the checks' world. `node(el, summary)` is an element as a finding
# needs it: a selector unique on the page, its full path from <html> (which the
# fingerprint uses, as it does axe's ancestry), its opening tag and what is wrong.
LIB_JS = r"""
var siteauditChecks = (() => {
  const esc = (s) => CSS.escape(s);
  const nth = (el) => {
    let i = 1;
    for (let s = el.previousElementSibling; s; s = s.previousElementSibling) i++;
    return i;
  };
  const step = (el) => el.localName + ':nth-child(' + nth(el) + ')';
  const ancestry = (el) => {
    const parts = [];
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      parts.unshift(e === document.documentElement ? 'html' : step(e));
    }
    return parts.join(' > ');
  };
  const unique = (sel) => {
    try { return document.querySelectorAll(sel).length === 1; } catch (e) { return false; }
  };
  const selector = (el) => {
    if (el.id && unique('#' + esc(el.id))) return '#' + esc(el.id);
    const parts = [];
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      if (e !== el && e.id && unique('#' + esc(e.id))) {
        parts.unshift('#' + esc(e.id));
        return parts.join(' > ');
      }
      parts.unshift(e === document.documentElement ? 'html' : step(e));
      const sel = parts.join(' > ');
      if (parts.length > 1 && unique(sel)) return sel;
    }
    return parts.join(' > ');
  };
  const snippet = (el) => {
    const html = el.outerHTML || '';
    const end = html.indexOf('>');
    return (end >= 0 ? html.slice(0, end + 1) : html).slice(0, 1000);
  };
  const node = (el, summary) => ({
    target: [selector(el)], ancestry: [ancestry(el)], html: snippet(el),
    failureSummary: String(summary || '').slice(0, 1000),
  });
  return {selector, ancestry, snippet, node};
})();
"""
