"""The schema, as the migrations that build it, and the shape a database has at a version."""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from store.history import history_of_old_scans
from store.scores import page_scores_by_team, save_scores
from vocabulary.teams import DEFAULT_TEAM


@dataclass(frozen=True)
class AddColumns:
    """Columns to add to a table, skipping any it already has: builds before version 3 ran
    their ALTERs outside a transaction and stamped 2 on four different shapes, so an older
    database can hold some of a step's columns already."""

    table: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Backfill:
    """Rows an upgrade derives from what an older database already holds, so its scans read
    as they did before the change."""

    fill: Callable[[sqlite3.Connection], None]


@dataclass(frozen=True)
class Migration:
    """One schema change: the statements that bring a database from version - 1 to version."""

    version: int
    change: str
    steps: tuple[str | AddColumns | Backfill, ...]


def scores_from_pages(conn: sqlite3.Connection) -> None:
    """Team and site scores for the scans of an older database, as reports computed them
    before version 6: the mean of the pages' scores, to one decimal."""
    for scan_id, config in conn.execute("SELECT id, config FROM scans").fetchall():
        teams = page_scores_by_team(conn, scan_id, default_team_of(config))
        every = [score for scores in teams.values() for score in scores]
        scores = {team: (frozen_mean(s), len(s)) for team, s in teams.items()}
        save_scores(conn, scan_id, frozen_mean(every), scores)


def default_team_of(config: str | None) -> str:
    """ownership.default_team from a scan's stored configuration (JSON), if it names one."""
    try:
        name = json.loads(config)["ownership"]["default_team"] if config else None
    except (ValueError, KeyError, TypeError):
        name = None
    return name if isinstance(name, str) and name else DEFAULT_TEAM


def frozen_mean(scores: list[float | None]) -> float | None:
    """audits/score.py's mean_score as it was at version 6, frozen here so the upgrade gives
    what those reports showed whatever the scoring becomes."""
    known = [s for s in scores if s is not None]
    return round(sum(known) / len(known), 1) if known else None


