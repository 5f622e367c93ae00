"""What every table and column of the database means: the one source of docs/schema.md's
table sections (scripts/schema_docs.py writes them) and of Datasette's descriptions
(siteaudit browse).

Meanings are Markdown, as docs/schema.md shows them: `code` in backticks, links relative to
docs/. A test holds this to the tables and columns of a new database, both ways.
"""

from __future__ import annotations

from dataclasses import dataclass

# Units, where a column has one: the same words in the docs and in Datasette.
MS = "milliseconds"
BYTES = "bytes"
SCORE = "0 to 100"
DATE = "ISO 8601 date"
TIME = "UTC, ISO 8601"
PIXELS = "pixels"
YEARS = "years"
BOOLEAN = "1 or 0"


@dataclass(frozen=True)
class Column:
    name: str
    meaning: str
    unit: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]


# Every table but scans and pictures belongs to a scan.
SCAN_ID = Column("scan_id", "the scan this row belongs to (`scans.id`)")


SCANS = Table(
    "scans",
    "One row per `siteaudit scan`.",
    (
        Column("id", "the scan's id; other tables refer to it as `scan_id`"),
        Column("started_at", "when the scan started", TIME),
        Column("finished_at", "when the scan ended; NULL while it runs, or if it was killed", TIME),
        Column("start_url", "the first start URL"),
        Column(
            "status",
            "`running` (or killed), `finished`, `interrupted` (Ctrl-C, SIGTERM or "
            "`--max-minutes`; `--resume` finishes it), `blocked` (a firewall stopped the "
            "crawl), `failed`",
        ),
        Column("axe_version", "axe-core version used, NULL for `--no-browser`"),
        Column(
            "sandboxed",
            "1 if Chromium ran with its sandbox (as an ordinary user, or as the unprivileged "
            "user siteaudit runs it as when root), 0 if it ran as root without it, NULL "
            "without browser",
        ),
        Column("wcag", "the WCAG version and level audited, e.g. `2.1-AA`"),
        Column("browser", "1 if the browser audited pages, 0 for `--no-browser`", BOOLEAN),
        Column(
            "config",
            "the effective configuration, as JSON; a scan shared through Redis keeps there "
            "too the Redis it is published in, without its password, as `redis.url`, and "
            "its `--redis-lease`, as `redis.lease_seconds`",
        ),
        Column("pages_audited", "pages audited in the browser"),
        Column("pages_failed", "pages the browser could not audit"),
        Column("message", "why a scan failed"),
        Column(
            "axe_rules",
            "every rule id the scan could report: that axe-core version's (when `axe` ran) "
            "and those of siteaudit's own checks that ran, all `siteaudit-...` (the CI gate "
            "tells new rules from regressions)",
        ),
        Column(
            "rules_key",
            "axe-core version and rules run, `audit.viewport` when it is not the default "
            "1280x1024, and the checks run in the browser when they are not axe-core alone: "
            "a rescan reuses audits only from a scan with the same key",
        ),
        Column(
            "score",
            "the site's score: the mean of its pages' scores ([scoring.md](scoring.md)), "
            "computed once the crawl ends",
            SCORE,
        ),
        Column(
            "checks",
            "JSON list of the checks that ran (`--checks`, `audit.checks`; "
            "[checks.md](checks.md)); the browser's only when the browser audited pages. "
            "NULL before version 8 (axe-core alone)",
        ),
    ),
)

