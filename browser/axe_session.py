"""axe-core run in CDP isolated worlds, where the audited page's own scripts cannot reach it.

A page's scripts share the DOM with an isolated world but none of its JavaScript: not
`window.axe`, not `Promise`, `JSON` or `Array.prototype`. So a page cannot replace axe,
patch what axe calls, or rewrite its results. Each frame gets its own world: frames in the
page's process through the page's DevTools connection, out-of-process frames (another
site, under site isolation) through a connection to that frame's own DevTools target.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import websocket

from browser.element_pictures import PageViews
from browser.own_checks import CheckResult

log = logging.getLogger(__name__)

WORLD = "siteaudit-axe"
# Frames inside frames deeper than this are counted but not audited: a page cannot make the
# audit recurse without end.
MAX_FRAME_DEPTH = 10


class AxeError(Exception):
    """axe-core could not run on this page; the message is the reason recorded for it."""


class Connection(Protocol):
    """A DevTools connection to one target: the session's DevTools, or a FrameTarget."""

    def call(
        self, method: str, params: dict[str, Any] | None = None, timeout: float = 10
    ) -> Any: ...


@dataclass
class AxeOutcome:
    violations: list[dict[str, Any]]
    incomplete: list[dict[str, Any]]
    axe_version: str
    frames_present: int
    frames_audited: int
    blocked: list[str]
    # Where each element is, and pictures of them (browser/element_pictures.py).
    views: PageViews = field(default_factory=PageViews)
    # What siteaudit's own browser checks found (browser/own_checks.py).
    own: CheckResult = field(default_factory=CheckResult)

    def results(self) -> dict[str, list[dict[str, Any]]]:
        """axe-core's rules and the own checks', violations then needs-review: the order
        of the page's findings and of their views."""
        return {
            "violations": self.violations + self.own.violations,
            "incomplete": self.incomplete + self.own.incomplete,
        }


class FrameTarget:
    """A DevTools connection of its own to an out-of-process frame's target."""

    def __init__(self, ws_url: str, timeout: float) -> None:
        self.ws = websocket.create_connection(ws_url, suppress_origin=True, timeout=timeout)
        self.next_id = 0

    def call(self, method: str, params: dict[str, Any] | None = None, timeout: float = 10) -> Any:
        self.next_id += 1
        deadline = time.monotonic() + timeout
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params or {}}))
        while True:  # events may come first: this connection enables no domain, so few do
            left = deadline - time.monotonic()
            if left <= 0:
                raise AxeError(f"DevTools did not answer {method}")
            self.ws.settimeout(left)
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.next_id:
                break
        if "error" in reply:
            raise AxeError(f"DevTools {method}: {reply['error'].get('message')}")
        return reply.get("result")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close()


@dataclass
class World:
    """axe-core loaded into one frame's isolated world."""

    connection: Connection
    context_id: int


