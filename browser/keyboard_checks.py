"""Checks of a page with the keyboard: focus visible, focus order and traps, keyboard use.

They press real keys and move the real mouse through DevTools (Input.dispatchKeyEvent and
Input.dispatchMouseEvent), as a person would, and watch what happens from the checks'
isolated world (browser/keyboard_js.py and, for the Tab walk, browser/focus_js.py have
their JavaScript). Every walk is bounded: key presses, elements looked at, candidates
hovered, and the page's deadline (CheckPage raises CheckError when it has gone). Each
leaves the page as found: nothing focused, scrolled to the top, the mouse away.
"""

from __future__ import annotations

import contextlib
from typing import Any

from browser.focus_js import FOCUS_REPORT_JS, FOCUS_START_JS, FOCUS_STATE_JS, FOCUS_TEMPLATE_JS
from browser.keyboard_js import (
    HOVER_CANDIDATES_JS,
    HOVER_NODE_JS,
    HOVER_PREPARE_JS,
    HOVER_SHOWN_JS,
    KEYBOARD_REPORT_JS,
    KEYBOARD_SCAN_JS,
    RESET_JS,
)
from browser.own_checks import CheckError, CheckPage, CheckResult, rule_result

# The Tab walk: at most this many presses, whatever the page; the number of elements that
# can take focus, and a margin for those added as focus moves.
MAX_PRESSES = 300
PRESS_MARGIN = 10
# The first look at where focus has got to comes after the number of elements that can take
# focus + 2: in Chromium, the press after the last stop leaves the page and the next comes
# back to the first stop, so on most pages one look finds the walk complete (a press costs
# Chromium about a millisecond of CPU). After that, a look every PRESS_CHUNK presses.
FIRST_LOOK_MARGIN = 2
PRESS_CHUNK = 25
# Focus on the same element at this many presses in a row, and nothing moving: stuck.
STUCK_KEYS = 3
MAX_ELEMENTS = 1000  # elements whose looks are kept
MAX_EVENTS = 3000  # keydown, focus and blur events recorded
MAX_FOCUS_ORDER = 200  # stops stored in pages.focus_order
# The keyboard check: candidates looked at, of which so many get an event-listener look.
MAX_KEYBOARD_CANDIDATES = 200
MAX_LISTENER_LOOKS = 30
# The hover check: elements hovered, CSS rules read, hidden elements watched per hover.
MAX_HOVERS = 8
MAX_CSS_RULES = 3000
MAX_HIDDEN = 200

KEYBOARD_GROUP = "siteaudit-keyboard"  # DevTools' object group for the check's elements
TAB = {"key": "Tab", "code": "Tab", "windowsVirtualKeyCode": 9, "nativeVirtualKeyCode": 9}
ESCAPE = {"key": "Escape", "code": "Escape", "windowsVirtualKeyCode": 27}
SHIFT = 8  # DevTools' modifier bit for Shift


def press(page: CheckPage, key: dict[str, Any], modifiers: int = 0, times: int = 1) -> None:
    """Real key presses. Each is a key down; the key comes up after the first press and after
    the last only: a page that reacts to its release (a "keyboard user" class set on keyup)
    has seen one before the walk's first look, and Chromium's input handling, most of a
    long walk's cost, is halved (the focus check's CPU a quarter less). The events go to
    the browser in one write, so a press costs the browser's time, not a round trip, and
    Chromium handles them back to back; the last is awaited, within the page's deadline."""
    events: list[dict[str, Any]] = []
    for i in range(times):
        events.append({"type": "rawKeyDown", "modifiers": modifiers, **key})
        if i in (0, times - 1):
            events.append({"type": "keyUp", "modifiers": modifiers, **key})
    page.send_each("Input.dispatchKeyEvent", events)


def mouse_to(page: CheckPage, x: float, y: float) -> None:
    page.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y})


def mouse_away(page: CheckPage) -> None:
    # The bottom-right corner is sure to be inside the page yet seldom over something that
    # reacts to the mouse.
    width, height = page.viewport
    mouse_to(page, width - 1, height - 1)


def leave_page_as_found(page: CheckPage, mouse_moved: bool = False) -> None:
    """Nothing focused, nothing selected, the mouse away, scrolled to the top: best effort,
    as the check's own error (or the deadline) is what is reported."""
    if mouse_moved:
        with contextlib.suppress(CheckError):
            mouse_away(page)
    with contextlib.suppress(CheckError):
        page.js(RESET_JS)