PAGES = Table(
    "pages",
    "One row per reachable HTML page (status below 400). `UNIQUE(scan_id, url)`.",
    (
        SCAN_ID,
        Column("url", "normalised URL (no fragment, no default port, tracking parameters removed)"),
        Column(
            "status_code",
            "the HTTP status of the page as read: 200 for a page the server said was "
            "unchanged (304), as it was when last downloaded",
        ),
        Column("content_type", "the response's `Content-Type`"),
        Column("title", "the page's `<title>`"),
        Column("lang", "the page's `<html lang>`"),
        Column(
            "team",
            "owning team (meta tag, then regex rules, then longest path prefix, else "
            '"Unassigned"); a meta tag\'s name is kept to one line of at most 80 characters, '
            "without control characters",
        ),
        Column("depth", "links from a start URL or sitemap (both 0)"),
        Column("found_via", "`start`, `sitemap` or `link`"),
        Column("sitemap_lastmod", "the sitemap's `lastmod` for the page, as found"),
        Column("last_modified_header", "the response's `Last-Modified` header, as found"),
        Column("content_hash", "SHA-256 of the HTML as served"),
        Column("bytes", "size of the HTML", BYTES),
        Column("word_count", "words in the main content"),
        Column("sentence_count", "sentences in the main content"),
        Column("reading_ease", "Flesch reading ease (higher is easier)"),
        Column("grade_level", "Flesch-Kincaid grade"),
        Column("reading_age", "grade + 5, the UK convention", YEARS),
        Column(
            "readability_measured",
            "0 for pages not in English (e.g. Welsh) or without text, whose readability is not "
            "measured",
            BOOLEAN,
        ),
        Column("readability_note", "why readability was not measured"),
        Column("long_sentences", "JSON list of sentences over 25 words, longest first"),
        Column("words_to_avoid", "JSON list of `[word, count]` from GOV.UK's list"),
        Column("violations", "number of elements failing a rule"),
        Column("needs_review", "number of elements needing a person to check"),
        Column("frames_present", "frames found in the page (nested included)"),
        Column("frames_audited", "frames axe audited"),
        Column(
            "blocked_requests",
            "JSON list of analytics/advertising requests the browser blocked",
        ),
        Column("audit_ms", "time spent in the browser", MS),
        Column("fetched_at", "when the crawler fetched the page", TIME),
        Column("audited_at", "when the browser audited it; NULL if it could not", TIME),
        Column("error", "why the page could not be read or audited in the browser"),
        Column("last_updated", "the chosen date of last update (see `page_dates`)", DATE),
        Column("last_updated_source", "where `last_updated` came from (a `page_dates.source`)"),
        Column("review_due", 'a "review due" date the page states, if any', DATE),
        Column("reading_age_target", "the target reading age that applied to this page", YEARS),
        Column(
            "score",
            "the page's score, see [scoring.md](scoring.md); NULL if the browser could not "
            "audit the page",
            SCORE,
        ),
        Column("render_hash", "hash of the HTML and the stylesheets it links"),
        Column(
            "reused_from_scan",
            "set when the page was unchanged (same `render_hash`) and its audit was copied "
            "from that earlier scan instead of run again",
        ),
        Column(
            "reason",
            "`audited`, or `page-too-complex`, `page-hung`, `browser-crashed`, "
            "`browser-error` ([robustness.md](robustness.md))",
        ),
        Column(
            "focus_order",
            "JSON list of the elements the Tab key reached, in order, one CSS selector each "
            "(the `focus` check); NULL when it did not run",
        ),
        Column(
            "check_errors",
            'JSON list of `"check: reason"` for each own browser check that could not finish '
            "on the page (its other results stand)",
        ),
        Column(
            "structure",
            "JSON object of what the checks across the site need from the page's HTML: "
            "`site_name`, `navigation` (each navigation region's selector, snippet and link "
            "URLs in order), `links` (links outside `main`: URL, accessible name, region, "
            "selector, opening tag), `search` (the site search's name, selector, snippet), "
            "`ways` (of `search`, `sitemap`, `a-z`), `spelling` (the words of its prose the "
            "British dictionary does not accept, for the spelling check after the crawl), and "
            "on a page whose title or first heading speaks of accessibility `statement` (what "
            "its accessibility statement says: scope, compliance status, criteria named, "
            "contact, enforcement link, dates); NULL for a page read as text only; shape in "
            "[checks.md](checks.md#pagesstructure)",
        ),
        Column(
            "etag",
            "the `ETag` header as the server sent it (NULL when none, or longer than 256 "
            "bytes): what the next scan's conditional request will send",
        ),
        Column(
            "not_modified",
            "1 when the server answered the scan's conditional request with `304 Not "
            "Modified`, so the page was not downloaded and the last scan's reading (and "
            "audit) stands for it; NULL when it was downloaded",
            BOOLEAN,
        ),
        Column(
            "stylesheets",
            "JSON array of the stylesheet URLs the page links, in a scan with a browser (NULL "
            "without one): a page the server says is unchanged keeps its last audit only if "
            "these are unchanged too",
        ),
    ),
)

