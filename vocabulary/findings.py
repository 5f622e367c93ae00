"""The one finding type: a problem on a page or document, as a row of the findings table."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class Finding:
    """One problem on one element (or on the whole page or document).

    The checks fill in what they know; `placed` gives it its page and team, and `row`
    makes the findings table's row. docs/schema.md describes every field.
    """

    kind: str
    rule_id: str
    outcome: str = "violation"
    impact: str | None = None
    wcag: str | None = None
    level: str | None = None
    selector: str | None = None  # axe's target as JSON: one selector per frame
    snippet: str | None = None
    summary: str | None = None
    help: str | None = None
    help_url: str | None = None
    fingerprint: str | None = None
    scope: str = "content"  # or "template": the shared layout's
    url: str = ""
    team: str | None = None
    # Where the element is, in words: "under 'Bin collection days', the 2nd image".
    location: str | None = None
    # The element's box in the page, CSS pixels, as JSON {"x", "y", "width", "height"}.
    element_box: str | None = None
    picture: str | None = None  # pictures.id: the element, outlined, with some context
    page_picture: str | None = None  # pictures.id: the whole viewport, the element marked
    picture_note: str | None = None  # why there is no picture (hidden, zero-sized...)
    # A person's decision on it (false-positive, accepted, fixed-pending), or
    # "expired" for an accepted one past its date; decided per scan, never copied.
    decision: str | None = None

    def placed(self, url: str, team: str | None) -> Finding:
        """The same finding on a page (or document) and owned by a team."""
        return replace(self, url=url, team=team)

    def row(self, scan_id: int) -> dict[str, Any]:
        """The findings table's row for this finding in a scan."""
        return {"scan_id": scan_id, **{name: getattr(self, name) for name in COLUMNS}}

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Finding:
        """A finding read back from the table (columns it lacks take their defaults)."""
        return cls(**{name: row[name] for name in COLUMNS if name in row})


COLUMNS = tuple(f.name for f in fields(Finding))


def json_list(text: str | None) -> list[Any]:
    """A JSON list column (a finding's selector, a page's long sentences); a value that is
    not one (a page's own axe can send anything) is a one-item list of its text."""
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return [text]
    return value if isinstance(value, list) else [str(value)]


def selector_text(selector: str | list[Any] | None) -> str:
    """axe's frame path (the selector column, or that list read), outermost first, joined
    for reading."""
    parts = selector if isinstance(selector, list) else json_list(selector)
    return " ➜ ".join(" ".join(map(str, p)) if isinstance(p, list) else str(p) for p in parts)
