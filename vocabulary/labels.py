"""Plain-English labels for the codes a person would otherwise read: date sources, impacts."""

from __future__ import annotations

# Where a Last-Modified header ends up (audits/dates.py, audits/server_time.py): trusted as
# the content's time, or judged the server's (a deployment or a cache fill) and why.
HEADER_SOURCE = "http-last-modified"
SERVER_TIME_LATER = "server-time:later"  # later than every date the page gives
SERVER_TIME_SHARED = "server-time:shared"  # shared by many pages within minutes
SERVER_TIME_SOURCES = (SERVER_TIME_LATER, SERVER_TIME_SHARED)

# What each kind of date says about the page, to finish "... says when the page was ...".
_CHANGED = "last changed"
_PUBLISHED = "published"
_REVIEWED = "last reviewed"

# The meta tags and JSON-LD keys audits/dates.py reads, by what their date means there.
# tests/test_labels.py checks these against audits/dates.py, so a new source needs a label.
_META = {
    "http-equiv:last-modified": _CHANGED,
    "article:modified_time": _CHANGED,
    "og:updated_time": _CHANGED,
    "dcterms.modified": _CHANGED,
    "dc.date.modified": _CHANGED,
    "dc.modified": _CHANGED,
    "last-modified": _CHANGED,
    "revised": _CHANGED,
    "date.modified": _CHANGED,
    "datemodified": _CHANGED,
    "lastreviewed": _REVIEWED,
    "article:published_time": _PUBLISHED,
    "dcterms.created": _PUBLISHED,
    "dcterms.issued": _PUBLISHED,
    "dc.date.created": _PUBLISHED,
    "dcterms.date": _PUBLISHED,
    "date": _PUBLISHED,
    "datepublished": _PUBLISHED,
    "datecreated": _PUBLISHED,
}
_JSONLD = {
    "dateModified": _CHANGED,
    "datePublished": _PUBLISHED,
    "dateCreated": _PUBLISHED,
    "lastReviewed": _REVIEWED,
}

DATE_SOURCE_LABELS: dict[str, str] = {
    "visible-text": "the page says 'Last updated' or 'Last reviewed'",
    "time-element": "the page shows a date next to 'Updated' or 'Reviewed'",
    "sitemap-lastmod": "the site's list of pages for search engines (its sitemap) says when "
    "the page last changed",
    "http-last-modified": "the web server says when the page last changed (this can be later "
    "than the last real edit)",
    "htmldate": "a best guess from the dates found on the page",
    SERVER_TIME_LATER: "the web server's time, not the page's: later than every date the "
    "page gives, so probably when the site was last copied to the server",
    SERVER_TIME_SHARED: "the web server's time, not the page's: many pages share it to "
    "within minutes, so it is when the site was copied to the server or cached",
    **{
        f"meta:{name}": f"the page's hidden details say when it was {meaning}"
        for name, meaning in _META.items()
    },
    **{
        f"{syntax}:{key}": f"the page's details for search engines say when it was {meaning}"
        for key, meaning in _JSONLD.items()
        for syntax in ("jsonld", "microdata")
    },
}

IMPACT_LABELS: dict[str, str] = {
    "critical": "stops some people using the page at all",
    "serious": "makes the page very hard to use for some people",
    "moderate": "makes the page harder to use for some people",
    "minor": "a small nuisance for some people",
}

READING_AGE_METHOD = (
    "Reading age is worked out from the page's main text: longer sentences and longer words "
    "(more syllables) raise it. It is the Flesch-Kincaid school grade plus 5 years."
)


def date_source_label(source: str | None) -> str:
    """Where a page's date came from, in words; a source not listed above (an older
    database's) gets a general phrase rather than its code."""
    if not source:
        return "no date found"
    if source in DATE_SOURCE_LABELS:
        return DATE_SOURCE_LABELS[source]
    if source.startswith(("meta:", "jsonld:", "microdata:")):
        return "the page's hidden details give a date"
    return "a date found with the page"


def impact_label(impact: str | None) -> str:
    """What an impact means for the people using the page; empty for a finding without one."""
    return IMPACT_LABELS.get(impact or "", "")


# A page's problems beside accessibility, in a few words each, by kind (the team page's table);
# broken links are counted apart.
OTHER_PROBLEMS = {
    "readability": "hard to read",
    "stale": "out of date",
    "statement": "accessibility statement problems",
}


# How to fix the content checks' problems, as explanations.toml says it for axe's rules:
# for a team's "Fix these first" list and email, in plain words.
CONTENT_FIXES = {
    "reading-age": "Use shorter sentences and everyday words. The report lists the page's "
    "longest sentences and the words to avoid.",
    "stale": "Check the page is still right, then update it, or take it down if it is not needed.",
    "review-overdue": "Check the page is still right, then update it and its review date.",
    "undated": "Check the page is still right, and show the date it was last updated.",
    "archive-candidate": "Move the page to the archive, or take it down if it is not needed.",
    "broken-link-internal": "Change the link to the page's new address, or take it out.",
    "broken-link-external": "Check the other site's page still exists, then change the link "
    "or take it out.",
    "misspelling": "Correct the spelling. If the word is right (a name or a place), ask the "
    "web team to add it to the council's word list.",
    "us-spelling": "Use the British spelling: colour, centre, organise.",
}


def content_fix(rule_id: str) -> str:
    """How to fix a content check's problem; empty for a rule not listed."""
    return CONTENT_FIXES.get(rule_id, "")
