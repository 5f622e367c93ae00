"""The pictures table: pictures of elements, each stored once, keyed by their bytes' hash."""

from __future__ import annotations

import re
from typing import Any

# What a picture id and format must look like to name a file: the table could have been
# written by anything, so a report never trusts them as paths.
PICTURE_ID = re.compile(r"[0-9a-f]{64}")
FORMATS = ("webp", "png")


def picture_formats(db: Any, scan_id: int) -> dict[str, str]:
    """id -> format of every picture a scan's findings point to."""
    rows = db.execute(
        "SELECT id, format FROM pictures WHERE id IN ("
        "SELECT picture FROM findings WHERE scan_id = ? UNION "
        "SELECT page_picture FROM findings WHERE scan_id = ?)",
        [scan_id, scan_id],
    )
    return {i: f for i, f in rows if PICTURE_ID.fullmatch(str(i)) and f in FORMATS}


def picture_image(db: Any, picture_id: str) -> bytes | None:
    """One picture's bytes, or None if it is not stored."""
    row = db.execute("SELECT image FROM pictures WHERE id = ?", [picture_id]).fetchone()
    return bytes(row[0]) if row and row[0] is not None else None
