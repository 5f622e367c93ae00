"""Text a page supplies, made one line: no control characters or terminal escape sequences."""

from __future__ import annotations

import re

# C0 and C1 control characters, DEL, and the Unicode bidirectional overrides and isolates
# (which reorder what a terminal or a reviewer sees, as in "Trojan Source").
CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Whole terminal escape sequences (CSI such as ESC [ 2 J, OSC such as an ESC ] 8 hyperlink,
# and their C1 forms), removed from one-line text so that no fragment of them is left.
ESCAPE_SEQUENCES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]{0,1000}(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)


def one_line(text: object, limit: int | None = None) -> str:
    """Text for one line (an email line, a header, a team name): controls and runs of
    white space become one space; cut to `limit` characters."""
    value = ESCAPE_SEQUENCES.sub(" ", "" if text is None else str(text))
    flat = " ".join(CONTROLS.sub(" ", value).split())
    return flat[:limit].rstrip() if limit is not None else flat