# --- focus: focus visible, focus lost, keyboard traps, the focus order ---


def check_focus(page: CheckPage) -> CheckResult:
    """Tab through the page, recording each stop and how it looks focused and unfocused:
    through the blocks of its template not seen before and its <main> only, when earlier
    pages' walks went through the others (CheckPage.focus_templates; browser/focus_js.py
    says what makes two blocks the same)."""
    templates = page.focus_templates
    known: dict[str, Any] = {}
    if templates is not None and (signatures := page.js(FOCUS_TEMPLATE_JS)):
        known = templates.known(signatures)
    found, stuck_both_ways = walk_focus(page, known or None)
    if found.get("unexpected"):
        # Focus went where the known blocks did not say: the whole page, as if never seen.
        found, stuck_both_ways = walk_focus(page, None)
    elif templates is not None and found.get("reused"):
        templates.count_reuse()
    if templates is not None and found.get("template"):
        templates.put(found["template"])
    return focus_result(found, stuck_both_ways)


def walk_focus(page: CheckPage, known: dict[str, Any] | None) -> tuple[dict[str, Any], bool]:
    """One Tab walk, the page left as found; its report, and whether focus stuck on an
    element both ways. With `known`, the records of blocks of its template seen before."""
    found: dict[str, Any] | None = None
    reported = False
    try:
        started = page.js(FOCUS_START_JS, MAX_ELEMENTS, MAX_EVENTS, known) or {}
        tabbable = int(started.get("tabbable", 0))
        budget = min(tabbable + PRESS_MARGIN, MAX_PRESSES)
        found, stuck_both_ways = tab_walk(page, budget, min(tabbable + FIRST_LOOK_MARGIN, budget))
        reported = True  # the report's call left the page as found
    finally:
        if not reported:
            leave_page_as_found(page)
    if not found:
        raise CheckError("the Tab walk's record was lost")
    return found, stuck_both_ways


def tab_walk(page: CheckPage, budget: int, first: int) -> tuple[dict[str, Any] | None, bool]:
    """Press Tab in chunks (`first` presses, then PRESS_CHUNK at a time) until focus comes
    round to its first stop, sticks on one element, or the budget is spent. The walk's
    report (FOCUS_REPORT_JS's, the page left as found), and whether focus stuck on an
    element that Shift+Tab could not move it from either."""
    pressed = 0
    while pressed < budget:
        # Enough for the whole page at first: one look at the end is then enough.
        chunk = first if pressed == 0 else min(PRESS_CHUNK, budget - pressed)
        press(page, TAB, times=chunk)
        pressed += chunk
        state = page.js(FOCUS_STATE_JS, STUCK_KEYS, MAX_FOCUS_ORDER) or {}
        if "report" in state:  # focus came round, or the record is full
            return state["report"], False
        stuck = int(state.get("stuck", -1))
        if stuck >= 0:
            press(page, TAB, SHIFT, times=STUCK_KEYS)
            again = page.js(FOCUS_STATE_JS, STUCK_KEYS, -1) or {}
            both_ways = int(again.get("stuck", -1)) == stuck
            return page.js(FOCUS_REPORT_JS, MAX_FOCUS_ORDER, stuck, both_ways), both_ways
    return page.js(FOCUS_REPORT_JS, MAX_FOCUS_ORDER, -1, False), False


def focus_result(found: dict[str, Any], stuck_both_ways: bool) -> CheckResult:
    result = CheckResult(focus_order=[str(s) for s in found.get("order") or []])
    if found.get("lost"):
        result.violations.append(rule_result("siteaudit-focus-lost", found["lost"]))
    if found.get("hidden"):
        result.violations.append(rule_result("siteaudit-focus-visible", found["hidden"]))
    if found.get("review"):
        result.incomplete.append(rule_result("siteaudit-focus-visible", found["review"]))
    if trap := found.get("trap"):
        target = result.violations if stuck_both_ways else result.incomplete
        target.append(rule_result("siteaudit-keyboard-trap", trap))
    return result


# --- keyboard: elements that respond to the mouse alone ---


