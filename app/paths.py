"""Check the files and folders a command will write before it does the long work."""

from __future__ import annotations

import tempfile
from pathlib import Path

from settings.loader import ConfigError


def check_output_file(path: str, option: str) -> None:
    """A file that can be written: its folder exists, and a file there can be created.

    Tried for real (and removed again) rather than judged by permission bits, which
    root ignores and read-only file systems do not show.
    """
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        raise ConfigError(f"{option} {path}: folder {folder} does not exist; create it first")
    try:
        if target.exists():
            with target.open("ab"):
                pass
        else:
            with target.open("xb"):
                pass
            target.unlink()
    except OSError as err:
        raise ConfigError(
            f"{option} {path}: cannot be written ({err.strerror or err}); "
            "give a path in a folder you can write to"
        ) from None


def check_output_folder(path: str, option: str) -> None:
    """A folder that exists or can be made, and in which a file can be written."""
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise ConfigError(
            f"{option} {path}: cannot write there ({err.strerror or err}); "
            "give a folder you can write to"
        ) from None