class AxeSession:
    """Runs axe-core on the page a browser session has loaded, frames included."""

    def __init__(
        self,
        devtools: Connection,
        debugger_address: str,
        axe_path: Path,
        run_only: tuple[str, ...],
        timeout: float,
    ) -> None:
        self.devtools = devtools
        self.debugger_address = debugger_address
        self.source = Path(axe_path).read_text(encoding="utf-8")
        self.timeout = timeout
        self.options = axe_options(run_only)
        self.deadline = 0.0
        self.frame_targets: list[FrameTarget] = []

    def version(self) -> tuple[str, list[str]]:
        """The axe-core version and the ids of every rule it has, read on the loaded page."""
        self.deadline = time.monotonic() + self.timeout
        world = self._world(self.devtools, self._main_frame_id())
        rules = self._call(world, "() => axe.getRules().map((r) => r.ruleId)")
        return str(self._call(world, "() => axe.version")), sorted(rules)

    def run(self) -> AxeOutcome:
        """axe-core on the loaded page: runPartial in every frame, finishRun in the top one."""
        self.deadline = time.monotonic() + self.timeout
        try:
            top = self._world(self.devtools, self._main_frame_id())
            version = str(self._call(top, "() => axe.version"))
            frames = self._call(top, FRAME_CONTEXTS_JS, None, self.options)
            if not frames:
                return _outcome(self._call(top, RUN_JS, self.options), version, 0, 0)
            partials, present, audited = self._run_partial(top, None, frames)
            result = self._call(top, FINISH_JS, partials, self.options)
            return _outcome(result, version, present, audited)
        finally:
            for target in self.frame_targets:
                target.close()
            self.frame_targets = []

    def _run_partial(
        self, world: World, context: Any, frames: list[dict[str, Any]], depth: int = 1
    ) -> tuple[list[Any], int, int]:
        """axe's runPartial in this frame and, depth first, in every frame inside it."""
        partials = [self._call(world, PARTIAL_JS, context, self.options)]
        present = audited = 0
        for frame in frames:
            present += 1
            try:
                if depth > MAX_FRAME_DEPTH:
                    raise AxeError(f"frame nested more than {MAX_FRAME_DEPTH} deep")
                inner = self._frame_world(world, frame["frameSelector"])
                contexts = self._call(inner, FRAME_CONTEXTS_JS, frame["frameContext"], self.options)
                sub, sub_present, sub_audited = self._run_partial(
                    inner, frame["frameContext"], contexts, depth + 1
                )
            except AxeError as err:
                if time.monotonic() >= self.deadline:
                    raise
                log.info("frame not audited: %s", err)
                partials.append(None)
                continue
            partials += sub
            present, audited = present + sub_present, audited + 1 + sub_audited
        return partials, present, audited

    def _frame_world(self, parent: World, selector: Any) -> World:
        """An isolated world in the frame that `selector` picks out in the parent frame."""
        element = self._remote(parent, "(s) => axe.utils.shadowSelect(s)", selector)
        node = self._send(parent.connection, "DOM.describeNode", {"objectId": element})
        self._send(parent.connection, "Runtime.releaseObject", {"objectId": element})
        frame_id = node["node"].get("frameId")
        if not frame_id:
            raise AxeError("frame element has no frame")
        try:
            return self._world(parent.connection, frame_id)
        except AxeError:
            # Not in this process: a frame from another site has a DevTools target of its own.
            return self._world(self._frame_target(frame_id), frame_id)

    def _frame_target(self, frame_id: str) -> FrameTarget:
        try:
            with urllib.request.urlopen(
                f"http://{self.debugger_address}/json/list", timeout=self._left()
            ) as reply:
                targets = json.load(reply)
            ws_url = next(
                t["webSocketDebuggerUrl"]
                for t in targets
                if t.get("id") == frame_id and t.get("webSocketDebuggerUrl")
            )
            connection = FrameTarget(ws_url, self._left())
        except StopIteration:
            raise AxeError("frame has no DevTools target") from None
        except (OSError, ValueError, websocket.WebSocketException) as err:
            raise AxeError(f"frame's DevTools target: {err}") from None
        self.frame_targets.append(connection)
        return connection

    def _world(self, connection: Connection, frame_id: str) -> World:
        """A fresh isolated world in that frame, with axe-core loaded into it."""
        params = {"frameId": frame_id, "worldName": WORLD}
        world = World(
            connection,
            self._send(connection, "Page.createIsolatedWorld", params)["executionContextId"],
        )
        params = {"expression": self.source, "contextId": world.context_id, "silent": True}
        if "exceptionDetails" in self._send(connection, "Runtime.evaluate", params):
            raise AxeError("axe-core could not be loaded into the page")
        return world

    def _send(self, connection: Connection, method: str, params: dict[str, Any]) -> Any:
        """One DevTools call within the page's time; every failure is an AxeError."""
        try:
            return connection.call(method, params, self._left())
        except AxeError:
            raise
        except Exception as err:  # noqa: BLE001 - DevTools and websocket errors alike
            if time.monotonic() >= self.deadline:
                raise self._timed_out() from None
            raise AxeError(f"{method}: {str(err).splitlines()[0][:300]}") from None

    def _main_frame_id(self) -> str:
        return self._send(self.devtools, "Page.getFrameTree", {})["frameTree"]["frame"]["id"]

    def _call(self, world: World, function: str, *args: Any) -> Any:
        """Call a function in the world with JSON arguments; its (awaited) JSON result."""
        reply = self._call_function(world, function, args, by_value=True)
        return reply["result"].get("value")

    def _remote(self, world: World, function: str, *args: Any) -> str:
        """Call a function in the world; a DevTools object id for the object it returns."""
        reply = self._call_function(world, function, args, by_value=False)
        if "objectId" not in reply["result"]:
            raise AxeError("frame element not found")
        return reply["result"]["objectId"]

    def _call_function(
        self, world: World, function: str, args: tuple[Any, ...], by_value: bool
    ) -> dict[str, Any]:
        params = {
            "functionDeclaration": function,
            "executionContextId": world.context_id,
            "arguments": [{"value": arg} for arg in args],
            "awaitPromise": True,
            "returnByValue": by_value,
            "silent": True,
        }
        reply = self._send(world.connection, "Runtime.callFunctionOn", params)
        if "exceptionDetails" in reply:
            details = reply["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise AxeError(f"axe-core failed: {str(text).splitlines()[0][:300]}")
        return reply

    def _left(self) -> float:
        """Seconds left of the page's time for axe; a call past it would time out anyway."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self._timed_out()
        return left

    def _timed_out(self) -> AxeError:
        return AxeError(f"axe-core did not finish in {self.timeout:g}s")


def axe_options(run_only: tuple[str, ...]) -> dict[str, Any]:
    """The options every axe-core run of a scan gets."""
    return {
        "runOnly": {"type": "tag", "values": list(run_only)},
        "resultTypes": ["violations", "incomplete"],
        # Full CSS paths, stable whatever else is on the page: the fingerprint uses them.
        "ancestry": True,
    }


def _outcome(result: Any, version: str, present: int, audited: int) -> AxeOutcome:
    if not isinstance(result, dict):
        raise AxeError("axe-core returned no result")
    return AxeOutcome(
        violations=result.get("violations"),  # type: ignore[arg-type]
        incomplete=result.get("incomplete"),  # type: ignore[arg-type]
        axe_version=version,
        frames_present=present,
        frames_audited=audited,
        blocked=[],
    )


# Only what a finding needs leaves the browser: never passes or inapplicable rules.
TRIM_JS = """
  const rule = (x) => ({id: x.id, impact: x.impact, tags: x.tags, help: x.help,
    description: x.description, helpUrl: x.helpUrl,
    nodes: x.nodes.map((n) => ({target: n.target, ancestry: n.ancestry,
      html: (n.html || '').slice(0, 1000),
      impact: n.impact, failureSummary: n.failureSummary}))});
  const trim = (r) => ({violations: r.violations.map(rule), incomplete: r.incomplete.map(rule)});
"""

RUN_JS = f"async (options) => {{ {TRIM_JS}\n  return trim(await axe.run(document, options));\n}}"

FRAME_CONTEXTS_JS = "(context, options) => axe.utils.getFrameContexts(context || document, options)"

PARTIAL_JS = """async (context, options) => {
  try { return await axe.runPartial(context || document, options); } catch (e) { return null; }
}"""

FINISH_JS = f"""async (partials, options) => {{ {TRIM_JS}
  return trim(await axe.finishRun(partials, options));
}}"""
