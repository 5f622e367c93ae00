"""Write docs/schema.md's table sections and schema version from store/schema_docs.py.

    .venv/bin/python scripts/schema_docs.py           # rewrites docs/schema.md in place
    .venv/bin/python scripts/schema_docs.py --check   # exits 1 if docs/schema.md disagrees

Each table's section sits between two comments naming the table; everything outside them
(the prose about fingerprints, upgrades, example queries...) is hand-written and kept as it
is. The schema version in the title and first paragraph comes from store/schema.py.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere: the program's packages are beside scripts/

from store.schema import SCHEMA_VERSION  # noqa: E402
from store.schema_docs import TABLES, Table  # noqa: E402

DOC = ROOT / "docs" / "schema.md"
SOURCE = "store/schema_docs.py"
# The places the doc names the schema version.
VERSION_PATTERNS = (
    re.compile(r"(\(schema version )\d+(\))"),
    re.compile(r"(\(currently `)\d+(`\))"),
)


def start_marker(table: str) -> str:
    return f"<!-- table {table}: written by scripts/schema_docs.py from {SOURCE}; edit there -->"


def end_marker(table: str) -> str:
    return f"<!-- end of table {table} -->"


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def section(table: Table) -> str:
    """A table's section: its heading, description and one row per column."""
    rows = [f"| `{c.name}` | {cell(c.meaning)} | {cell(c.unit)} |" for c in table.columns]
    return "\n".join(
        [
            start_marker(table.name),
            f"## {table.name}",
            "",
            table.description,
            "",
            "| column | meaning | unit |",
            "|---|---|---|",
            *rows,
            end_marker(table.name),
        ]
    )


def block(table: str) -> re.Pattern[str]:
    return re.compile(re.escape(start_marker(table)) + r".*?" + re.escape(end_marker(table)), re.S)


def rewritten(doc: str) -> tuple[str, list[str]]:
    """The doc with every table's section and the version written afresh, and the tables
    that have no place in it."""
    missing = []
    for table in TABLES:
        doc, found = block(table.name).subn(lambda _, t=table: section(t), doc)
        if not found:
            missing.append(table.name)
    for pattern in VERSION_PATTERNS:
        doc = pattern.sub(rf"\g<1>{SCHEMA_VERSION}\g<2>", doc)
    return doc, missing


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say whether it is current")
    args = parser.parse_args(argv)
    doc = DOC.read_text(encoding="utf-8")
    new, missing = rewritten(doc)
    for name in missing:
        print(
            f"schema_docs: docs/schema.md has no section for table {name}: add the two "
            f"comments {start_marker(name)!r} and {end_marker(name)!r} where it belongs",
            file=sys.stderr,
        )
    if args.check:
        if new != doc:
            print(
                f"schema_docs: docs/schema.md disagrees with {SOURCE}; "
                "run .venv/bin/python scripts/schema_docs.py",
                file=sys.stderr,
            )
        return 1 if missing or new != doc else 0
    if new != doc:
        DOC.write_text(new, encoding="utf-8")
        print(f"schema_docs: wrote docs/schema.md from {SOURCE}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
