"""store/schema_docs.py describes every table and column a new database has, and
docs/schema.md's table sections are written from it (scripts/schema_docs.py)."""

from __future__ import annotations

import importlib.util
import sqlite3
import sys
from pathlib import Path

import pytest

from store.database import open_database
from store.schema import SCHEMA_VERSION
from store.schema_docs import TABLES
from tests.conftest import ROOT

SCRIPT = ROOT / "scripts" / "schema_docs.py"
SPEC = importlib.util.spec_from_file_location("schema_docs_script", SCRIPT)
assert SPEC is not None and SPEC.loader is not None
schema_docs_script = sys.modules["schema_docs_script"] = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(schema_docs_script)  # scripts/ is not a package: loaded from its file


def table_columns(db: Path) -> dict[str, list[str]]:
    """Every table of a database and its columns, as SQLite lists them."""
    with sqlite3.connect(db) as conn:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: [row[1] for row in conn.execute(f"PRAGMA table_info({t})")] for t in tables}


def test_every_table_and_column_of_a_new_database_is_described(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    open_database(db).conn.close()
    described = {table.name: [c.name for c in table.columns] for table in TABLES}
    actual = table_columns(db)
    assert sorted(described) == sorted(actual)
    for name, columns in actual.items():
        assert sorted(described[name]) == sorted(columns), name
    for table in TABLES:
        assert table.description.strip(), table.name
        for column in table.columns:
            assert column.meaning.strip(), f"{table.name}.{column.name}"


def test_schema_md_agrees_with_the_descriptions(capsys: pytest.CaptureFixture[str]) -> None:
    assert schema_docs_script.main(["--check"]) == 0, capsys.readouterr().err
    doc = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    assert f"# The siteaudit database (schema version {SCHEMA_VERSION})" in doc
    for table in TABLES:
        for column in table.columns:
            meaning = schema_docs_script.cell(column.meaning)
            assert f"| `{column.name}` | {meaning} |" in doc


def test_a_hand_edited_table_section_is_written_again_and_the_prose_kept() -> None:
    doc = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    row = "| `audit_ms` | time spent in the browser | milliseconds |"
    assert row in doc
    edited = doc.replace(row, "| `audit_ms` | seconds in the browser | |").replace(
        f"(schema version {SCHEMA_VERSION})", "(schema version 6)"
    )
    assert edited != doc
    assert schema_docs_script.rewritten(edited) == (doc, [])
    # A table whose section is gone is named, not silently left out.
    start, end = schema_docs_script.start_marker("links"), schema_docs_script.end_marker("links")
    without = doc[: doc.index(start)] + doc[doc.index(end) + len(end) :]
    assert schema_docs_script.rewritten(without)[1] == ["links"]
