"""The Tab walks of a scan's page templates, reused for the pages that share them.

A whole walk of a page (browser/focus_js.py) that came round cleanly gives its template's
part: the stops before and after the page's <main> and what was wrong with each. A later
page whose template has the same signature is walked only through its own <main>, and the
template's stops and findings are its too, as the same HTML, styles and scripts at the same
viewport give the same walk. Shared by a pool's browsers (each in its own thread).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

MAX_TEMPLATES = 200  # a scan's signatures kept, least recently used first out
MAX_STOPS = 2000  # a template's stops (the walk looks at 1000 elements at most)
VERDICTS = ("lost", "hidden", "review")
MAX_WHY_CHARS = 2000


class FocusTemplates:
    """The template part of whole walks, by signature, bounded in number and size."""

    def __init__(self, max_templates: int = MAX_TEMPLATES) -> None:
        self.max_templates = max_templates
        self.entries: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.reused = 0  # walks that went through <main> only
        self.lock = threading.Lock()

    def get(self, signature: str) -> dict[str, Any] | None:
        with self.lock:
            found = self.entries.get(signature)
            if found is not None:
                self.entries.move_to_end(signature)
            return found

    def put(self, template: Any) -> None:
        """Keep a walk's template part, if it is one (its shape is checked: it comes from
        the page's world's script, on a page that may be hostile)."""
        checked = checked_template(template)
        if checked is None:
            return
        with self.lock:
            self.entries.setdefault(checked["sig"], checked)
            while len(self.entries) > self.max_templates:
                self.entries.popitem(last=False)

    def count_reuse(self) -> None:
        with self.lock:
            self.reused += 1


def checked_template(template: Any) -> dict[str, Any] | None:
    """The template part as FOCUS_START_JS takes it back, or None if it is not one."""
    if not isinstance(template, dict) or not isinstance(template.get("sig"), str):
        return None
    count = template.get("count")
    stops = [template.get("before"), template.get("after")]
    if not isinstance(count, int) or not all(isinstance(s, list) for s in stops):
        return None
    indexes = [t for s in stops for t in s]
    if len(indexes) > MAX_STOPS or not all(isinstance(t, int) and 0 <= t < count for t in indexes):
        return None
    verdicts: dict[str, list[str]] = {}
    given = template.get("verdicts") or {}
    if not isinstance(given, dict) or len(given) > len(indexes):
        return None
    for key, verdict in given.items():
        if not (isinstance(verdict, list) and len(verdict) == 2 and verdict[0] in VERDICTS):
            return None
        verdicts[str(key)] = [verdict[0], str(verdict[1])[:MAX_WHY_CHARS]]
    return {
        "sig": template["sig"][:200],
        "count": count,
        "before": stops[0],
        "after": stops[1],
        "verdicts": verdicts,
    }
