"""scripts/import_graph.py: the package graph, its layering, cycles and sizes, checked."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

SCRIPT = ROOT / "scripts" / "import_graph.py"
SPEC = importlib.util.spec_from_file_location("import_graph", SCRIPT)
assert SPEC is not None and SPEC.loader is not None
import_graph = sys.modules["import_graph"] = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(import_graph)  # scripts/ is not a package: loaded from its file

PYPROJECT = """[tool.setuptools.packages.find]
include = ["vocabulary*", "store*", "reports*", "crawler*", "app*"]
"""
# Every package 40 lines to begin with: five equal packages, none holding a third of the code.
PADDING = "\n" * 40


def tree(root: Path, modules: dict[str, str]) -> Path:
    """A repository with these modules (path: source), each package padded to one size."""
    (root / "pyproject.toml").write_text(PYPROJECT)
    for package in ("vocabulary", "store", "reports", "crawler", "app"):
        (root / package).mkdir()
        (root / package / "__init__.py").write_text(PADDING)
    for path, source in modules.items():
        (root / path).write_text(source)
    return root


def run(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], list[str]]:
    code = import_graph.main(["import_graph.py", str(root)])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


def test_the_repository_has_no_cycle_no_forbidden_import_and_no_oversized_module() -> None:
    result = subprocess.run(
        [sys.executable, SCRIPT], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("app ")


def test_a_layered_tree_passes_and_prints_its_graph(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tree(
        tmp_path,
        {
            "reports/html.py": "import json\nimport jinja2\nfrom store import queries\n",
            "store/queries.py": "from vocabulary.words import IMPACTS\nfrom . import schema\n",
            "crawler/spider.py": "def later():\n    import store.queries\n",
            "app/cli.py": "import crawler.spider, reports.html\n",
        },
    )
    code, out, err = run(root, capsys)
    assert (code, err) == (0, [])
    assert [line.split("->")[1].strip() for line in out] == [
        "crawler, reports",
        "store",
        "store",
        "vocabulary",
        "(nothing of ours)",
    ]


def test_reports_importing_the_crawler_is_refused_and_its_cycle_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tree(
        tmp_path,
        {
            "reports/gate.py": "from crawler.storage import open_database\n",
            "crawler/analyse.py": "from reports import gate\n",
        },
    )
    code, _, err = run(root, capsys)
    assert code == 1
    assert err == [
        "import_graph: cycle: crawler -> reports -> crawler",
        "import_graph: crawler may not import reports (crawler/analyse.py)",
        "import_graph: reports may not import crawler (reports/gate.py)",
    ]


def test_no_package_imports_the_tests_not_even_the_application(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tree(tmp_path, {"app/demo.py": "from tests.conftest import ROOT\n"})
    assert run(root, capsys)[2] == ["import_graph: app may not import tests (app/demo.py)"]


def test_a_module_may_have_600_lines_and_no_more(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    modules = {f"{name}/long.py": "x = 1\n" * 600 for name in ("vocabulary", "reports", "app")}
    modules |= {"crawler/long.py": "x = 1\n" * 600, "store/long.py": "x = 1\n" * 601}
    code, _, err = run(tree(tmp_path, modules), capsys)
    assert (code, err) == (1, ["import_graph: store/long.py: 601 lines, over 600"])


@pytest.mark.parametrize(("lines", "refused"), [(40, False), (41, True)])
def test_a_package_may_hold_a_third_of_the_code_and_no_more(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: int, refused: bool
) -> None:
    # Five packages of 40 lines, and crawler 40 more: 80 of 240 lines, exactly a third.
    code, _, err = run(tree(tmp_path, {"crawler/spider.py": "x = 1\n" * lines}), capsys)
    expected = ["import_graph: crawler/: 34% of the code, over a third"] if refused else []
    assert (code, err) == (int(refused), expected)