def check_keyboard(page: CheckPage) -> CheckResult:
    """Elements with click or pointer handlers (inline, or listeners DevTools finds on them)
    that take no keyboard focus, or whose handlers no key can set off."""
    context = page.context_id()
    reply = page.send(
        "Runtime.callFunctionOn",
        {
            "functionDeclaration": KEYBOARD_SCAN_JS,
            "executionContextId": context,
            "arguments": [{"value": MAX_KEYBOARD_CANDIDATES}],
            "objectGroup": KEYBOARD_GROUP,
            "silent": True,
        },
    )
    try:
        if "exceptionDetails" in reply:
            raise CheckError("the keyboard check's script failed")
        listeners = listener_types(page, reply["result"].get("objectId"))
        found = page.js(KEYBOARD_REPORT_JS, listeners)
    finally:
        with contextlib.suppress(CheckError):
            page.send("Runtime.releaseObjectGroup", {"objectGroup": KEYBOARD_GROUP})
    if not found:
        raise CheckError("the keyboard check's record was lost")
    result = CheckResult()
    pairs = (
        ("siteaudit-no-keyboard", "noKeyboard", "noKeyboardReview"),
        ("siteaudit-mouse-only", "mouseOnly", "mouseOnlyReview"),
    )
    for rule, certain, review in pairs:
        if found.get(certain):
            result.violations.append(rule_result(rule, found[certain]))
        if found.get(review):
            result.incomplete.append(rule_result(rule, found[review]))
    return result


def listener_types(page: CheckPage, array_id: str | None) -> list[list[str]]:
    """For each candidate in the array, the event types of its own listeners: for the first
    MAX_LISTENER_LOOKS only, each one DevTools call."""
    if not array_id:
        return []
    props = page.send("Runtime.getProperties", {"objectId": array_id, "ownProperties": True})
    ids: list[str | None] = []
    for prop in props.get("result", []):
        if str(prop.get("name", "")).isdigit():
            index = int(prop["name"])
            ids += [None] * (index + 1 - len(ids))
            ids[index] = (prop.get("value") or {}).get("objectId")
    types: list[list[str]] = []
    for object_id in ids[:MAX_LISTENER_LOOKS]:
        if object_id is None:
            types.append([])
            continue
        types.append(page_listener_types(page, object_id))
    return types


def page_listener_types(page: CheckPage, object_id: str) -> list[str]:
    """The event types the page's own scripts listen for on an element of the checks'
    world: DevTools lists only the listeners of the world the element was asked from, so
    the same node is found again in the page's main world first."""
    described = page.send("DOM.describeNode", {"objectId": object_id})
    backend = described.get("node", {}).get("backendNodeId")
    if backend is None:
        return []
    params = {"backendNodeId": backend, "objectGroup": KEYBOARD_GROUP}
    resolved = page.send("DOM.resolveNode", params).get("object", {}).get("objectId")
    if resolved is None:
        return []
    heard = page.send("DOMDebugger.getEventListeners", {"objectId": resolved})
    return sorted({str(x.get("type"))[:30] for x in heard.get("listeners", [])})


# --- hover: content shown on hover that Escape does not close ---


def check_hover(page: CheckPage) -> CheckResult:
    """Hover over a few elements that may show more content; where some appears, press
    Escape and see whether it goes."""
    nodes: list[dict[str, Any]] = []
    count = 0
    try:
        count = int(page.js(HOVER_CANDIDATES_JS, MAX_HOVERS, MAX_CSS_RULES) or 0)
        if count:
            mouse_away(page)
        for i in range(min(count, MAX_HOVERS)):
            if (node := hover_one(page, i)) is not None:
                nodes.append(node)
    finally:
        leave_page_as_found(page, mouse_moved=count > 0)
    result = CheckResult()
    if nodes:
        result.incomplete.append(rule_result("siteaudit-hover-dismiss", nodes))
    return result


def hover_one(page: CheckPage, index: int) -> dict[str, Any] | None:
    """Hover candidate `index`; its finding if what appeared stayed after Escape."""
    point = page.js(HOVER_PREPARE_JS, index, MAX_HIDDEN)
    if not point:
        return None
    # From where the mouse was (away, or over the last candidate) it enters this one anew.
    mouse_to(page, float(point[0]), float(point[1]))
    if not page.js(HOVER_SHOWN_JS, False):
        return None
    press(page, ESCAPE)
    stayed = page.js(HOVER_SHOWN_JS, True)
    node = page.js(HOVER_NODE_JS, index) if stayed else None
    mouse_away(page)
    return node


RUNNERS = {"focus": check_focus, "keyboard": check_keyboard, "hover": check_hover}
