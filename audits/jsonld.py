"""JSON-LD as pages write it: comment-wrapped blocks, nested graphs, values as strings."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from typing import Any


def load_json(text: str) -> Any:
    """The JSON in a <script type="application/ld+json">, or None if it is not JSON."""
    cleaned = without_comment_markers(text)
    try:
        return json.loads(cleaned, strict=False)
    except (ValueError, RecursionError):
        return None


_OPENERS = ("<!--", "<![CDATA[")
_CLOSERS = ("-->", "]]>")


def without_comment_markers(text: str) -> str:
    """JSON-LD without the HTML comment or CDATA markers some CMSs wrap it in ("// <!--").

    String methods, not a pattern: one with two runs of optional space (\\s*(?://)?\\s*)
    tries every split of a run of spaces, at every start (20,000 spaces took 5 s).
    """
    rest = text.lstrip()
    after_slashes = rest[2:].lstrip() if rest.startswith("//") else rest
    opener = next((o for o in _OPENERS if after_slashes.startswith(o)), None)
    if opener is not None:
        rest = after_slashes[len(opener) :]
    body = rest.rstrip()
    closer = next((c for c in _CLOSERS if body.endswith(c)), None)
    if closer is None:
        return rest
    body = body[: -len(closer)].rstrip()
    return body[:-2] if body.endswith("//") else body


def walk(data: Any, names: Collection[str]) -> Iterator[tuple[str, str]]:
    """(key, raw value) for every property of these names anywhere in a JSON-LD document."""
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, dict):
            for key, value in node.items():
                name = key.rsplit("/", 1)[-1].rsplit(":", 1)[-1]  # "schema:dateModified"
                if name in names:
                    yield from ((name, raw) for raw in _strings(value))
                elif isinstance(value, dict | list):
                    stack.append(value)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict) and isinstance(value.get("@value"), str):
        yield value["@value"]  # {"@value": "2019-03-12", "@type": "Date"}
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
