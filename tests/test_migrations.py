"""Schema migrations: a database made by any earlier siteaudit is upgraded with its rows intact."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from store.database import StorageError, open_database
from store.scans import finish_scan, start_scan
from store.schema import MIGRATIONS, SCHEMA_VERSION, apply
from store.writer import Writer
from tests.conftest import Site, query, run_siteaudit

# Each file is the SCHEMA a fresh database got from one commit, copied verbatim from git
# (`git log -p -- crawler/storage.py`), or for numbered migrations what sqlite_master held;
# its name gives the user_version that build stamped.
OLD_SCHEMAS = sorted((Path(__file__).parent / "old_schemas").glob("v*.sql"))
LAST_BUILD = "v2-c90bf09"  # the last build before numbered migrations
# Columns that hold JSON, which later scans read back (a rescan compares with the last scan).
JSON_COLUMNS = {
    "long_sentences",
    "blocked_requests",
    "axe_rules",
    "selector",
    "checks",
    "focus_order",
    "check_errors",
}


def stamp_of(schema: Path) -> int:
    return int(schema.stem.split("-")[0].removeprefix("v"))


def old_database(path: Path, schema: Path, drop: str | None = None) -> Path:
    """A database as that build left it: its schema, its stamp, one row in every table."""
    conn = sqlite3.connect(path)
    conn.executescript(schema.read_text())
    if drop:
        conn.execute(f"DROP TABLE {drop}")
    for table in tables(conn):
        row = sample_row(conn, table, scan_id=1, url="http://127.0.0.1/old")
        names = ", ".join(row)
        conn.execute(
            f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(row))})", [*row.values()]
        )
    conn.execute(f"PRAGMA user_version = {stamp_of(schema)}")
    conn.commit()
    conn.close()
    return path


def tables(conn: sqlite3.Connection) -> list[str]:
    sql = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name = 'scans' DESC, name"
    return [name for (name,) in conn.execute(sql)]


def sample_row(conn: sqlite3.Connection, table: str, scan_id: int, url: str) -> dict[str, Any]:
    """A value in every column the table has, told apart by table and column name."""
    row: dict[str, Any] = {}
    for _, name, kind, *_ in conn.execute(f"PRAGMA table_info({table})"):
        if name in ("id", "scan_id"):
            row[name] = scan_id
        elif name in ("url", "source_url"):
            row[name] = url
        elif name == "status" and table == "scans":
            row[name] = "finished"
        elif name == "decision" and table == "decisions":
            row[name] = "accepted"
        elif name == "config":
            row[name] = json.dumps({"note": f"{table}.{name}"})
        elif name == "words_to_avoid":
            row[name] = json.dumps([[f"{table}.{name}", 2]])
        elif name in JSON_COLUMNS:
            row[name] = json.dumps([f"{table}.{name}"])
        elif kind == "INTEGER":
            row[name] = 7
        elif kind == "REAL":
            row[name] = 2.5
        else:
            row[name] = f"{table}.{name}"
    return row


def describe(conn: sqlite3.Connection) -> dict[str, Any]:
    """Tables, columns (name, type, not null, default, key) and indexes, in any order."""
    shape: dict[str, Any] = {}
    for table in tables(conn):
        columns = sorted(tuple(info[1:]) for info in conn.execute(f"PRAGMA table_info({table})"))
        indexes = sorted(
            (
                name if origin == "c" else origin,
                unique,
                tuple(c[2] for c in conn.execute(f"PRAGMA index_info('{name}')")),
            )
            for _, name, unique, origin, _ in conn.execute(f"PRAGMA index_list({table})")
        )
        shape[table] = (columns, indexes)
    return shape


def current_shape(tmp_path: Path) -> dict[str, Any]:
    db = open_database(tmp_path / "new.db")
    try:
        return describe(db.conn)
    finally:
        db.conn.close()


def test_migrations_are_numbered_one_step_each() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    assert SCHEMA_VERSION == len(MIGRATIONS) >= 5


def test_the_first_five_migrations_rebuild_the_last_unnumbered_schema() -> None:
    """Versions 1 to 5 on an empty database give exactly what the last build before numbered
    migrations created from its SCHEMA."""
    (last,) = [s for s in OLD_SCHEMAS if s.stem == LAST_BUILD]
    built, copied = sqlite3.connect(":memory:"), sqlite3.connect(":memory:")
    for migration in MIGRATIONS[:5]:
        apply(built, migration)
    copied.executescript(last.read_text())
    assert describe(built) == describe(copied)


def test_a_new_database_is_stamped_with_the_last_migration(tmp_path: Path) -> None:
    current_shape(tmp_path)
    assert query(tmp_path / "new.db", "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert query(tmp_path / "new.db", "PRAGMA journal_mode") == [("wal",)]


@pytest.mark.parametrize("schema", OLD_SCHEMAS, ids=lambda s: s.stem)
def test_an_old_database_is_upgraded_with_its_rows_intact(schema: Path, tmp_path: Path) -> None:
    path = old_database(tmp_path / "old.db", schema)
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        before = {t: dict(conn.execute(f"SELECT * FROM {t}").fetchone()) for t in tables(conn)}
    db = open_database(path)
    assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    assert describe(db.conn) == current_shape(tmp_path)
    for table, row in before.items():
        (stored,) = db.query(f"SELECT * FROM {table}")
        assert {name: stored[name] for name in row} == row, table
        added = {name: value for name, value in stored.items() if name not in row}
        expected = {name: "content" if name == "scope" else None for name in added}
        if table == "scans" and "score" in added:  # version 6 scores older scans
            expected["score"] = before["pages"].get("score")
        if table == "findings" and "history" in added:  # version 9: a finished scan's history
            seen = str(before["scans"]["started_at"])[:10]
            expected |= {"first_seen_scan": 1, "first_seen_at": seen, "history": "new"}
        assert added == expected, table
    # The writer can then store a whole page, with a value in every column of today's tables.
    scan_id = start_scan(
        db, "http://127.0.0.1/", **full_row(db, "scans", "id", "started_at", "start_url")
    )
    assert scan_id == 2
    written = write_one_page(path, db, scan_id)
    finish_scan(db, scan_id, "finished")
    for table, row in written.items():
        (stored,) = db.query(f"SELECT * FROM {table} WHERE scan_id = ?", [scan_id])
        assert stored == row, table
    assert db.execute("SELECT id, status FROM scans ORDER BY id").fetchall() == [
        (1, "finished"),
        (2, "finished"),
    ]
    db.conn.close()


def full_row(db: Any, table: str, *leave_out: str) -> dict[str, Any]:
    row = sample_row(db.conn, table, scan_id=2, url="http://127.0.0.1/new")
    return {k: v for k, v in row.items() if k not in (*leave_out, "status")}


def write_one_page(path: Path, db: Any, scan_id: int) -> dict[str, dict[str, Any]]:
    """A page, its findings, dates, links, a document and fetches, through the real writer."""
    rows = {
        table: sample_row(db.conn, table, scan_id=scan_id, url="http://127.0.0.1/new")
        for table in ("pages", "findings", "page_dates", "links", "documents", "fetches")
    }
    writer = Writer(path, interval=0.05)
    writer.start()
    writer.put_together([(table, [row]) for table, row in rows.items()])
    writer.close()
    return rows


@pytest.mark.parametrize("create", [True, False], ids=["scan", "report"])
def test_a_newer_database_is_refused_and_left_alone(tmp_path: Path, create: bool) -> None:
    path = old_database(tmp_path / "future.db", OLD_SCHEMAS[0])
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    newer = rf"written by a newer siteaudit \(schema {SCHEMA_VERSION + 1}, this one"
    with pytest.raises(StorageError, match=newer):
        open_database(path, create=create)
    assert query(path, "PRAGMA user_version") == [(SCHEMA_VERSION + 1,)]
    assert "reason" not in {row[1] for row in query(path, "PRAGMA table_info(pages)")}


@pytest.mark.parametrize(
    ("schema", "drop", "error"),
    [
        ("v1-dcad1af", "fetches", "cannot use this database (no such table: fetches)"),
        (
            "v2-9c7675b",
            "page_dates",
            "not a siteaudit database this version can upgrade (no table ",
        ),
    ],
)
def test_an_upgrade_that_fails_changes_nothing(
    schema: str, drop: str, error: str, tmp_path: Path
) -> None:
    """All steps and the stamp are one transaction: a failure at the last step undoes the
    columns the earlier steps added."""
    (old,) = [s for s in OLD_SCHEMAS if s.stem == schema]
    path = old_database(tmp_path / "broken.db", old, drop=drop)
    with sqlite3.connect(path) as conn:
        before = describe(conn)
    with pytest.raises(StorageError) as raised:
        open_database(path)
    assert error in str(raised.value) and "\n" not in str(raised.value)
    with sqlite3.connect(path) as conn:
        assert describe(conn) == before
        assert conn.execute("PRAGMA user_version").fetchone() == (stamp_of(old),)


def test_reading_upgrades_an_old_database_but_not_a_foreign_file(tmp_path: Path) -> None:
    (old,) = [s for s in OLD_SCHEMAS if s.stem == "v2-e2f44cf"]
    path = old_database(tmp_path / "old.db", old)
    db = open_database(path, create=False)  # as siteaudit report and the CI gate open it
    assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    assert "reason" in db["pages"].columns_dict
    empty = tmp_path / "empty.db"
    empty.touch()
    open_database(empty, create=False).conn.close()
    assert query(empty, "SELECT count(*) FROM sqlite_master") == [(0,)]


def test_a_scan_into_a_database_from_an_earlier_build(tmp_path: Path, council_site: Site) -> None:
    """The failure users saw: a database stamped 2 by the build before rescans and reasons,
    then scanned by today's siteaudit, whose writer stores pages.reason."""
    (old,) = [s for s in OLD_SCHEMAS if s.stem == "v2-e2f44cf"]
    path = old_database(tmp_path / "old.db", old)
    result = run_siteaudit("scan", council_site.url("/"), "--db", str(path), "--no-browser")
    assert result.returncode == 0, result.stderr
    assert query(path, "SELECT id, status FROM scans") == [(1, "finished"), (2, "finished")]
    assert query(path, "SELECT url, title FROM pages WHERE scan_id = 1") == [
        ("http://127.0.0.1/old", "pages.title")
    ]
    (stored, with_reason) = query(
        path, "SELECT count(*), count(reason) FROM pages WHERE scan_id = 2"
    )[0]
    assert stored > 5 and with_reason == stored


