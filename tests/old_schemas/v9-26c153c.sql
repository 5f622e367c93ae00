-- The schema a fresh database got from commit 26c153c, the last before version 10, stamped
-- PRAGMA user_version = 9: its migrations 1 to 9, as sqlite_master holds them.
CREATE TABLE IF NOT EXISTS scans (
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
, axe_rules TEXT, rules_key TEXT, score REAL, checks TEXT);
CREATE TABLE IF NOT EXISTS pages (
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
    error TEXT, last_updated TEXT, last_updated_source TEXT, review_due TEXT, reading_age_target REAL, score REAL, render_hash TEXT, reused_from_scan INTEGER, reason TEXT, focus_order TEXT, check_errors TEXT, structure TEXT, etag TEXT, not_modified INTEGER,
    UNIQUE (scan_id, url)
);
CREATE TABLE IF NOT EXISTS findings (
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
, scope TEXT NOT NULL DEFAULT 'content', location TEXT, element_box TEXT, picture TEXT, page_picture TEXT, picture_note TEXT, decision TEXT, first_seen_scan INTEGER, first_seen_at TEXT, history TEXT);
CREATE TABLE IF NOT EXISTS links (
    scan_id INTEGER NOT NULL REFERENCES scans(id),
    source_url TEXT NOT NULL,
    target_url TEXT NOT NULL,
    link_text TEXT,
    internal INTEGER,
    status_code INTEGER,
    error TEXT
);
CREATE TABLE IF NOT EXISTS documents (
    scan_id INTEGER NOT NULL REFERENCES scans(id),
    url TEXT NOT NULL,
    content_type TEXT,
    bytes INTEGER,
    linked_from TEXT,
    status_code INTEGER, team TEXT, kind TEXT, title TEXT, language TEXT, page_count INTEGER, created TEXT, modified TEXT, tagged INTEGER, has_text INTEGER, encrypted INTEGER, exempt_2018 INTEGER, check_error TEXT,
    UNIQUE (scan_id, url)
);
CREATE TABLE IF NOT EXISTS fetches (
    scan_id INTEGER NOT NULL REFERENCES scans(id),
    url TEXT NOT NULL,
    final_url TEXT,
    status_code INTEGER,
    content_type TEXT,
    kind TEXT,
    error TEXT, reason TEXT,
    UNIQUE (scan_id, url)
);
CREATE INDEX IF NOT EXISTS findings_scan_url ON findings(scan_id, url);
CREATE INDEX IF NOT EXISTS findings_fingerprint ON findings(fingerprint);
CREATE INDEX IF NOT EXISTS links_scan_target ON links(scan_id, target_url);
CREATE TABLE IF NOT EXISTS page_dates (
    scan_id INTEGER NOT NULL REFERENCES scans(id),
    url TEXT NOT NULL,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    value TEXT NOT NULL,
    evidence TEXT
);
CREATE INDEX IF NOT EXISTS page_dates_scan_url ON page_dates(scan_id, url);
CREATE TABLE IF NOT EXISTS team_scores (
    scan_id INTEGER NOT NULL REFERENCES scans(id),
    team TEXT NOT NULL,
    score REAL,
    pages INTEGER NOT NULL,
    UNIQUE (scan_id, team)
);
CREATE TABLE IF NOT EXISTS pictures (
    id TEXT PRIMARY KEY,
    format TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    image BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS decisions (
    scan_id INTEGER NOT NULL REFERENCES scans(id),
    fingerprint TEXT NOT NULL,
    page TEXT,
    decision TEXT NOT NULL
        CHECK (decision IN ('false-positive', 'accepted', 'fixed-pending')),
    reason TEXT,
    expires TEXT,
    decided_by TEXT,
    expired INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS decisions_scan ON decisions(scan_id, fingerprint);
