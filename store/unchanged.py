"""What a rescan sends to ask whether a page changed, and what a page the server says is
unchanged (304 Not Modified) takes from the scan before.

A rescan asks about the pages of the latest earlier scan of the same kind: with a browser,
the scan whose audits it reuses (store/previous.py), only for pages it audited cleanly;
without one, the latest earlier scan of the same start URL without a browser. It asks only
if that scan ran with the same configuration (`--full` aside): the reading it keeps was
made under it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from store.previous import COPIED_FINDING_COLUMNS
from vocabulary.checks import rules_of
from vocabulary.findings import Finding

# Findings decided on each page from its whole HTML, which no later step can decide again
# from what is stored (the links and headings checks read more than pages.structure keeps).
# Readability and freshness are decided again from the stored figures and dates, and the
# checks after the crawl run on every page anyway.
PAGE_READ_RULES = tuple(rules_of(("links", "headings")))

# The page columns that come from its HTML and headers, copied as they were.
READING_COLUMNS = (
    "status_code",
    "content_type",
    "title",
    "lang",
    "last_modified_header",
    "etag",
    "content_hash",
    "bytes",
    "word_count",
    "sentence_count",
    "reading_ease",
    "grade_level",
    "reading_age",
    "readability_measured",
    "readability_note",
    "long_sentences",
    "words_to_avoid",
    "structure",
    "stylesheets",
    "render_hash",
    "team",
)


@dataclass(frozen=True)
class Validators:
    """What a conditional request for a page sends, from the scan that read it."""

    scan_id: int
    etag: str | None
    last_modified: str | None


@dataclass
class PreviousReading:
    """A page as the scan before read it: its columns, dates, links and page findings."""

    scan_id: int
    row: dict[str, Any]
    dates: list[dict[str, str]] = field(default_factory=list)
    # (target URL, link text, internal) of each link the page had.
    links: list[tuple[str, str, bool]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def stylesheets(self) -> list[str]:
        return json.loads(self.row.get("stylesheets") or "[]")


def same_config(earlier: str | None, now: str | None) -> bool:
    """Whether two scans' stored configurations are the same, `--full` aside."""
    if earlier is None or now is None:
        return False
    try:
        a, b = json.loads(earlier), json.loads(now)
    except ValueError:
        return False
    for config in (a, b):
        if isinstance(config.get("audit"), dict):
            config["audit"].pop("full", None)
    return bool(a == b)


def validator_scan(db: Any, scan_id: int, browser_scan: int | None) -> int | None:
    """The scan whose pages a rescan asks about: the browser scan whose audits it reuses,
    or without a browser the latest earlier scan of the same site without one; None if its
    configuration differs."""
    this = db.execute("SELECT browser, config FROM scans WHERE id = ?", [scan_id]).fetchone()
    if this is None:
        return None
    browser, config = this
    earlier = browser_scan if browser else last_scan_without_browser(db, scan_id)
    if earlier is None:
        return None
    (earlier_config,) = db.execute("SELECT config FROM scans WHERE id = ?", [earlier]).fetchone()
    return earlier if same_config(earlier_config, config) else None


def last_scan_without_browser(db: Any, scan_id: int) -> int | None:
    """The latest earlier scan without the browser of the scan's start URL, finished or
    interrupted. Of its site: one database holds the scans of many sites (--sites), and
    another site's scan in between has nothing to ask about."""
    row = db.execute(
        "SELECT max(id) FROM scans WHERE id < :scan AND NOT coalesce(browser, 0) "
        "AND status IN ('finished', 'interrupted') "
        "AND start_url IS (SELECT start_url FROM scans WHERE id = :scan)",
        {"scan": scan_id},
    ).fetchone()
    return row[0] if row else None


def load_validators(db: Any, scan_id: int, browser_scan: int | None) -> dict[str, Validators]:
    """url -> what to send to ask whether the page changed, for every page read cleanly by
    the scan a rescan asks about (and, with a browser, audited cleanly) that had a
    validator."""
    return dict(validators_of(db, scan_id, browser_scan))


def validators_of(
    db: Any, scan_id: int, browser_scan: int | None
) -> Iterator[tuple[str, Validators]]:
    """load_validators a page at a time: a shared rescan's seeder puts them in Redis without
    holding them all."""
    earlier = validator_scan(db, scan_id, browser_scan)
    if earlier is None:
        return
    audited = "AND audited_at IS NOT NULL AND render_hash IS NOT NULL" if browser_scan else ""
    rows = db.execute(
        "SELECT url, etag, last_modified_header FROM pages WHERE scan_id = ? "
        "AND status_code = 200 AND error IS NULL AND content_hash IS NOT NULL "
        "AND coalesce(reason, 'audited') = 'audited' "
        f"AND (etag IS NOT NULL OR last_modified_header IS NOT NULL) {audited}",
        [earlier],
    )
    for url, etag, modified in rows:
        yield url, Validators(earlier, etag, modified)


def previous_reading(reader: Any, scan_id: int, url: str) -> PreviousReading | None:
    """The page as scan_id read it: what a page the server says is unchanged keeps."""
    row = reader.execute(
        f"SELECT {', '.join(READING_COLUMNS)} FROM pages WHERE scan_id = ? AND url = ?",
        [scan_id, url],
    ).fetchone()
    if row is None:
        return None
    dates = reader.execute(
        "SELECT kind, source, value, evidence FROM page_dates WHERE scan_id = ? AND url = ? "
        "ORDER BY rowid",
        [scan_id, url],
    ).fetchall()
    # A link's offsite redirect is stored against the page that linked to it: the crawl
    # finds it again by following the link, so it is not one of the page's own links.
    links = reader.execute(
        "SELECT target_url, link_text, internal FROM links WHERE scan_id = ? "
        "AND source_url = ? AND NOT (internal = 0 AND link_text LIKE 'redirect from %') "
        "ORDER BY rowid",
        [scan_id, url],
    ).fetchall()
    findings = reader.execute(
        f"SELECT {', '.join(COPIED_FINDING_COLUMNS)} FROM findings WHERE scan_id = ? "
        f"AND url = ? AND rule_id IN ({', '.join('?' * len(PAGE_READ_RULES))}) ORDER BY rowid",
        [scan_id, url, *PAGE_READ_RULES],
    ).fetchall()
    return PreviousReading(
        scan_id,
        dict(zip(READING_COLUMNS, row, strict=True)),
        [dict(zip(("kind", "source", "value", "evidence"), d, strict=True)) for d in dates],
        [(target, text or "", bool(internal)) for target, text, internal in links],
        [Finding.from_row(dict(zip(COPIED_FINDING_COLUMNS, f, strict=True))) for f in findings],
    )