def test_processes_opening_one_old_database_at_once_upgrade_it_once(tmp_path: Path) -> None:
    """The scan and its writer thread (or two commands) may open an old file together: the
    second waits for the first's transaction, then finds nothing left to do."""
    (old,) = [s for s in OLD_SCHEMAS if s.stem == "v2-e2f44cf"]
    path = old_database(tmp_path / "old.db", old)
    results: list[object] = []

    def open_it() -> None:
        try:
            open_database(path).conn.close()
            results.append("ok")
        except StorageError as err:  # the assertion below shows it
            results.append(err)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert results == ["ok"] * 4
    with sqlite3.connect(path) as conn:
        assert describe(conn) == current_shape(tmp_path)
        assert conn.execute("SELECT count(*) FROM pages").fetchone() == (1,)


def test_version_6_gives_older_scans_the_team_and_site_scores_reports_showed(
    tmp_path: Path,
) -> None:
    """The mean of each team's page scores, to one decimal; a page without a team is the
    scan's configured default team's, and a team whose pages have no score has none."""
    (v5,) = [s for s in OLD_SCHEMAS if s.stem.startswith("v5-")]
    path = tmp_path / "v5.db"
    conn = sqlite3.connect(path)
    conn.executescript(v5.read_text())
    config = json.dumps({"ownership": {"default_team": "Web"}})
    conn.execute(
        "INSERT INTO scans (id, started_at, status, config) VALUES (1, 'x', 'finished', ?)",
        [config],
    )
    conn.execute("INSERT INTO scans (id, started_at, status) VALUES (2, 'x', 'finished')")
    pages = [
        (1, "/a", "Waste", 50.1),
        (1, "/b", "Waste", 50.2),
        (1, "/c", None, 80.0),
        (1, "/d", "Parking", None),
        (2, "/a", None, 10.0),
    ]
    conn.executemany("INSERT INTO pages (scan_id, url, team, score) VALUES (?, ?, ?, ?)", pages)
    conn.execute("PRAGMA user_version = 5")
    conn.commit()
    conn.close()
    db = open_database(path, create=False)
    assert db.execute("SELECT id, score FROM scans ORDER BY id").fetchall() == [
        (1, 60.1),
        (2, 10.0),
    ]
    assert sorted(db.execute("SELECT * FROM team_scores").fetchall()) == [
        (1, "Parking", None, 1),
        (1, "Waste", 50.2, 2),
        (1, "Web", 80.0, 1),
        (2, "Unassigned", 10.0, 1),
    ]
