"""The pictures of elements already pictured in a scan, reused for the same element later."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from browser.element_pictures import Picture

# The most elements, and bytes of pictures, a scan's PictureCache keeps.
CACHE_KEYS = 10_000
CACHE_BYTES = 64_000_000


class PictureCache:
    """The pictures of elements already pictured in this scan, shared by the pool's sessions
    (each in its own thread): least recently used first out, bounded in keys and bytes.

    The pictures themselves are kept, not only their ids, so every page that uses them sends
    them to the store again (stored once: INSERT OR IGNORE), and no finding can point to a
    picture whose first page was never stored.
    """

    def __init__(self, max_keys: int = CACHE_KEYS, max_bytes: int = CACHE_BYTES) -> None:
        self.max_keys, self.max_bytes = max_keys, max_bytes
        self.entries: OrderedDict[str, tuple[Picture, Picture | None]] = OrderedDict()
        self.bytes = 0
        self.hits = 0
        self.lock = threading.Lock()

    def get(self, key: str) -> tuple[Picture, Picture | None] | None:
        with self.lock:
            found = self.entries.get(key)
            if found is not None:
                self.entries.move_to_end(key)
                self.hits += 1
            return found

    def put(self, key: str, element: Picture, page: Picture | None) -> None:
        with self.lock:
            if key in self.entries:
                return
            self.entries[key] = (element, page)
            self.bytes += entry_bytes(element, page)
            while len(self.entries) > self.max_keys or self.bytes > self.max_bytes:
                _, old = self.entries.popitem(last=False)
                self.bytes -= entry_bytes(*old)


def entry_bytes(element: Picture, page: Picture | None) -> int:
    return len(element.image) + (len(page.image) if page else 0)


def element_key(
    node: dict[str, Any], box: dict[str, int] | None, viewport: Any, look: str = ""
) -> str | None:
    """What makes two elements' pictures the same: axe's target and ancestry path, its HTML
    as axe gives it, the element's box on the page, the window's size, and the styles a
    check put on the page (`look`: WCAG's text spacing changes the picture, not the box)."""
    if not box or not isinstance(viewport, list):
        return None
    parts = [node.get("target"), node.get("ancestry"), node.get("html"), box, viewport]
    if look:  # the keys of pictures of the page as loaded are as they were
        parts.append(look)
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