FINDINGS = Table(
    "findings",
    "One row per problem per element.",
    (
        SCAN_ID,
        Column("url", "the page (or document) the problem is on"),
        Column(
            "kind",
            "`accessibility`, `readability`, `stale`, `broken-link`, `document`, `statement` "
            "(the accessibility statement: [checks.md](checks.md#the-accessibility-statement))",
        ),
        Column(
            "rule_id",
            "the rule: axe-core's rule id, e.g. `image-alt`; siteaudit's own, "
            "`siteaudit-...`; or a content, link or document rule",
        ),
        Column("impact", "`critical`, `serious`, `moderate` or `minor`"),
        Column("wcag", "success criteria, comma-separated, e.g. `1.1.1` or `2.4.4,4.1.2`"),
        Column("level", "`A` or `AA` (NULL for best-practice rules)"),
        Column(
            "outcome",
            '`violation`, `needs-review` (axe\'s "incomplete": a person must check), or '
            "`exempt` (a document the 2018 exemption covers)",
        ),
        Column("selector", "axe's target as JSON: one selector per frame, outermost first"),
        Column("snippet", "the element's HTML (untrusted: escape it when you show it)"),
        Column(
            "summary",
            "what to fix on this element, from axe (its failure summary); for a page-level "
            "finding, the figures or the date evidence and what to do",
        ),
        Column("help", 'the rule in one line, e.g. "Images must have alternative text"'),
        Column(
            "help_url",
            "a page about the rule: Deque's for axe-core's, W3C's Understanding page for "
            "siteaudit's own, GOV.UK's guidance for content, links and documents",
        ),
        Column("fingerprint", "identifies the same problem on the same element from scan to scan"),
        Column("team", "the page's owning team (`templates.owner` for a template problem)"),
        Column(
            "scope",
            "`content`, or `template` for a problem in the shared layout: the same element of "
            "many pages (an accessibility finding), or a link from many pages to the same "
            "broken target (a broken-link finding), or pages without a link to the "
            "accessibility statement (a statement finding); owned by `templates.owner` "
            "([scoring.md](scoring.md))",
        ),
        Column(
            "location",
            "where the element is, in words: the nearest heading above it and its place among "
            'elements of its kind since that heading, e.g. `under "Bin collection days", the '
            "2nd image`; between the start of the main content and its first heading, `at the "
            "start of the main content, the 1st link`; before both, the landmark it is in "
            "(`in the page header`, `in the navigation`...) or `near the top of the page`; for "
            "an element in a frame or a component's shadow DOM, `inside` the frame or "
            "component element. The heading's text is the page's (at most 80 characters): "
            "escape it when you show it. Set for accessibility findings, needs-review too, "
            "with or without pictures",
        ),
        Column(
            "element_box",
            "the element's box in the page when it was audited, CSS pixels from the top left "
            "of the page (not the window) at the audit's viewport (`audit.viewport`, 1280 by "
            '1024 unless set), as JSON `{"x", "y", "width", "height"}`; for the layout '
            "checks' rules, where the check saw the element fail, as its `picture` shows it: "
            "`siteaudit-reflow` at 320 by 256, `siteaudit-resize-text` at half the audit's "
            "viewport, `siteaudit-text-spacing` with WCAG's text spacing on; NULL for an "
            "element inside a frame",
            PIXELS,
        ),
        Column(
            "picture",
            "`pictures.id` of the element, outlined in magenta between white rings, with about "
            "50 CSS pixels of the page around it (at most 600 pixels wide, 420 tall, 40 KB)",
        ),
        Column(
            "page_picture",
            "`pictures.id` of a small picture (320 pixels wide) of the browser window scrolled "
            "to the element, the element outlined (for the same element in the same place on "
            "several pages of a scan, such as the header's, the picture taken on the first of "
            "them)",
        ),
        Column(
            "picture_note",
            "why there is no picture, in plain words: hidden, zero-sized, too small to see, "
            "outside the page, in the page's head, the whole page, inside a frame, more than "
            "50 on the page (violations are pictured first, then needs-review results), the "
            "page's time ran out, or `pictures turned off (--no-screenshots)`",
        ),
        Column(
            "decision",
            "a person's decision on it, from the `--decisions` file: `false-positive`, "
            "`accepted`, `fixed-pending`, or `expired` (accepted until a date now past: it "
            "counts again); NULL when none",
        ),
        Column(
            "first_seen_scan",
            "the scan of the same start URL that first found this problem: the same "
            "`fingerprint` on the same page without its host (in the shared layout: on any "
            "page), as the CI gate reads it",
        ),
        Column(
            "first_seen_at",
            "that scan's day, kept with the finding so that it survives the scan being pruned",
            DATE,
        ),
        Column(
            "history",
            "since the previous finished scan of the same start URL: `new` (never found "
            "before), `returning` (found by an earlier scan, gone in the previous one, back "
            "now) or `open` (in the previous scan too); filled at the end of the scan "
            "(`store/history.py`)",
        ),
    ),
)

