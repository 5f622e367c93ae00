"""Escaping for every output: terminal, one-line text, Markdown, XML, CSV, URLs, file names.

Everything a crawled page supplies (titles, team names, selectors, HTML, rule ids, help
text and URLs from a page's own axe) passes through one of these before it is shown.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote, urlsplit

from vocabulary.text import CONTROLS, one_line
from vocabulary.urls import path_and_query

# Characters XML 1.0 does not allow at all, even as character references.
XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Controls XML allows but that a CI viewer would pass to a terminal or a browser as is.
XML_CONTROLS = re.compile("[\x7f-\x84\x86-\x9f]")
# Controls other than tab, line feed and carriage return: kept out of files that a reader
# may print to a terminal (CSV) or that a browser shows (HTML).
TEXT_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP's list).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# CommonMark characters that can start an inline construct (link, emphasis, code, HTML,
# entity), strike-through and GitHub's math, escaped with a backslash in Markdown text.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|!&~$])")
SLUG_LIMIT = 60


def terminal(text: object) -> str:
    """Text for a terminal: every control character shown as a visible escape such as
    \\x1b, so a page cannot move the cursor, clear the screen, retitle the window or
    plant a hyperlink."""
    return CONTROLS.sub(_visible, str(text))


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def xml_text(text: object) -> str:
    """Text for an XML attribute or element: characters XML cannot hold become U+FFFD.
    (ElementTree escapes <, & and quotes itself.)"""
    return XML_CONTROLS.sub("\ufffd", XML_INVALID.sub("\ufffd", "" if text is None else str(text)))


def file_text(text: object) -> str:
    """Multi-line text for a file: controls other than tab and line breaks shown as
    visible escapes such as \\x1b (so `cat report.csv` cannot drive the terminal)."""
    return TEXT_CONTROLS.sub(_visible, "" if text is None else str(text))


def spreadsheet_cell(text: object) -> str:
    """A CSV cell that a spreadsheet shows as text: a leading =, +, -, @, tab or carriage
    return gets a ' before it, as OWASP recommends against formula injection."""
    value = file_text(text)
    return "'" + value if value.startswith(FORMULA_START) else value


def markdown_text(text: object) -> str:
    """Text for Markdown, in a table cell or a list item: one line, with every character
    that could start a link, image, emphasis, code span, HTML or a table cell escaped."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", one_line(text))


def markdown_code(text: object) -> str:
    """A code span for a table cell: fenced by more backticks than any run inside it, so
    the text cannot close it; pipes escaped, as GFM tables split cells on them first."""
    value = one_line(text).replace("|", "\\|")
    if not value:
        return ""
    longest = max((len(run) for run in re.findall("`+", value)), default=0)
    fence = "`" * (longest + 1)
    pad = (
        " " if value.startswith("`") or value.endswith("`") or value[0] == value[-1] == " " else ""
    )
    return f"{fence}{pad}{value}{pad}{fence}"


def http_url(url: str | None) -> str | None:
    """The URL if it is an absolute http or https URL with a host, else None: only these
    may become links (never javascript:, data: or a relative path)."""
    if not url:
        return None
    value = url.strip()
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or CONTROLS.search(value):
        return None
    return value


def markdown_url(url: str) -> str:
    """A link destination that cannot end early or break a table: anything other than
    URL characters is percent-encoded, and so are ( ) < > | and backslash."""
    return quote(url, safe="/:?#&=%+,;@!$*'~-._")


def markdown_link(text: object, url: str | None) -> str:
    """A Markdown link to an http(s) URL, or just the escaped text for any other URL."""
    safe = http_url(url)
    label = markdown_text(text)
    return f"[{label}]({markdown_url(safe)})" if safe else label


def slug(name: str) -> str:
    """A file-name part for a team: lower-case letters, digits and hyphens, short enough
    for any file system."""
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return base[:SLUG_LIMIT].strip("-") or "team"


def unique_slugs(names: list[str]) -> dict[str, str]:
    """A distinct slug for every name, the same on every run for the same name: names are
    taken in sorted order, the first keeps the plain slug, and a name whose slug is taken
    gets a suffix from a hash of the name itself."""
    taken: set[str] = set()
    slugs: dict[str, str] = {}
    for name in sorted(set(names)):
        candidate = slug(name)
        if candidate in taken:
            candidate = f"{candidate}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
        n = 2
        while candidate in taken:  # only if a name looks like another's hashed slug
            candidate = f"{slug(name)}-{hashlib.sha256(name.encode()).hexdigest()[:8]}-{n}"
            n += 1
        taken.add(candidate)
        slugs[name] = candidate
    return slugs


def page_anchor(url: str) -> str:
    """A page's section id in its team page: words of its path (for a person reading the
    link) and a hash of its path and query (the same in every scan, whatever the host)."""
    where = path_and_query(url)
    digest = hashlib.sha256(where.encode()).hexdigest()[:8]
    words = anchor_words(where)[:40].strip("-")
    return f"page-{words}-{digest}" if words else f"page-{digest}"


def page_anchors(urls: list[str]) -> list[str]:
    """page_anchor for each page of a team, made distinct: two hosts can share a path."""
    taken: set[str] = set()
    anchors = []
    for url in urls:
        anchor = page_anchor(url)
        if anchor in taken:
            anchor = f"{anchor}-{hashlib.sha256(url.encode()).hexdigest()[:8]}"
        taken.add(anchor)
        anchors.append(anchor)
    return anchors


def anchor_words(text: str) -> str:
    """Lower-case letters, digits and hyphens: safe in an id and in a link's #fragment."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
