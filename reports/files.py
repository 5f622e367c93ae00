"""Write a report file without following a symlink planted at its path."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def write_atomic(path: Path, text: str | bytes) -> Path:
    """Write `text` (or bytes) to a new file beside `path`, then rename it over `path`.

    The new file is created exclusively and never through a symlink (O_EXCL, O_NOFOLLOW),
    and os.replace swaps the name itself: a symlink at `path` is replaced, not followed,
    so a report cannot overwrite a file elsewhere. Readers never see a half-written file.
    """
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    temporary = path.with_name(f".{path.name[:200]}.{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(temporary, flags, 0o666)  # the umask applies, as for any new file
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return path