# The schema's one source of truth: a new database is every migration applied in order to an
# empty file. To change the schema, append a Migration (never edit a released one), describe
# its columns in store/schema_docs.py (then `python scripts/schema_docs.py` writes them into
# docs/schema.md) and the change in docs/schema.md ("Versions and upgrades").
MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "the first schema (commit dcad1af)",
        (
            """CREATE TABLE IF NOT EXISTS scans (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    start_url TEXT,
    status TEXT NOT NULL CHECK (status IN ('running','finished','interrupted','blocked','failed')),
    axe_version TEXT,
    sandboxed INTEGER,
    wcag TEXT,
    browser INTEGER,
    config TEXT,
    pages_audited INTEGER,
    pages_failed INTEGER,
    message TEXT
)""",
            """CREATE TABLE IF NOT EXISTS pages (
    scan_id INTEGER NOT NULL REFERENCES scans(id),
    url TEXT NOT NULL,
    status_code INTEGER,
    content_type TEXT,
    title TEXT,
    lang TEXT,
    team TEXT,
    depth INTEGER,
    found_via TEXT,
    sitemap_lastmod TEXT,
    last_modified_header TEXT,
    content_hash TEXT,
    bytes INTEGER,
    word_count INTEGER,
    sentence_count INTEGER,
    reading_ease REAL,
    grade_level REAL,
    reading_age REAL,
    readability_measured INTEGER,
    readability_note TEXT,
    long_sentences TEXT,
    words_to_avoid TEXT,
    violations INTEGER,
    needs_review INTEGER,
    frames_present INTEGER,
    frames_audited INTEGER,
    blocked_requests TEXT,
    audit_ms INTEGER,
    fetched_at TEXT,
    audited_at TEXT,
    error TEXT,
    UNIQUE (scan_id, url)
)""",
            """CREATE TABLE IF NOT EXISTS findings (
    scan_id INTEGER NOT NULL REFERENCES scans(id),
    url TEXT NOT NULL,
    kind TEXT NOT NULL,
    rule_id TEXT,
    impact TEXT,
    wcag TEXT,
    level TEXT,
    outcome TEXT NOT NULL,
    selector TEXT,
    snippet TEXT,
    summary TEXT,
    help TEXT,
    help_url TEXT,
    fingerprint TEXT,
    team TEXT
)""",
            """CREATE TABLE IF NOT EXISTS links (
    scan_id INTEGER NOT NULL REFERENCES scans(id),
    source_url TEXT NOT NULL,
    target_url TEXT NOT NULL,
    link_text TEXT,
    internal INTEGER,
    status_code INTEGER,
    error TEXT
)""",
            """CREATE TABLE IF NOT EXISTS documents (
    scan_id INTEGER NOT NULL REFERENCES scans(id),
    url TEXT NOT NULL,
    content_type TEXT,
    bytes INTEGER,
    linked_from TEXT,
    status_code INTEGER,
    UNIQUE (scan_id, url)
)""",
            """CREATE TABLE IF NOT EXISTS fetches (
    scan_id INTEGER NOT NULL REFERENCES scans(id),
    url TEXT NOT NULL,
    final_url TEXT,
    status_code INTEGER,
    content_type TEXT,
    kind TEXT,
    error TEXT,
    UNIQUE (scan_id, url)
)""",
            "CREATE INDEX IF NOT EXISTS findings_scan_url ON findings(scan_id, url)",
            "CREATE INDEX IF NOT EXISTS findings_fingerprint ON findings(fingerprint)",
            "CREATE INDEX IF NOT EXISTS links_scan_target ON links(scan_id, target_url)",
        ),
    ),
    Migration(
        2,
        "dates, review dates, reading-age targets, scores and template findings (e2f44cf)",
        (
            AddColumns(
                "pages",
                (
                    "last_updated TEXT",
                    "last_updated_source TEXT",
                    "review_due TEXT",
                    "reading_age_target REAL",
                    "score REAL",
                ),
            ),
            """CREATE TABLE IF NOT EXISTS page_dates (
    scan_id INTEGER NOT NULL REFERENCES scans(id),
    url TEXT NOT NULL,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    value TEXT NOT NULL,
    evidence TEXT
)""",
            AddColumns("findings", ("scope TEXT NOT NULL DEFAULT 'content'",)),
            "CREATE INDEX IF NOT EXISTS page_dates_scan_url ON page_dates(scan_id, url)",
        ),
    ),
    Migration(
        3,
        "scans.axe_rules, for the CI gate (9c7675b)",
        (AddColumns("scans", ("axe_rules TEXT",)),),
    ),
    Migration(
        4,
        "incremental rescans and document checks (329a7d5)",
        (
            AddColumns("scans", ("rules_key TEXT",)),
            AddColumns("pages", ("render_hash TEXT", "reused_from_scan INTEGER")),
            AddColumns(
                "documents",
                (
                    "team TEXT",
                    "kind TEXT",
                    "title TEXT",
                    "language TEXT",
                    "page_count INTEGER",
                    "created TEXT",
                    "modified TEXT",
                    "tagged INTEGER",
                    "has_text INTEGER",
                    "encrypted INTEGER",
                    "exempt_2018 INTEGER",
                    "check_error TEXT",
                ),
            ),
        ),
    ),
    Migration(
        5,
        "pages.reason and fetches.reason (c90bf09)",
        (AddColumns("pages", ("reason TEXT",)), AddColumns("fetches", ("reason TEXT",))),
    ),
    Migration(
        6,
        "team and site scores, computed once at the end of a scan (issue 12)",
        (
            AddColumns("scans", ("score REAL",)),
            """CREATE TABLE IF NOT EXISTS team_scores (
    scan_id INTEGER NOT NULL REFERENCES scans(id),
    team TEXT NOT NULL,
    score REAL,
    pages INTEGER NOT NULL,
    UNIQUE (scan_id, team)
)""",
            Backfill(scores_from_pages),
        ),
    ),
    Migration(
        7,
        "pictures of elements, where they are in words, and people's decisions (issue 13)",
        (
            AddColumns(
                "findings",
                (
                    "location TEXT",
                    "element_box TEXT",
                    "picture TEXT",
                    "page_picture TEXT",
                    "picture_note TEXT",
                    "decision TEXT",
                ),
            ),
            """CREATE TABLE IF NOT EXISTS pictures (
    id TEXT PRIMARY KEY,
    format TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    image BLOB NOT NULL
)""",
            """CREATE TABLE IF NOT EXISTS decisions (
    scan_id INTEGER NOT NULL REFERENCES scans(id),
    fingerprint TEXT NOT NULL,
    page TEXT,
    decision TEXT NOT NULL
        CHECK (decision IN ('false-positive', 'accepted', 'fixed-pending')),
    reason TEXT,
    expires TEXT,
    decided_by TEXT,
    expired INTEGER NOT NULL DEFAULT 0
)""",
            "CREATE INDEX IF NOT EXISTS decisions_scan ON decisions(scan_id, fingerprint)",
        ),
    ),
    Migration(
        8,
        "siteaudit's own checks beside axe-core: which ran, focus order, page structure (issue 14)",
        (
            AddColumns("scans", ("checks TEXT",)),
            AddColumns("pages", ("focus_order TEXT", "check_errors TEXT", "structure TEXT")),
        ),
    ),
    Migration(
        9,
        "each finding's history across scans; what a conditional request needs (issue 15)",
        (
            AddColumns(
                "findings", ("first_seen_scan INTEGER", "first_seen_at TEXT", "history TEXT")
            ),
            AddColumns("pages", ("etag TEXT", "not_modified INTEGER")),
            Backfill(history_of_old_scans),
        ),
    ),
    Migration(
        10,
        "a page's stylesheets, and its links found by page, for 304 Not Modified (issue 15)",
        (
            AddColumns("pages", ("stylesheets TEXT",)),
            "CREATE INDEX IF NOT EXISTS links_scan_source ON links(scan_id, source_url)",
        ),
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)

