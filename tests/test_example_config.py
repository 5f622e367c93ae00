"""config/example-council.toml shows every section the loader knows, and loads cleanly."""

from __future__ import annotations

import dataclasses
import tomllib

from settings.loader import load_config
from settings.model import Config
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
