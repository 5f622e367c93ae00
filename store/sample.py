"""What choosing a sample of pages and retesting it reads: the scan's pages, the links and
findings that say what a page is, and each page's findings by rule and criterion."""

from __future__ import annotations

import json
from typing import Any

from vocabulary.urls import normalise_url

# Hosts and file endings of audio and video, for links that put media on a page.
MEDIA_LINK_PATTERNS = (
    "%youtube.com/%", "%youtu.be/%", "%vimeo.com/%",
    "%.mp4", "%.webm", "%.mov", "%.mp3", "%.wav", "%.ogg", "%.m4a",
)  # fmt: skip
# axe rules that only meet media and frames: a page they ran on has some.
MEDIA_RULES = ("video-caption", "audio-caption", "no-autoplay-audio", "frame-title", "object-alt")
# Elements a form is made of, as a finding's stored HTML starts.
FORM_SNIPPETS = ("<input%", "<select%", "<textarea%", "<form%")


def sample_pages(db: Any, scan_id: int) -> list[dict[str, Any]]:
    """The HTML pages a scan read: url, title, depth, frames_present, error, and its
    layout (its navigation regions' and site search's places, from pages.structure)."""
    return list(
        db.query(
            "SELECT url, title, depth, frames_present, error, CASE WHEN json_valid(structure) "
            "THEN (SELECT group_concat(json_extract(n.value, '$.selector[0]'), ' + ') "
            "FROM json_each(structure, '$.navigation') n) END AS navigation, "
            "CASE WHEN json_valid(structure) THEN json_extract(structure, "
            "'$.search.selector[0]') END AS search FROM pages WHERE scan_id = ? "
            "AND (status_code IS NULL OR status_code < 400) ORDER BY depth, length(url), url",
            [scan_id],
        )
    )


def links_matching(db: Any, scan_id: int, word: str) -> list[tuple[str, int]]:
    """(target page, pages linking to it) of the links whose text or address holds `word`,
    to pages of the scan, the most linked first."""
    pattern = f"%{word}%"
    rows = db.execute(
        "SELECT l.target_url, count(DISTINCT l.source_url) AS sources FROM links l "
        "JOIN pages p ON p.scan_id = l.scan_id AND p.url = l.target_url "
        "WHERE l.scan_id = ? AND (lower(l.link_text) LIKE ? OR lower(l.target_url) LIKE ?) "
        "GROUP BY l.target_url ORDER BY sources DESC, length(l.target_url), l.target_url",
        [scan_id, pattern, pattern],
    )
    return rows.fetchall()


def statement_page(db: Any, scan_id: int) -> tuple[str, str] | None:
    """(the accessibility statement, why) as the statement check finds it: the configured
    statement.url if the scan read it, else the page read as a statement (pages.structure's
    `statement`) that most pages link to, English before Welsh; else a page linked with
    text or an address that says "accessibility"."""
    (config,) = db.execute("SELECT config FROM scans WHERE id = ?", [scan_id]).fetchone()
    try:
        configured = (json.loads(config or "{}").get("statement") or {}).get("url") or ""
    except (ValueError, AttributeError):
        configured = ""
    if configured:
        read = db.execute(
            "SELECT url FROM pages WHERE scan_id = ? AND url = ?",
            [scan_id, normalise_url(configured)],
        ).fetchone()
        if read:
            return read[0], "the accessibility statement (statement.url)"
    row = db.execute(
        "SELECT p.url FROM pages p WHERE p.scan_id = ? AND json_valid(p.structure) "
        "AND json_extract(p.structure, '$.statement') IS NOT NULL "
        "ORDER BY coalesce(p.lang, '') LIKE 'cy%', (SELECT count(DISTINCT l.source_url) "
        "FROM links l WHERE l.scan_id = p.scan_id AND l.target_url = p.url) DESC, p.url",
        [scan_id],
    ).fetchone()
    if row:
        return row[0], "the accessibility statement (it reads as one, and pages link to it)"
    linked = links_matching(db, scan_id, "accessibility")
    return (linked[0][0], "the accessibility statement (a link to it says so)") if linked else None


def pages_linking_documents(db: Any, scan_id: int) -> list[tuple[str, int]]:
    """(page, documents it links to) for each page of a scan linking a document."""
    rows = db.execute(
        "SELECT l.source_url, count(DISTINCT l.target_url) AS documents FROM links l "
        "JOIN documents d ON d.scan_id = l.scan_id AND d.url = l.target_url "
        "WHERE l.scan_id = ? GROUP BY l.source_url "
        "ORDER BY documents DESC, length(l.source_url), l.source_url",
        [scan_id],
    )
    return rows.fetchall()


def pages_with_media(db: Any, scan_id: int) -> list[tuple[str, str]]:
    """(page, what shows media on it) for the pages with frames, media rules' findings or
    links to audio and video."""
    patterns = " OR ".join("lower(target_url) LIKE ?" for _ in MEDIA_LINK_PATTERNS)
    rules = ", ".join("?" * len(MEDIA_RULES))
    rows = db.execute(
        "SELECT url, 'frames' FROM pages WHERE scan_id = ? AND frames_present > 0 "
        f"UNION ALL SELECT DISTINCT url, rule_id FROM findings WHERE scan_id = ? "
        f"AND rule_id IN ({rules}) "
        f"UNION ALL SELECT DISTINCT source_url, 'a link to audio or video' FROM links "
        f"WHERE scan_id = ? AND ({patterns})",
        [scan_id, scan_id, *MEDIA_RULES, scan_id, *MEDIA_LINK_PATTERNS],
    )
    return rows.fetchall()


def pages_with_form_fields(db: Any, scan_id: int) -> list[str]:
    """Pages with a finding on a form field in their own content (not the shared layout,
    whose site search every page has), most such findings first."""
    starts = " OR ".join("lower(snippet) LIKE ?" for _ in FORM_SNIPPETS)
    rows = db.execute(
        "SELECT url FROM findings WHERE scan_id = ? AND kind = 'accessibility' "
        f"AND scope = 'content' AND ({starts}) GROUP BY url ORDER BY count(*) DESC, url",
        [scan_id, *FORM_SNIPPETS],
    )
    return [url for (url,) in rows]


def accessibility_results(db: Any, scan_id: int, outcome: str) -> list[dict[str, Any]]:
    """url, rule_id, wcag of each accessibility finding of one outcome in a scan, leaving
    out those a person called a false positive."""
    return list(
        db.query(
            "SELECT url, rule_id, wcag FROM findings WHERE scan_id = ? "
            "AND kind = 'accessibility' AND outcome = ? "
            "AND (decision IS NULL OR decision != 'false-positive') ORDER BY rowid",
            [scan_id, outcome],
        )
    )


def later_finished_scan(db: Any, scan_id: int) -> int | None:
    """The latest finished scan of the same start URL after this one, if any."""
    row = db.execute(
        "SELECT max(id) FROM scans WHERE id > :scan AND status = 'finished' "
        "AND start_url IS (SELECT start_url FROM scans WHERE id = :scan)",
        {"scan": scan_id},
    ).fetchone()
    return row[0]
