"""An installed siteaudit finds axe-core and its demo site: the wheel, built and run for real."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

from browser import axe_core
from browser.axe_core import AxeCoreNotFound, axe_source_path
from tests.conftest import ROOT, query

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PACKAGES = [
    name.rstrip("*") for name in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
]
CHECKOUT_AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOW_IMPORTED = "import app.demo, browser.axe_core as axe; print(app.demo.__file__, axe.__file__)"


@pytest.fixture
def nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No axe-core in the checkout, the current folder or the environment, as for a wheel."""
    monkeypatch.setattr(axe_core, "CHECKOUT", tmp_path / "site-packages")
    monkeypatch.delenv(axe_core.ENVIRONMENT, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_pinned_version_named_in_the_fix_is_package_jsons() -> None:
    package = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    assert package["dependencies"]["axe-core"] == axe_core.PINNED_VERSION


def test_the_scripts_banner_names_the_pinned_version(tmp_path: Path) -> None:
    """What the seeder of a shared browser rescan takes axe-core's version from, without a
    browser (app/distributed_browser.py): a script without the banner names none."""
    assert axe_core.script_version(CHECKOUT_AXE) == axe_core.PINNED_VERSION
    other = tmp_path / "axe.min.js"
    other.write_text("/* axe */ window.axe = {};")
    assert axe_core.script_version(other) is None


def test_the_checkouts_node_modules_is_found_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(axe_core.ENVIRONMENT, raising=False)
    monkeypatch.chdir(tmp_path)
    assert axe_source_path() == CHECKOUT_AXE


def test_the_current_folders_node_modules_is_found(nowhere: Path) -> None:
    script = nowhere / "node_modules" / "axe-core" / "axe.min.js"
    script.parent.mkdir(parents=True)
    script.write_text("/* axe */")
    assert axe_source_path() == script


def test_the_environment_variable_comes_first_and_may_name_the_folder(
    nowhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(axe_core.ENVIRONMENT, str(CHECKOUT_AXE.parent))
    assert axe_source_path() == CHECKOUT_AXE
    assert axe_source_path(CHECKOUT_AXE) == CHECKOUT_AXE


def test_a_chosen_path_that_holds_no_axe_is_an_error_not_a_fallback(
    nowhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(axe_core.ENVIRONMENT, str(nowhere / "axe.js"))
    with pytest.raises(AxeCoreNotFound) as caught:
        axe_source_path()
    assert str(caught.value) == (
        f"axe-core not found at {nowhere / 'axe.js'} (SITEAUDIT_AXE_CORE); give the path of "
        "axe-core's axe.min.js, as `npm install axe-core@4.14.1` installs it"
    )


def test_missing_axe_names_the_fix_for_an_install_and_for_a_checkout(
    nowhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(AxeCoreNotFound) as caught:
        axe_source_path()
    assert str(caught.value) == (
        "axe-core not found; run `npm install axe-core@4.14.1` in the folder you run "
        "siteaudit from, or set SITEAUDIT_AXE_CORE to the path of its axe.min.js"
    )
    checkout = nowhere / "checkout"  # a checkout where npm ci has not run
    checkout.mkdir()
    (checkout / "package.json").write_text("{}")
    monkeypatch.setattr(axe_core, "CHECKOUT", checkout)
    with pytest.raises(AxeCoreNotFound) as caught:
        axe_source_path()
    assert str(caught.value) == (
        f"axe-core not found; run scripts/setup.sh (or npm ci) in {checkout}, or set "
        "SITEAUDIT_AXE_CORE to the path of its axe.min.js"
    )


def build_wheel(into: Path) -> Path:
    """The wheel pip builds from a copy of what pyproject.toml packages, and nothing else."""
    source = into / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, source / package, ignore=ignore)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "wheel", "-q", "--no-deps", "-w", into, source], check=True)
    (wheel,) = into.glob("siteaudit-*.whl")
    return wheel


def fresh_virtualenv(folder: Path) -> Path:
    """A virtualenv that reuses this one's installed packages (a .pth file) but not siteaudit:
    the editable install's own .pth files are not read from a folder a .pth file adds."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", folder], check=True)
    python = folder / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = {sysconfig.get_paths()[key] for key in ("purelib", "platlib")}
    (Path(site) / "reused-packages.pth").write_text("\n".join(sorted(ours)) + "\n")
    return python


def installed_environment() -> dict[str, str]:
    """This run's environment, without anything that would point Python or axe at the checkout."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for name in ("PYTHONPATH", "VIRTUAL_ENV", axe_core.ENVIRONMENT):
        env.pop(name, None)
    return env


@pytest.mark.browser
@pytest.mark.slow
def test_the_installed_wheel_runs_the_demo_from_a_folder_outside_the_repository(
    tmp_path: Path,
) -> None:
    wheel = build_wheel(tmp_path / "dist")
    names = zipfile.ZipFile(wheel).namelist()
    assert {"app/demo.toml", "app/demo_site/index.html", "app/demo_site/robots.txt"} <= set(names)
    modules = {
        str(path.relative_to(ROOT)) for name in PACKAGES for path in (ROOT / name).rglob("*.py")
    }
    assert not modules - set(names), "modules the wheel lacks"
    # axe-core comes from npm, never inside the wheel (docs/design.md); the tests stay behind.
    assert not [name for name in names if name.startswith("tests/") or name.endswith(".js")]
    python = fresh_virtualenv(tmp_path / "venv")
    pip = [python, "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "-q", "--no-deps", "--no-index", wheel], check=True)
    elsewhere = tmp_path / "council-web-team"
    elsewhere.mkdir()
    env, run = installed_environment(), {"cwd": elsewhere, "capture_output": True, "text": True}

    # The wheel is what runs, not the checkout: these are the files the command imports.
    shown = subprocess.run([python, "-c", SHOW_IMPORTED], env=env, check=True, **run)
    imported = shown.stdout.split()
    assert all(Path(file).is_relative_to(tmp_path / "venv") for file in imported), imported
    siteaudit = [tmp_path / "venv" / "bin" / "siteaudit", "demo", "--db", "demo.db"]

    # No axe-core anywhere it looks: one line that says how to install it.
    missing = subprocess.run(siteaudit, env=env, timeout=120, **run)
    assert missing.returncode == 1
    assert missing.stderr.splitlines()[-1] == (
        "Error: axe-core not found; run `npm install axe-core@4.14.1` in the folder you run "
        "siteaudit from, or set SITEAUDIT_AXE_CORE to the path of its axe.min.js"
    )

    # As after `npm install axe-core` in the team's own folder.
    (elsewhere / "node_modules" / "axe-core").mkdir(parents=True)
    (elsewhere / "node_modules" / "axe-core" / "axe.min.js").symlink_to(CHECKOUT_AXE)
    result = subprocess.run(siteaudit, env=env, timeout=120, **run)
    assert result.returncode == 0, result.stderr
    assert f"(axe-core {axe_core.PINNED_VERSION})" in result.stderr
    assert "Pages: 17 recorded, 17 audited in Chromium, 0 could not be audited" in result.stderr
    rules = {rule for (rule,) in query(elsewhere / "demo.db", "SELECT rule_id FROM findings")}
    assert {"image-alt", "label", "color-contrast", "link-name"} <= rules
