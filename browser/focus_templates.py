"""The Tab walks of a scan's page templates, block by block, reused for the pages that share them.

A whole walk of a page (browser/focus_js.py) that came round cleanly gives a record of each
block beside its <main> (a header, breadcrumbs, a footer): the block's stops and what was
wrong with each. A later page with blocks of the same signature is walked only through its
other blocks and its <main>, and the known blocks' stops and findings are its too, as the
same HTML in the same page context at the same viewport gives the same walk. Shared by a
pool's browsers (each in its own thread).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

# A scan's blocks kept, least recently used first out: a site's header and footer, met on
# every page, stay; a page's own breadcrumbs go.
MAX_BLOCKS = 1000
MAX_BYTES = 16_000_000  # and about so many bytes of them (a hostile site's blocks stay small)
MAX_STOPS = 1000  # a block's stops (the walk looks at 1000 elements at most)
MAX_SIGNATURES = 200  # blocks looked up for one page
VERDICTS = ("lost", "hidden", "review")
MAX_WHY_CHARS = 2000


class FocusTemplates:
    """The records of blocks seen in whole walks, by signature, bounded in number."""

    def __init__(self, max_blocks: int = MAX_BLOCKS, max_bytes: int = MAX_BYTES) -> None:
        self.max_blocks, self.max_bytes = max_blocks, max_bytes
        self.blocks: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.bytes = 0
        self.reused = 0  # walks that went through part of their page only
        self.lock = threading.Lock()

    def known(self, signatures: Any) -> dict[str, dict[str, Any]]:
        """The records of those of a page's block signatures seen before."""
        if not isinstance(signatures, list):
            return {}
        found = {}
        with self.lock:
            for signature in signatures[:MAX_SIGNATURES]:
                if isinstance(signature, str) and signature in self.blocks:
                    self.blocks.move_to_end(signature)
                    found[signature] = self.blocks[signature]
        return found

    def put(self, records: Any) -> None:
        """Keep a whole walk's block records, those that are records (their shape is checked:
        they come from the checks' script, on a page that may be hostile)."""
        if not isinstance(records, list):
            return
        checked = [r for r in map(checked_record, records[:MAX_SIGNATURES]) if r is not None]
        with self.lock:
            for record in checked:
                if record["sig"] not in self.blocks:
                    self.blocks[record["sig"]] = record
                    self.bytes += record_bytes(record)
                self.blocks.move_to_end(record["sig"])
            while len(self.blocks) > self.max_blocks or self.bytes > self.max_bytes:
                _, old = self.blocks.popitem(last=False)
                self.bytes -= record_bytes(old)

    def count_reuse(self) -> None:
        with self.lock:
            self.reused += 1


def record_bytes(record: dict[str, Any]) -> int:
    """About what a record takes: its signature, its stops and what was said of them."""
    said = sum(len(why) for _, why in record["verdicts"].values())
    return len(record["sig"]) + 8 * len(record["stops"]) + 2 * said


def checked_record(record: Any) -> dict[str, Any] | None:
    """A block's record as FOCUS_START_JS takes it back, or None if it is not one."""
    if not isinstance(record, dict) or not isinstance(record.get("sig"), str):
        return None
    count, stops = record.get("count"), record.get("stops")
    if not isinstance(count, int) or not isinstance(stops, list) or len(stops) > MAX_STOPS:
        return None
    if not all(isinstance(i, int) and 0 <= i < count for i in stops):
        return None
    given = record.get("verdicts")
    if not isinstance(given, dict) or len(given) > len(stops):
        return None
    verdicts: dict[str, list[str]] = {}
    for key, verdict in given.items():
        if not (isinstance(verdict, list) and len(verdict) == 2 and verdict[0] in VERDICTS):
            return None
        verdicts[str(key)] = [verdict[0], str(verdict[1])[:MAX_WHY_CHARS]]
    return {"sig": record["sig"][:200], "count": count, "stops": stops, "verdicts": verdicts}
