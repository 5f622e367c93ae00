"""Results reused from an earlier scan: a page that renders the same keeps its last audit,
and a page whose text is the same keeps its readability.

A page renders the same when its HTML (as served) and the stylesheets it links are
byte-for-byte unchanged, and the audit would run the same axe-core version and rules.
Scripts and framed documents are not compared: `siteaudit scan --full` re-audits every page.
Only pages the browser audited without error are reused, so a page that failed to load is
audited again (and is never counted as fixed).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from vocabulary.checks import AXE, BROWSER_CHECKS, SITE_CHECKS, rules_of
from vocabulary.findings import COLUMNS, Finding

# The columns a reused page takes from its previous audit.
AUDIT_COLUMNS = (
    "violations",
    "needs_review",
    "frames_present",
    "frames_audited",
    "blocked_requests",
    "audited_at",
)
# Finding columns copied as they were (pictures included: they are keyed by their bytes, so
# a reused audit reuses them): the new scan decides team, template scope and decisions afresh.
COPIED_FINDING_COLUMNS = tuple(c for c in COLUMNS if c not in ("team", "scope", "decision"))
# The checks across the site judge the HTML afresh every scan: their findings are not copied.
FRESH_RULES = tuple(rules_of(SITE_CHECKS))


@dataclass(frozen=True)
class PreviousAudit:
    scan_id: int  # the scan whose rows are copied
    audited_in: int  # the scan in which the browser really audited the page
    render_hash: str


# The viewport audits were made at before audit.viewport existed: a key without a viewport.
DESKTOP_VIEWPORT = (1280, 1024)


def rules_key(
    axe_version: str,
    run_only: tuple[str, ...],
    viewport: tuple[int, int] = DESKTOP_VIEWPORT,
    checks: tuple[str, ...] = (AXE,),
) -> str:
    """What must match for an old audit to stand: axe-core's version, the rules run, the
    viewport and the checks run in the browser (each named only when not what scans
    before them had: the desktop viewport, axe-core alone; so older scans' keys match)."""
    key: list[object] = [axe_version, sorted(run_only)]
    if tuple(viewport) != DESKTOP_VIEWPORT:
        key.append("{}x{}".format(*viewport))
    in_browser = [c for c in (AXE, *BROWSER_CHECKS) if c in checks]
    if in_browser != [AXE]:
        key.append({"checks": in_browser})
    return json.dumps(key)


def render_hash(content_hash: str, stylesheet_hashes: list[str]) -> str:
    return hashlib.sha256("\n".join([content_hash, *stylesheet_hashes]).encode()).hexdigest()


def previous_scan(db: Any, key: str, before: int) -> int | None:
    """The latest earlier browser scan of the same start URL (a site's scans, as --resume
    and prune have them) with the same axe-core and rules: another site's, scanned in
    between into the same database, has none of this site's pages."""
    row = db.execute(
        "SELECT max(id) FROM scans WHERE id < :before AND browser = 1 AND rules_key = :key "
        "AND status IN ('finished', 'interrupted') "
        "AND start_url IS (SELECT start_url FROM scans WHERE id = :before)",
        {"before": before, "key": key},
    ).fetchone()
    return row[0] if row else None


def load_previous(db: Any, key: str, scan_id: int) -> dict[str, PreviousAudit]:
    """url -> the previous audit of that page, for every page audited cleanly last time."""
    previous = previous_scan(db, key, scan_id)
    if previous is None:
        return {}
    rows = db.execute(
        "SELECT url, render_hash, reused_from_scan FROM pages WHERE scan_id = ? "
        "AND audited_at IS NOT NULL AND error IS NULL AND render_hash IS NOT NULL",
        [previous],
    )
    return {url: PreviousAudit(previous, reused or previous, rh) for url, rh, reused in rows}


def copied_audit(
    reader: Any, audit: PreviousAudit, url: str
) -> tuple[dict[str, Any], list[Finding]]:
    """The previous audit's page columns and accessibility findings for one page."""
    row = reader.execute(
        f"SELECT {', '.join(AUDIT_COLUMNS)} FROM pages WHERE scan_id = ? AND url = ?",
        [audit.scan_id, url],
    ).fetchone()
    page = dict(zip(AUDIT_COLUMNS, row, strict=True)) if row else {}
    findings = reader.execute(
        f"SELECT {', '.join(COPIED_FINDING_COLUMNS)} FROM findings WHERE scan_id = ? "
        f"AND url = ? AND kind = 'accessibility' "
        f"AND rule_id NOT IN ({', '.join('?' * len(FRESH_RULES))}) ORDER BY rowid",
        [audit.scan_id, url, *FRESH_RULES],
    ).fetchall()
    copied = [Finding.from_row(dict(zip(COPIED_FINDING_COLUMNS, f, strict=True))) for f in findings]
    return {**page, "error": None, "audit_ms": 0, "reused_from_scan": audit.audited_in}, copied


READABILITY_COLUMNS = (
    "content_hash",
    "readability_measured",
    "readability_note",
    "word_count",
    "sentence_count",
    "reading_ease",
    "grade_level",
    "reading_age",
    "long_sentences",
    "words_to_avoid",
)


def load_known_readability(db: Any, before: int) -> dict[str, dict[str, Any]]:
    """content hash -> readability of every page of the earlier scan previous_read_scan
    names, as the fields of audits.readability.Readability."""
    return dict(known_readability(db, before))


def known_readability(db: Any, before: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """(content hash, readability fields) of each page of the earlier scan previous_read_scan
    names, a row at a time: a shared rescan's seeder puts them in Redis without holding them all."""
    previous = previous_read_scan(db, before)
    if previous is None:
        return
    rows = db.execute(
        f"SELECT {', '.join(READABILITY_COLUMNS)} FROM pages WHERE scan_id = ? "
        "AND content_hash IS NOT NULL",
        [previous],
    )
    for row in rows:
        yield row[0], readability_fields(row)


def previous_read_scan(db: Any, before: int) -> int | None:
    """The earlier scan whose pages' readability a scan reuses: the latest of its start URL
    (another site's, scanned in between into the same database, shares few of its pages),
    else the latest of any site (readability depends on the text alone)."""
    row = db.execute(
        "SELECT id FROM scans WHERE id < :before AND status IN ('finished', 'interrupted') "
        "ORDER BY start_url IS (SELECT start_url FROM scans WHERE id = :before) DESC, id DESC "
        "LIMIT 1",
        {"before": before},
    ).fetchone()
    return row[0] if row else None


def readability_fields(row: tuple[Any, ...]) -> dict[str, Any]:
    _, measured, note, words, sentences, ease, grade, age, long, avoid = row
    return {
        "measured": bool(measured),
        "reason": note,
        "word_count": words or 0,
        "sentence_count": sentences or 0,
        "reading_ease": ease,
        "grade_level": grade,
        "reading_age": age,
        "long_sentences": json.loads(long or "[]"),
        "words_to_avoid": [tuple(w) for w in json.loads(avoid or "[]")],
    }
