"""Print which package imports which, and fail on an import or a size the structure forbids.

    python scripts/import_graph.py [ROOT]

Reads every module of the packages pyproject.toml names with `ast` (nothing is imported or
run), then prints one line per package: its size and the packages it imports. Exits 1, with
one line per problem, on an import the layering does not allow (which includes every
cycle), a module over 600 lines, or a package holding more than a third of the code.
Imports of the standard library and third-party packages are not part of the graph.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

# Downward only: each stage may import the packages named here and nothing else of ours.
ALLOWED: dict[str, frozenset[str]] = {
    "vocabulary": frozenset(),
    "settings": frozenset({"vocabulary"}),
    "audits": frozenset({"vocabulary"}),
    "store": frozenset({"vocabulary"}),
    "browser": frozenset({"vocabulary", "settings"}),
    "reports": frozenset({"store", "vocabulary"}),
    "crawler": frozenset({"browser", "audits", "store", "settings", "vocabulary"}),
}
ANYTHING = "app"  # the application layer wires the stages together
# Folders of the repository that are not the program: no package may import them.
NOT_THE_PROGRAM = ("tests", "benchmarks", "scripts")
MAX_MODULE_LINES = 600
MAX_PACKAGE_SHARE = Fraction(1, 3)  # exact: a package of exactly a third passes


@dataclass
class Package:
    name: str
    lines: int = 0
    imports: dict[str, set[str]] = field(default_factory=dict)  # package -> modules importing it


def package_names(root: Path) -> list[str]:
    """The top-level packages pyproject.toml ships (its packages.find include patterns)."""
    pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    include = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    return sorted({pattern.rstrip("*").split(".")[0] for pattern in include})


def imported_names(tree: ast.Module, module: str) -> Iterator[str]:
    """Dotted names a module imports, relative imports resolved against its own package."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
        elif isinstance(node, ast.ImportFrom):
            yield module.split(".")[0]  # `from . import x`: its own package, whatever the depth


def read_packages(root: Path, names: list[str]) -> tuple[dict[str, Package], dict[str, int]]:
    """Each package's size and imports of ours, and each module's length in lines."""
    ours = set(names) | set(NOT_THE_PROGRAM)
    packages = {name: Package(name) for name in names}
    lengths: dict[str, int] = {}
    for name in names:
        for path in sorted((root / name).rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            relative = path.relative_to(root).as_posix()
            lengths[relative] = len(source.splitlines())
            packages[name].lines += lengths[relative]
            dotted = relative.removesuffix(".py").replace("/", ".")
            for imported in imported_names(ast.parse(source, relative), dotted):
                top = imported.split(".")[0]
                if top in ours and top != name:
                    packages[name].imports.setdefault(top, set()).add(relative)
    return packages, lengths


def cycles(packages: dict[str, Package]) -> list[list[str]]:
    """Every package cycle, once each, as the path that goes round it."""
    found: list[list[str]] = []

    def walk(path: list[str]) -> None:
        for target in sorted(packages[path[-1]].imports):
            if target == path[0]:
                found.append([*path, target])
            elif target in packages and target not in path and target > path[0]:
                walk([*path, target])  # a cycle is reported from its smallest name only

    for start in sorted(packages):
        walk([start])
    return found


def problems(packages: dict[str, Package], lengths: dict[str, int]) -> Iterator[str]:
    """One line per thing the structure forbids."""
    for cycle in cycles(packages):
        yield f"cycle: {' -> '.join(cycle)}"
    for package in packages.values():
        allowed = set(packages) if package.name == ANYTHING else ALLOWED.get(package.name, ())
        for target, modules in sorted(package.imports.items()):
            if target not in allowed:
                yield f"{package.name} may not import {target} ({', '.join(sorted(modules))})"
    for module, length in sorted(lengths.items()):
        if length > MAX_MODULE_LINES:
            yield f"{module}: {length} lines, over {MAX_MODULE_LINES}"
    total = sum(package.lines for package in packages.values()) or 1
    for package in packages.values():
        if Fraction(package.lines, total) > MAX_PACKAGE_SHARE:
            yield f"{package.name}/: {package.lines / total:.0%} of the code, over a third"


def graph_lines(packages: dict[str, Package]) -> Iterator[str]:
    total = sum(package.lines for package in packages.values()) or 1
    width = max(len(name) for name in packages)
    for package in sorted(packages.values(), key=lambda p: p.name):
        share = f"{package.lines:>5} lines {package.lines / total:>4.0%}"
        targets = ", ".join(sorted(package.imports)) or "(nothing of ours)"
        yield f"{package.name:<{width}}  {share}  -> {targets}"


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else Path(__file__).resolve().parent.parent)
    packages, lengths = read_packages(root, package_names(root))
    print("\n".join(graph_lines(packages)))
    found = list(problems(packages, lengths))
    for problem in found:
        print(f"import_graph: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