PICTURES = Table(
    "pictures",
    "The pictures of elements that findings point to (`findings.picture`, `page_picture`), "
    "each stored once: a rescan of an unchanged page, which reuses its audit, reuses its "
    "pictures, and identical pictures are one row.",
    (
        Column("id", "SHA-256 of the image's bytes"),
        Column("format", "`webp` or `png`"),
        Column("width", "the image's width", PIXELS),
        Column("height", "the image's height", PIXELS),
        Column("bytes", "the image file's size", BYTES),
        Column("image", "the image file's bytes"),
    ),
)

DECISIONS = Table(
    "decisions",
    "The decisions that applied to a scan (matched at least one of its findings), as the "
    "`--decisions` file held them when the scan (or a later `report --decisions`) ran; a scan "
    "without `--decisions` has none: decisions are never copied from an earlier scan.",
    (
        SCAN_ID,
        Column("fingerprint", "the fingerprint of the findings it decides"),
        Column(
            "page",
            "the page's path and query, host-free; NULL for a decision by fingerprint alone, "
            "as for a template problem, which matches on every page (an old `[[waiver]]` by "
            "rule and url glob gets a row for each fingerprint and page it matched)",
        ),
        Column(
            "decision",
            "`false-positive`, `accepted`, `fixed-pending`; a `[[waiver]]` is `accepted`",
        ),
        Column("reason", "why, in the decider's words"),
        Column("expires", "when an `accepted` decision ends (required for `accepted`)", DATE),
        Column("decided_by", "who decided (a waiver's `approved_by`)"),
        Column(
            "expired",
            "1 when the date had passed: the finding counts again and is flagged",
            BOOLEAN,
        ),
    ),
)

TEAM_SCORES = Table(
    "team_scores",
    "Each team's score in a scan, computed once the crawl ends. `UNIQUE(scan_id, team)`.",
    (
        SCAN_ID,
        Column("team", "the team"),
        Column(
            "score",
            "the mean of the team's pages' scores; NULL if none of its pages has one",
            SCORE,
        ),
        Column(
            "pages",
            "how many pages the team owns; a page without a team counts as "
            "`ownership.default_team`'s",
        ),
    ),
)

PAGE_DATES = Table(
    "page_dates",
    "Every piece of date evidence found for a page. `audits/dates.py` documents the order "
    "of precedence that picks `pages.last_updated`; a page's publication day is its "
    "earliest `published` row.",
    (
        SCAN_ID,
        Column("url", "the page"),
        Column("kind", "`updated`, `published`, `reviewed`, `review-due`"),
        Column(
            "source",
            "`http-last-modified`, `sitemap-lastmod`, `meta:<name>`, `jsonld:dateModified`, "
            "`microdata:datePublished`, `time-element`, `visible-text`, `htmldate` (its "
            "extensive search: `published` for its original date, `updated` for its latest)…; "
            "a `Last-Modified` header judged to be the server's time rather than the "
            "content's keeps its value and evidence as `server-time:later` (later than every "
            "date the page states) or `server-time:shared` (many pages share it within "
            "minutes, judged once the crawl ends)",
        ),
        Column("value", "the date", DATE),
        Column("evidence", "the text it came from"),
    ),
)

