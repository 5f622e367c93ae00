"""The findings table: the one reader of stored findings, and the end-of-scan changes to them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from store.writer import insert_rows
from vocabulary.checks import RULE_PREFIX
from vocabulary.findings import COLUMNS, Finding

# Found once, on the home page, for the whole site: the layout's from the start. The second
# is audits/statement.py's: no accessibility statement at all.
SITE_WIDE_RULES = (RULE_PREFIX + "multiple-ways", "statement-missing")


def findings_in_scan(
    db: Any, scan_id: int, kind: str | None = None, outcome: str | None = None
) -> list[Finding]:
    """A scan's findings in the order they were stored, of one kind or outcome if asked."""
    sql = f"SELECT {', '.join(COLUMNS)} FROM findings WHERE scan_id = ?"
    params: list[Any] = [scan_id]
    for column, value in (("kind", kind), ("outcome", outcome)):
        if value is not None:
            sql += f" AND {column} = ?"
            params.append(value)
    rows = db.execute(sql + " ORDER BY rowid", params)
    return [Finding(*row) for row in rows]


def replace_findings(db: Any, scan_id: int, kind: str, findings: Iterable[Finding]) -> None:
    """Store a scan's findings of one kind in place of those it had (a re-run replaces them)."""
    db.execute("DELETE FROM findings WHERE scan_id = ? AND kind = ?", [scan_id, kind])
    insert_findings(db, scan_id, findings)


def replace_page_findings(
    db: Any, scan_id: int, url: str, kind: str, findings: Iterable[Finding]
) -> None:
    """Store one page's findings of one kind in place of those it had."""
    db.execute(
        "DELETE FROM findings WHERE scan_id = ? AND url = ? AND kind = ?", [scan_id, url, kind]
    )
    insert_findings(db, scan_id, findings)


def insert_findings(db: Any, scan_id: int, findings: Iterable[Finding]) -> None:
    """Store findings as the writer does (one executemany, store/writer.py insert_rows),
    where sqlite-utils' insert_all spent several times SQLite's own work in Python; in one
    transaction or savepoint, as insert_all's were."""
    rows = [f.row(scan_id) for f in findings]
    if rows:
        with db.atomic():
            insert_rows(db.conn, "findings", rows)


def pages_with_each_fingerprint(db: Any, scan_id: int, kinds: Iterable[str]) -> dict[str, int]:
    """How many pages each fingerprint of these kinds of finding is found on, in a scan."""
    kinds = list(kinds)
    rows = db.execute(
        "SELECT fingerprint, count(DISTINCT url) FROM findings "
        f"WHERE scan_id = ? AND kind IN ({', '.join('?' * len(kinds))}) GROUP BY fingerprint",
        [scan_id, *kinds],
    )
    return dict(rows.fetchall())


def mark_template(
    db: Any, scan_id: int, fingerprints: Iterable[str], owner: str, kinds: Iterable[str]
) -> None:
    """Give the findings of these kinds with these fingerprints to the shared layout's owner,
    once, and every other finding back to its page's team (a re-run starts afresh)."""
    db.execute(
        "UPDATE findings SET scope = 'content', team = (SELECT p.team FROM pages p "
        "WHERE p.scan_id = findings.scan_id AND p.url = findings.url) "
        "WHERE scan_id = ? AND scope = 'template' AND rule_id NOT IN (?, ?)",
        [scan_id, *SITE_WIDE_RULES],
    )
    kinds = list(kinds)
    db.conn.executemany(
        "UPDATE findings SET scope = 'template', team = ? WHERE scan_id = ? AND fingerprint = ? "
        f"AND kind IN ({', '.join('?' * len(kinds))})",
        [(owner, scan_id, fingerprint, *kinds) for fingerprint in fingerprints],
    )
