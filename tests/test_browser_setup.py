"""A shared scan's seeder and its workers' browsers name the same audits, without a browser."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.browser_setup import browser_options
from app.distributed_browser import expected_rules_key
from browser.axe_core import axe_source_path, script_version
from crawler.credentials import Credentials
from settings.model import AuditConfig, Config
from store.previous import rules_key

DEFAULT = Config()

# Each differs from the default in what a rules key holds: tags, viewport or checks.
CONFIGS = {
    "default": DEFAULT,
    "phone viewport": replace(DEFAULT, audit=AuditConfig(viewport="390x844")),
    "wcag 2.2-AA": replace(DEFAULT, audit=AuditConfig(wcag="2.2-AA")),
    "level A": replace(DEFAULT, audit=AuditConfig(wcag="2.0-A")),
    "best practices": replace(DEFAULT, audit=AuditConfig(best_practices=True)),
    "axe alone": replace(DEFAULT, audit=AuditConfig(checks=("axe",))),
    "checks chosen": replace(DEFAULT, audit=AuditConfig(checks=("axe", "reflow", "titles"))),
}


def workers_key(config: Config) -> str:
    """The rules key start_worker_browsers records: from the browsers' own options."""
    version = script_version(axe_source_path())
    assert version is not None
    options = browser_options(config, Credentials())
    return rules_key(version, options.run_only, options.viewport, options.checks)


@pytest.mark.parametrize("name", CONFIGS)
def test_seeder_expects_the_key_the_workers_make(name: str) -> None:
    config = CONFIGS[name]
    assert expected_rules_key(config) == workers_key(config)


def test_the_configurations_make_different_keys() -> None:
    # Else the test above would pass with a key that ignores the configuration.
    keys = {expected_rules_key(config) for config in CONFIGS.values()}
    assert len(keys) == len(CONFIGS)