LINKS = Table(
    "links",
    "Every link found in a page.",
    (
        SCAN_ID,
        Column("source_url", "the page the link is on"),
        Column(
            "target_url", "where it goes, normalised; other schemes such as `mailto:` as written"
        ),
        Column("link_text", "the link's text"),
        Column("internal", "1 if the target is on an allowed domain", BOOLEAN),
        Column(
            "status_code",
            "the target's HTTP status, once the scan ends (304 for a page the server said "
            "was unchanged; for a target first reached through another URL's redirect or "
            "immediate meta refresh, the status it gave there); NULL for links that were "
            "not fetched, such as off-site ones",
        ),
        Column("error", "why the target could not be fetched, once the scan ends"),
    ),
)

DOCUMENTS = Table(
    "documents",
    "Non-HTML responses (PDF, Word, spreadsheets…). PDF, docx, xlsx and pptx files up to "
    "`documents.max_bytes` (25 MB) are downloaded and checked (`audits/documents.py`). "
    "`UNIQUE(scan_id, url)`.",
    (
        SCAN_ID,
        Column("url", "the document's URL"),
        Column("content_type", "the response's `Content-Type`"),
        Column("bytes", "size, from `Content-Length`", BYTES),
        Column("linked_from", "the shallowest page linking to it"),
        Column("status_code", "the HTTP status of the response"),
        Column("team", "that page's team"),
        Column("kind", "`pdf`, `docx`, `xlsx`, `pptx`, or `other` (not checked)"),
        Column("title", "the document's own title"),
        Column("language", "the document's own language"),
        Column("page_count", "pages (or slides, or sheets)"),
        Column("created", "when the document says it was created", DATE),
        Column("modified", "when the document says it was last changed", DATE),
        Column("tagged", "1 if a PDF is tagged (has a structure tree)", BOOLEAN),
        Column("has_text", "1 if it has a real text layer, not only scanned images", BOOLEAN),
        Column("encrypted", "1 if it is encrypted", BOOLEAN),
        Column(
            "exempt_2018",
            "1 if published before 23 September 2018, so exempt from the regulations if not "
            "needed to use a service",
            BOOLEAN,
        ),
        Column(
            "check_error",
            "why the file could not be checked, in plain English: damaged, "
            "password-protected, or over the checker's memory or time limit "
            "(`documents.max_memory_mb` and `documents.timeout`)",
        ),
    ),
)

FETCHES = Table(
    "fetches",
    "Every URL the crawler asked for. `UNIQUE(scan_id, url)`.",
    (
        SCAN_ID,
        Column("url", "the URL as requested"),
        Column(
            "final_url",
            "the URL after redirects; for `offsite-redirect`, the target that was not followed",
        ),
        Column(
            "status_code",
            "the HTTP status of the response: 304 when a rescan asked whether a page "
            "changed and the server said it had not (then `pages.not_modified` is 1)",
        ),
        Column("content_type", "the response's `Content-Type`"),
        Column(
            "kind",
            "`page`, `document`, or `external` for an off-site link checked once per scan "
            "with HEAD, then GET if HEAD is refused; `link` for a link to the site that the "
            "crawl does not follow, checked the same way (`links.check_unfollowed`)",
        ),
        Column(
            "error",
            "why it failed, e.g. `disallowed by robots.txt`, `ConnectionRefusedError: …`",
        ),
        Column(
            "reason",
            "one of a fixed list, such as `http-404`, `timeout`, `redirect-loop` or `trap`: "
            "see [robustness.md](robustness.md)",
        ),
    ),
)

# In the order docs/schema.md describes them.
TABLES: tuple[Table, ...] = (
    SCANS,
    PAGES,
    FINDINGS,
    PICTURES,
    DECISIONS,
    TEAM_SCORES,
    PAGE_DATES,
    LINKS,
    DOCUMENTS,
    FETCHES,
)
