"""config/example-council.toml shows every section the loader knows, and loads cleanly."""

from __future__ import annotations

import dataclasses
import re
import tomllib

from settings.loader import load_config
from settings.model import SECTIONS, Config
from tests.conftest import ROOT

EXAMPLE = ROOT / "config" / "example-council.toml"


def test_the_example_sets_every_section_the_loader_knows() -> None:
    written = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    # Every field of Config is a section but `source`, which says where it was read from.
    sections = {f.name for f in dataclasses.fields(Config)} - {"source"}
    missing = sections - set(written)
    assert not missing, f"config/example-council.toml lacks [{'], ['.join(sorted(missing))}]"


def test_the_example_loads() -> None:
    config = load_config(str(EXAMPLE))
    assert config.freshness.rules and config.readability.rules
    assert config.templates.owner == "Web Team"


def example_keys() -> dict[str, set[str]]:
    """Each section's keys the example names, set or shown in a comment (# key = ...)."""
    keys: dict[str, set[str]] = {}
    section = ""
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        if heading := re.match(r"^#?\s*\[+([a-z_.]+)\]+\s*$", line):
            section = heading[1]
        elif key := re.match(r"^#?\s*([a-z_]+)\s*=", line):
            keys.setdefault(section, set()).add(key[1])
    return keys


def test_the_example_names_every_setting_with_a_comment() -> None:
    named = example_keys()
    missing = [
        f"{section}.{f.name}"
        for section, cls in SECTIONS.items()
        for f in dataclasses.fields(cls)
        # rules and [auth.form] are tables of their own, which the example shows as tables
        if f.name not in named.get(section, set()) and f.name not in ("rules", "form")
    ]
    assert not missing, f"config/example-council.toml does not show {', '.join(missing)}"
    # Every setting is explained: the comment above it, or above the settings just above it
    # (the [[teams]] tables are explained once, before the first).
    lines = EXAMPLE.read_text(encoding="utf-8").split("[[teams]]")[0].splitlines()
    setting = re.compile(r"^[a-z_]+\s*=")
    for number, line in enumerate(lines):
        if setting.match(line) and "#" not in line:
            above = number - 1
            while setting.match(lines[above]) or lines[above].startswith("["):
                above -= 1
            assert lines[above].startswith("#"), f"no comment explains {line!r}"