# Builds from e2f44cf to c90bf09 changed the schema but all stamped this version, without
# migrating: a database stamped 2 is whichever of versions 2 to 5 its columns show.
AMBIGUOUS_VERSION = 2


def apply(conn: sqlite3.Connection, migration: Migration) -> None:
    """Run one migration's steps on an open transaction."""
    for step in migration.steps:
        if isinstance(step, str):
            conn.execute(step)
            continue
        if isinstance(step, Backfill):
            step.fill(conn)
            continue
        have = columns(conn).get(step.table, set())
        for column in step.columns:
            if column.split()[0] not in have:
                conn.execute(f"ALTER TABLE {step.table} ADD COLUMN {column}")


def columns(conn: sqlite3.Connection) -> dict[str, set[str]]:
    """Each table's column names."""
    tables = [
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {
        table: {row[1] for row in conn.execute(f'PRAGMA table_info("{quoted(table)}")')}
        for table in tables
    }


def quoted(name: str) -> str:
    """A table name for a double-quoted identifier (a foreign file may name tables oddly)."""
    return name.replace('"', '""')


@functools.cache
def shape_at(version: int) -> dict[str, frozenset[str]]:
    """The tables and columns a database has at a version: its migrations run on a new one."""
    conn = sqlite3.connect(":memory:")
    try:
        for migration in MIGRATIONS[:version]:
            apply(conn, migration)
        return {table: frozenset(names) for table, names in columns(conn).items()}
    finally:
        conn.close()


def actual_version(conn: sqlite3.Connection, stamped: int) -> int:
    """The version a database's tables really have: the stamp, except for the ambiguous one,
    where the newest version whose every column the database has decides."""
    if stamped != AMBIGUOUS_VERSION:
        return stamped
    have = columns(conn)
    return max(
        version
        for version in range(AMBIGUOUS_VERSION, SCHEMA_VERSION + 1)
        if version == AMBIGUOUS_VERSION or has_shape(have, shape_at(version))
    )


def has_shape(have: dict[str, set[str]], want: dict[str, frozenset[str]]) -> bool:
    """Whether a database has every table and column of a version (and perhaps more)."""
    return all(want[table] <= have.get(table, set()) for table in want)
