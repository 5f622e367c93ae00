"""`siteaudit words`: the words outside the dictionary that a scan found, for the council's
word list (spelling.words), on the most pages first."""

from __future__ import annotations

from collections.abc import Iterator

from audits.spelling_findings import by_page, candidates
from reports.changes import ReportError
from reports.escape import terminal
from settings.model import SpellingConfig
from store.database import open_database
from store.scans import latest_finished_scan, scan_row
from store.site_checks import pages_for_site_checks


def word_lines(db_path: str, scan_id: int | None, spelling: SpellingConfig) -> Iterator[str]:
    """A header, then one line per word: pages, uses, the word, and why it is not flagged
    ("flagged" when it is); words already in the list are left out."""
    db = open_database(db_path, create=False)
    scan_id = scan_id or latest_finished_scan(db)
    if scan_id is None:
        raise ReportError(f"{db_path} has no finished scan; run siteaudit scan first")
    if scan_row(db, scan_id) is None:
        raise ReportError(f"{db_path}: there is no scan {scan_id}; leave out --scan for the latest")
    stored = [(u, s.get("spelling") or []) for u, _, _, _, s in pages_for_site_checks(db, scan_id)]
    found = candidates(by_page(stored), spelling.own_words(), spelling.site_word_pages)
    yield f"# Scan {scan_id}: {len(found)} words outside the dictionary, on the most pages first"
    yield "# pages  uses  word  (why it is not flagged, or flagged)"
    for word, why in found:
        yield f"{word.pages:7d} {word.uses:5d}  {terminal(word.word)}  ({why or 'flagged'})"
