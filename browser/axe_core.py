"""Where axe-core's script is: installed by npm, never committed to the repository or fetched."""

from __future__ import annotations

import os
import re
from pathlib import Path

# A path to axe.min.js (or to the axe-core folder that holds it), for an installed siteaudit
# whose axe-core lives anywhere: the first place looked, and the only one when it is set.
ENVIRONMENT = "SITEAUDIT_AXE_CORE"
# package.json's pin, named in the fix when axe-core is missing; a test holds the two equal.
PINNED_VERSION = "4.14.1"
SCRIPT = "axe.min.js"
# The banner axe-core's build puts first in its script: "/*! axe v4.14.1".
BANNER = re.compile(rb"/\*! axe v([0-9A-Za-z.+-]{1,40})")
NODE_MODULES_SCRIPT = Path("node_modules", "axe-core", SCRIPT)
# The repository siteaudit runs from, when it is a checkout (scripts/setup.sh runs npm ci there);
# for an installed wheel this is site-packages, which holds no node_modules.
CHECKOUT = Path(__file__).resolve().parent.parent


class AxeCoreNotFound(FileNotFoundError):
    """axe-core's script is in none of the places looked; the message says how to fix that."""


def axe_source_path(given: str | Path | None = None) -> Path:
    """axe.min.js: the path given, else $SITEAUDIT_AXE_CORE, else node_modules/axe-core in
    the checkout siteaudit runs from, then in the current folder."""
    chosen = given or os.environ.get(ENVIRONMENT)
    if chosen:
        return given_script(Path(chosen).expanduser(), "" if given else f" ({ENVIRONMENT})")
    for folder in (CHECKOUT, Path.cwd()):
        if (folder / NODE_MODULES_SCRIPT).is_file():
            return folder / NODE_MODULES_SCRIPT
    raise AxeCoreNotFound(f"axe-core not found; {install_fix()}")


def given_script(path: Path, source: str) -> Path:
    """The script at a path someone chose: never another one in its place."""
    script = path / SCRIPT if path.is_dir() else path
    if not script.is_file():
        raise AxeCoreNotFound(
            f"axe-core not found at {path}{source}; give the path of axe-core's {SCRIPT}, "
            f"as `npm install axe-core@{PINNED_VERSION}` installs it"
        )
    return script.absolute()


def install_fix() -> str:
    """One sentence: how to install axe-core where the lookup will find it."""
    elsewhere = f"set {ENVIRONMENT} to the path of its {SCRIPT}"
    if (CHECKOUT / "package.json").is_file():
        return f"run scripts/setup.sh (or npm ci) in {CHECKOUT}, or {elsewhere}"
    return (
        f"run `npm install axe-core@{PINNED_VERSION}` in the folder you run siteaudit from, "
        f"or {elsewhere}"
    )


def script_version(script: Path) -> str | None:
    """The axe-core version a script's banner names (what axe.version says once it runs),
    or None if it names none."""
    with script.open("rb") as file:
        found = BANNER.match(file.read(64))
    return found.group(1).decode() if found else None
