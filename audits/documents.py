"""Accessibility checks for published documents (PDF, Word, Excel, PowerPoint) from their bytes.

What is checked
---------------
PDFs are opened with pikepdf (qpdf): tags, title and whether it is shown, language, a real
text layer, bookmarks on long documents, labelled form fields and encryption that blocks
assistive technology. Office Open XML files (.docx, .xlsx, .pptx and their macro and
template variants) are zip packages: only their title and language are checked, with the
standard library's zipfile and a safe XML parser, so all three are handled the same way.

Legacy binary Office files (.doc, .xls, .ppt), OpenDocument files and anything else are
reported as kind ``"other"`` with no issues: we cannot inspect them, and saying nothing is
better than guessing.

The 2018 exemption
------------------
The Public Sector Bodies Accessibility Regulations 2018 do not cover documents published
before 23 September 2018 unless they are needed to use a service. ``exempt_2018`` is only
the date half of that test, from the file's own creation date (or its modification date
when it has none): whether the document is needed to use a service is for a person to
decide, so issues are reported for exempt documents too. A creation date can also be older
than the publication (a file made from an old template keeps the template's date).

Hostile input
-------------
Every document is untrusted. Nothing here raises on bad input: a file that cannot be read
gives ``document-unreadable`` and ``error``. XML is parsed without entity expansion or
network access, and with caps on its size, element count and depth. Zip members, zip
member counts and PDF streams (any filter chain, and XMP metadata) are decompressed only up
to a limit: qpdf's own decoders are capped too (``harden_qpdf``), for the object streams it
reads by itself. Page content is scanned token by token with a budget, and only the first
``MAX_TEXT_PAGES`` pages are searched for text. What is left (a qpdf bug, an allocation we
did not foresee) is for the caller's sandbox: crawler/document_sandbox.py runs these checks
in a child process with memory and time limits.
"""

from __future__ import annotations

import contextlib
import io
import logging
import posixpath
import re
import struct
import xml.sax
import xml.sax.handler
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from itertools import islice
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pikepdf
import pikepdf.settings
from defusedxml import sax as defused_sax

# defusedxml refuses entity expansion, DTDs' entities and external references outright.
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import fromstring as _xml_fromstring

XML_ERRORS: tuple[type[Exception], ...] = (ParseError, ValueError, xml.sax.SAXException)

log = logging.getLogger(__name__)

EXEMPTION_DATE = date(2018, 9, 23)  # the regulations cover documents published from this day
EARLIEST = date(1993, 1, 1)  # before PDF 1.0: a placeholder such as 1970-01-01 or 1601-01-01
BOOKMARK_MIN_PAGES = 20  # more pages than this need bookmarks to find one's way around
MAX_TEXT_PAGES = 500  # pages searched for a text layer; text is nearly always on page 1
MAX_STREAM_BYTES = 16 * 1024 * 1024  # one decoded content stream; more is a bomb or a map
MAX_CONTENT_BYTES = 128 * 1024 * 1024  # decoded content for the whole text search
MAX_FORM_DEPTH = 8  # form XObjects nest a level or two; deeper is a trap
MAX_FIELDS = 10_000  # form field nodes visited
MAX_XML_BYTES = 8 * 1024 * 1024  # core.xml, styles.xml, XMP: small parts in real files
# A parsed element costs about 100 bytes whatever its size in the file: `<a/>` is 4 bytes.
MAX_XML_ELEMENTS = 200_000  # a real styles.xml has a few thousand
MAX_BODY_BYTES = 32 * 1024 * 1024  # word/document.xml, read as a stream until a language shows
MAX_BODY_ELEMENTS = 300_000  # elements looked at for a language (a second or two)
MAX_XML_DEPTH = 1_000  # Word nests tables in tables a few dozen levels deep at most
MAX_ZIP_MEMBERS = 10_000  # parts in one Office package; real ones have tens to hundreds
MAX_ZIP_DIRECTORY = 4 * 1024 * 1024  # its list of parts: ~80 bytes a part in real files
MAX_CONTENT_TOKENS = 1_000_000  # PDF content tokens read in the text search (about 2 s)
# What qpdf's own decoders (Flate, predictors, RunLength) may produce from one stream.
MAX_QPDF_DECODE = 32 * 1024 * 1024
# LZW (which qpdf cannot cap) turns 12 bits into at most ~3,800 bytes.
LZW_MAX_RATIO = 2_600
INFLATE_CHUNK = 64 * 1024
# What zipfile raises on damaged packages: bad deflate data, unsupported or encrypted members.
ZIP_ERRORS = (
    KeyError,
    zipfile.BadZipFile,
    zlib.error,
    OSError,
    ValueError,
    EOFError,
    RuntimeError,  # includes NotImplementedError
)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Password-protected Office files are OLE containers with this stream, not zip packages.
OLE_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")

PDF_TYPES = {"application/pdf", "application/x-pdf", "application/acrobat"}
OOXML = "application/vnd.openxmlformats-officedocument."
CONTENT_TYPES = {
    **dict.fromkeys(PDF_TYPES, "pdf"),
    OOXML + "wordprocessingml.document": "docx",
    OOXML + "wordprocessingml.template": "docx",
    "application/vnd.ms-word.document.macroenabled.12": "docx",
    OOXML + "spreadsheetml.sheet": "xlsx",
    OOXML + "spreadsheetml.template": "xlsx",
    "application/vnd.ms-excel.sheet.macroenabled.12": "xlsx",
    OOXML + "presentationml.presentation": "pptx",
    OOXML + "presentationml.slideshow": "pptx",
    OOXML + "presentationml.template": "pptx",
    "application/vnd.ms-powerpoint.presentation.macroenabled.12": "pptx",
}
EXTENSIONS = {
    ".pdf": "pdf",
    **dict.fromkeys((".docx", ".docm", ".dotx", ".dotm"), "docx"),
    **dict.fromkeys((".xlsx", ".xlsm", ".xltx", ".xltm"), "xlsx"),
    **dict.fromkeys((".pptx", ".pptm", ".ppsx", ".ppsm", ".potx", ".potm"), "pptx"),
}
# The folder of an Office package's main part tells its kind when nothing else does.
ZIP_FOLDERS = {"word/": "docx", "xl/": "xlsx", "ppt/": "pptx"}
DEFAULT_MAIN_PARTS = {
    "docx": "word/document.xml",
    "xlsx": "xl/workbook.xml",
    "pptx": "ppt/presentation.xml",
}
OFFICE_APPS = {"docx": "Word", "xlsx": "Excel", "pptx": "PowerPoint"}

# Titles that tools fill in by themselves: they name the file, not what it is about.
PLACEHOLDER_TITLE = re.compile(
    r"^(untitled|document\s*\d*|title|presentation\s*\d*|book\s*\d*|slide\s*\d*"
    r"|microsoft (word|excel|powerpoint) - .*"
    r"|.*\.(docx?|xlsx?|pptx?|pdf|rtf|odt|indd|pub|txt|html?))$",
    re.IGNORECASE,
)
PDF_DATE = re.compile(
    r"^(?:D:)?\s*(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?"
    r"\s*(?:([Zz+-])\s*(\d{2})?'?(\d{2})?'?)?"
)
XMP_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


@dataclass(frozen=True)
class DocumentIssue:
    rule_id: str  # e.g. "pdf-untagged", "office-no-title", "document-unreadable"
    impact: str  # critical / serious / moderate / minor
    wcag: str | None  # comma-separated success criteria, e.g. "1.3.1"
    summary: str  # what is wrong, in plain English for a page editor, and what to do
    help: str  # a short title, e.g. "PDF is not tagged"


@dataclass(frozen=True)
class DocumentReport:
    kind: str  # "pdf", "docx", "xlsx", "pptx" or "other"
    title: str | None
    language: str | None
    pages: int | None
    created: str | None  # ISO date
    modified: str | None  # ISO date
    tagged: bool | None
    has_text: bool | None
    encrypted: bool
    exempt_2018: bool  # created (or else modified) before 2018-09-23
    issues: list[DocumentIssue]
    error: str | None = None


# rule id -> (impact, WCAG success criteria, short title)
RULES: dict[str, tuple[str, str | None, str]] = {
    "pdf-untagged": ("serious", "1.3.1", "PDF is not tagged"),
    "pdf-no-title": ("moderate", "2.4.2", "PDF has no title"),
    "pdf-title-not-displayed": ("minor", "2.4.2", "PDF shows its file name, not its title"),
    "pdf-no-language": ("moderate", "3.1.1", "PDF has no language"),
    "pdf-no-text": ("critical", "1.1.1", "PDF has no text"),
    "pdf-no-bookmarks": ("moderate", "2.4.5", "Long PDF has no bookmarks"),
    "pdf-unlabelled-fields": ("serious", "4.1.2", "PDF form fields have no labels"),
    "pdf-encrypted-blocks-at": ("critical", "1.1.1", "PDF security blocks screen readers"),
    "office-no-title": ("moderate", "2.4.2", "Document has no title"),
    "office-no-language": ("moderate", "3.1.1", "Document has no language"),
    "document-unreadable": ("serious", None, "Document could not be opened"),
}


def issue(rule_id: str, summary: str) -> DocumentIssue:
    impact, wcag, help_title = RULES[rule_id]
    return DocumentIssue(rule_id, impact, wcag, summary, help_title)


def check_document(
    data: bytes, content_type: str | None, filename: str | None = None
) -> DocumentReport:
    """Audit one downloaded document; never raises, whatever the bytes are."""
    kind = "other"
    try:
        kind = document_kind(data, content_type, filename)
        if kind == "pdf":
            return check_pdf(data)
        if kind in OFFICE_APPS:
            return check_office(data, kind)
    except MemoryError:
        raise  # the sandbox records it; a half-failed allocation leaves nothing to trust
    except Exception as err:  # a bug here must cost one document, not the whole scan
        log.warning("document check failed (%s)", filename or kind, exc_info=True)
        return unreadable(kind, describe_error(err))
    return empty_report("other")


# --- What kind of document ------------------------------------------------------------


def document_kind(data: bytes, content_type: str | None, filename: str | None) -> str:
    """The server's content type first, then the file extension, then the bytes themselves.

    Servers often send Office files as application/octet-stream or even application/msword,
    so a content type we do not recognise falls through to the extension.
    """
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type in CONTENT_TYPES:
        return CONTENT_TYPES[media_type]
    extension = PurePosixPath(urlsplit(filename or "").path).suffix.lower()
    if extension in EXTENSIONS:
        return EXTENSIONS[extension]
    return sniff_kind(data)


def sniff_kind(data: bytes) -> str:
    if b"%PDF-" in data[:1024]:  # readers accept junk before the header, so qpdf does too
        return "pdf"
    if not data.startswith(b"PK") or too_many_members(data):
        return "other"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            names = package.namelist()
    except ZIP_ERRORS:
        return "other"
    for folder, kind in ZIP_FOLDERS.items():
        if any(name.startswith(folder) for name in names):
            return kind
    return "other"


# --- Reports ----------------------------------------------------------------------------


def empty_report(
    kind: str,
    issues: list[DocumentIssue] | None = None,
    error: str | None = None,
    encrypted: bool = False,
) -> DocumentReport:
    return DocumentReport(
        kind=kind,
        title=None,
        language=None,
        pages=None,
        created=None,
        modified=None,
        tagged=None,
        has_text=None,
        encrypted=encrypted,
        exempt_2018=False,
        issues=issues or [],
        error=error,
    )


def unreadable(kind: str, error: str) -> DocumentReport:
    summary = (
        f"This file could not be opened ({error}). It may be damaged, or not the kind of "
        "file its name or link says it is. Check that it opens on your own computer, then "
        "upload it again."
    )
    return empty_report(kind, [issue("document-unreadable", summary)], error)


def describe_error(err: BaseException) -> str:
    """The exception's message without qpdf's "stream <_io.BytesIO object at 0x...>: "."""
    message = re.sub(r"^stream <[^>]*>:\s*", "", str(err)).strip()
    return (message or type(err).__name__)[:300]


def is_exempt(created: date | None, modified: date | None) -> bool:
    published = created or modified
    return published is not None and published < EXEMPTION_DATE


def plausible(day: date) -> date | None:
    """Drop placeholder dates from before PDF existed, and dates in the future."""
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    return day if EARLIEST <= day <= tomorrow else None


def iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def is_placeholder_title(title: str) -> bool:
    return bool(PLACEHOLDER_TITLE.match(title.strip()))


# --- Dates --------------------------------------------------------------------------------


def parse_pdf_date(text: str | None) -> date | None:
    """A PDF date (D:YYYYMMDDHHmmSSOHH'mm'), where everything after the year is optional.

    A date with a time and an offset is converted to UTC first, as audits.dates does, so
    the same instant gives the same date wherever the file was made.
    """
    match = PDF_DATE.match(text or "")
    if not match:
        return None
    year, month, day, hour, minute, second, sign, off_h, off_m = match.groups()
    try:
        moment = datetime(
            int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0)
        ) + timedelta(seconds=int(second or 0))
        if hour and sign:
            offset = timedelta(hours=int(off_h or 0), minutes=int(off_m or 0))
            zone = timezone(-offset if sign == "-" else offset)
            moment = moment.replace(tzinfo=zone).astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return plausible(moment.date())


def parse_iso_date(text: str | None) -> date | None:
    """An XMP or Office (W3CDTF) date: a year, a month, a day, or a full timestamp."""
    text = (text or "").strip()
    match = XMP_DATE.match(text)
    try:
        if match:
            year, month, day = match.groups()
            return plausible(date(int(year), int(month or 1), int(day or 1)))
        moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return plausible(moment.date())


# --- XML ------------------------------------------------------------------------------------


def local_name(tag: Any) -> str:
    """The name without its namespace, so Strict and Transitional OOXML read the same."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def attribute(element: Any, name: str) -> str | None:
    for key, value in element.attrib.items():
        if local_name(key) == name and value.strip():
            return value.strip()
    return None


def parse_xml(text: bytes | None) -> Any | None:
    """A small XML part's tree, or None when it is missing, broken or has too many elements."""
    if not text:
        return None
    if text.count(b"<") > MAX_XML_ELEMENTS:  # every element starts with one
        log.debug("XML part with too many elements")
        return None
    try:
        return _xml_fromstring(text)
    except XML_ERRORS as err:
        log.debug("unparseable XML part: %s", err)
        return None


def child_text(root: Any, name: str) -> str | None:
    for child in root:
        if local_name(child.tag) == name and child.text and child.text.strip():
            return child.text.strip()
    return None


def first_lang(elements: Iterable[Any], tag: str, attributes: tuple[str, ...]) -> str | None:
    """The first language given on any element named tag, by the first attribute set."""
    for element in elements:
        if local_name(element.tag) != tag:
            continue
        for name in attributes:
            if value := attribute(element, name):
                return value
    return None


# --- Office -------------------------------------------------------------------------------


def read_member(package: zipfile.ZipFile, name: str | None, limit: int) -> bytes | None:
    """A member's bytes, or None when it is missing, broken or bigger than the limit."""
    if not name:
        return None
    try:
        with package.open(name) as member:
            content = member.read(limit + 1)
    except ZIP_ERRORS:
        return None
    return content if len(content) <= limit else None


def relationships(package: zipfile.ZipFile, part: str) -> dict[str, str]:
    """A part's relationships by the last word of their type, e.g. {"styles": "word/..."}."""
    folder, base = posixpath.split(part)
    root = parse_xml(
        read_member(package, posixpath.join(folder, "_rels", base + ".rels"), MAX_XML_BYTES)
    )
    targets: dict[str, str] = {}
    for rel in [] if root is None else root:
        kind = (rel.get("Type") or "").rsplit("/", 1)[-1]
        target = rel.get("Target") or ""
        if not kind or not target or rel.get("TargetMode") == "External":
            continue
        # Targets are relative to the part's folder, or to the package root with a "/".
        path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
        targets.setdefault(kind, posixpath.normpath(path))
    return targets


def too_many_members(data: bytes) -> bool:
    """More parts than any Office file has, from the zip's end record, read before zipfile
    reads the central directory whole (at about 400 bytes of memory an entry).

    The count and the directory's size are both checked, since the count can lie; a file
    without an end record is left to zipfile to refuse, and Zip64 values are too many.
    """
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 0xFFFF))
    if end < 0 or len(data) < end + 22:
        return False
    total, directory_size = struct.unpack_from("<HI", data, end + 10)
    return total > MAX_ZIP_MEMBERS or directory_size > MAX_ZIP_DIRECTORY


def check_office(data: bytes, kind: str) -> DocumentReport:
    """Title and language of an Office Open XML package, and its dates."""
    if data.startswith(OLE_MAGIC):
        return office_ole(data, kind)
    if too_many_members(data):
        return unreadable(kind, f"the package has more than {MAX_ZIP_MEMBERS:,} parts")
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
    except ZIP_ERRORS as err:
        return unreadable(kind, f"not a zip package: {describe_error(err)}")
    with package:
        package_rels = relationships(package, "")
        main = package_rels.get("officeDocument") or DEFAULT_MAIN_PARTS[kind]
        if main not in package.namelist():
            return unreadable(kind, f"not an Office document: it has no {main}")
        core_path = package_rels.get("core-properties") or "docProps/core.xml"
        core = parse_xml(read_member(package, core_path, MAX_XML_BYTES))
        content_language = office_language(package, kind, main)
    title = None if core is None else child_text(core, "title")
    language = content_language or (None if core is None else child_text(core, "language"))
    created = None if core is None else parse_iso_date(child_text(core, "created"))
    modified = None if core is None else parse_iso_date(child_text(core, "modified"))
    return DocumentReport(
        kind=kind,
        title=title,
        language=language,
        pages=None,
        created=iso(created),
        modified=iso(modified),
        tagged=None,
        has_text=None,
        encrypted=False,
        exempt_2018=is_exempt(created, modified),
        issues=office_issues(kind, title, language),
    )


def office_ole(data: bytes, kind: str) -> DocumentReport:
    """An OLE file where a zip was expected: password-protected, or an old format renamed."""
    if OLE_ENCRYPTION_INFO in data:
        error = "the file needs a password to open"
        summary = (
            "This document needs a password to open, so nobody can read it without one, "
            "including people using screen readers. Remove the password and upload it again."
        )
        return empty_report(kind, [issue("document-unreadable", summary)], error, True)
    return unreadable(kind, "an older Office format (.doc, .xls or .ppt) with a new name")


def office_language(package: zipfile.ZipFile, kind: str, main: str) -> str | None:
    """The language the text is written in, as the application records it for its content."""
    if kind == "docx":
        return word_language(package, main)
    if kind == "pptx":
        root = parse_xml(read_member(package, main, MAX_XML_BYTES))
        # The presentation's default text style carries its language (a:defRPr lang="en-GB").
        return None if root is None else first_lang(root.iter(), "defRPr", ("lang",))
    return None  # a workbook records no language of its own, only dc:language in core.xml


def word_language(package: zipfile.ZipFile, main: str) -> str | None:
    """w:lang from the document defaults, then the default paragraph style, then the text."""
    styles_path = relationships(package, main).get("styles")
    styles = parse_xml(read_member(package, styles_path, MAX_XML_BYTES))
    attributes = ("val", "bidi", "eastAsia")  # w:val is the language of Latin-script text
    if styles is not None:
        for node in styles:
            if local_name(node.tag) == "docDefaults" and (
                found := first_lang(node.iter(), "lang", attributes)
            ):
                return found
        for node in styles:
            if is_default_paragraph_style(node) and (
                found := first_lang(node.iter(), "lang", attributes)
            ):
                return found
    return first_body_lang(package, main, attributes)


def is_default_paragraph_style(node: Any) -> bool:
    return (
        local_name(node.tag) == "style"
        and attribute(node, "type") == "paragraph"
        and attribute(node, "default") in {"1", "true", "on"}
    )


def first_body_lang(package: zipfile.ZipFile, main: str, attributes: tuple[str, ...]) -> str | None:
    """Read the body as a stream until the first w:lang: no tree is kept, and the bytes,
    elements and nesting looked at are capped, since the body can be far larger than a
    limit (a 33 KB file can inflate to gigabytes of `<a/>`)."""
    finder = LanguageFinder(attributes)
    parser = defused_sax.make_parser()
    parser.setContentHandler(finder)
    try:
        with package.open(main) as member:
            left = MAX_BODY_BYTES
            while left > 0 and (chunk := member.read(min(INFLATE_CHUNK, left))):
                left -= len(chunk)
                parser.feed(chunk)
    except StopSearch:
        pass
    except (*XML_ERRORS, *ZIP_ERRORS) as err:
        log.debug("no language found in %s: %s", main, err)
    return finder.found


class StopSearch(Exception):
    """Stops a streamed parse: the answer is found, or the search went far enough."""


class LanguageFinder(xml.sax.handler.ContentHandler):
    """The first language on a `lang` element, by the first attribute set, with caps."""

    def __init__(self, attributes: tuple[str, ...]) -> None:
        super().__init__()
        self.attributes = attributes
        self.found: str | None = None
        self.elements = 0
        self.depth = 0

    def startElement(self, name: str, attrs: Any) -> None:
        self.elements += 1
        self.depth += 1
        if self.elements > MAX_BODY_ELEMENTS or self.depth > MAX_XML_DEPTH:
            raise StopSearch
        if name.rsplit(":", 1)[-1] != "lang":
            return
        values = {key.rsplit(":", 1)[-1]: value.strip() for key, value in attrs.items()}
        for wanted in self.attributes:
            if values.get(wanted):
                self.found = values[wanted]
                raise StopSearch

    def endElement(self, name: str) -> None:
        self.depth -= 1


def office_issues(kind: str, title: str | None, language: str | None) -> list[DocumentIssue]:
    app = OFFICE_APPS[kind]
    issues = []
    if not title or is_placeholder_title(title):
        issues.append(
            issue(
                "office-no-title",
                f"{title_problem('document', title)} In {app}, go to File > Info > "
                "Properties and give it a title that says what it is about.",
            )
        )
    if not language:
        issues.append(issue("office-no-language", office_language_advice(app)))
    return issues


def title_problem(thing: str, title: str | None) -> str:
    """The first sentence of a title issue: no title, or one a tool filled in."""
    if title:
        return (
            f'The title of this {thing} is "{title}", which names a file rather than '
            "saying what it is about."
        )
    return (
        f"This {thing} has no title in its properties, so screen readers and browsers "
        "announce the file name instead."
    )


def office_language_advice(app: str) -> str:
    problem = (
        "This document does not say what language it is written in, so screen readers may "
        "read it out with the wrong pronunciation."
    )
    if app == "Excel":
        # Excel has no setting that writes the language into the file.
        return (
            f"{problem} Excel has no simple setting for this: consider publishing the "
            "information as a web page or a CSV file instead, which suit more people."
        )
    return (
        f"{problem} In {app}, select all the text, go to Review > Language > Set Proofing "
        "Language and choose English (United Kingdom) or the language it is written in."
    )


# --- PDF ------------------------------------------------------------------------------------


def harden_qpdf() -> None:
    """Cap what qpdf's expanding decoders may produce from one stream, for the process.

    qpdf decodes object streams and cross-reference streams by itself, and filter chains
    for us: without a cap, a kilobyte of double Flate inflates to gigabytes.
    """
    limit = MAX_QPDF_DECODE
    pikepdf.settings.set_qpdf_limits(
        flate_max_memory=limit,
        png_max_memory=limit,
        tiff_max_memory=limit,
        run_length_max_memory=limit,
        dct_max_memory=limit,
    )


def check_pdf(data: bytes) -> DocumentReport:
    harden_qpdf()
    try:
        # Implicit conversion gives Python bools and ints whatever the process default is.
        pdf = pikepdf.open(io.BytesIO(data), conversion_mode="implicit")
    except pikepdf.PasswordError:
        return pdf_needs_password()
    except MemoryError:
        raise
    except Exception as err:  # noqa: BLE001 - qpdf raises many kinds on damaged files
        return unreadable("pdf", describe_error(err))
    with pdf:
        try:
            return pdf_report(pdf)
        except MemoryError:
            raise
        except Exception as err:  # objects are read lazily, and any of them may be broken
            log.debug("PDF failed part way through its checks", exc_info=True)
            return unreadable("pdf", describe_error(err))


def pdf_needs_password() -> DocumentReport:
    summary = (
        "This PDF needs a password to open, so nobody can read it without one, including "
        "people using screen readers. Save it again without a password before publishing."
    )
    error = "the PDF needs a password to open"
    return empty_report("pdf", [issue("pdf-encrypted-blocks-at", summary)], error, True)


def pdf_report(pdf: pikepdf.Pdf) -> DocumentReport:
    root = pdf.Root
    info = pdf.trailer.get("/Info")
    info = info if isinstance(info, pikepdf.Dictionary) else pikepdf.Dictionary()
    xmp = pdf_xmp(root)
    title = pdf_text(info.get("/Title")) or xmp_title(xmp)
    language = pdf_text(root.get("/Lang"))
    created = parse_pdf_date(pdf_text(info.get("/CreationDate"))) or parse_iso_date(
        xmp_value(xmp, "CreateDate")
    )
    modified = parse_pdf_date(pdf_text(info.get("/ModDate"))) or parse_iso_date(
        xmp_value(xmp, "ModifyDate")
    )
    pages = len(pdf.pages)
    tagged = is_tagged(root)
    search = TextSearch(pdf)
    has_text = search.run()
    issues = [
        *title_issues(root, title),
        *([] if tagged else [untagged_issue()]),
        *([] if language else [no_language_issue()]),
        *([no_text_issue(search, pages)] if has_text is False else []),
        *bookmark_issues(root, pages),
        *field_issues(root),
        *encryption_issues(pdf),
    ]
    return DocumentReport(
        kind="pdf",
        title=title,
        language=language,
        pages=pages,
        created=iso(created),
        modified=iso(modified),
        tagged=tagged,
        has_text=has_text,
        encrypted=pdf.is_encrypted,
        exempt_2018=is_exempt(created, modified),
        issues=issues,
    )


def pdf_text(value: Any) -> str | None:
    """A PDF text string, decoded, or None when it is missing, blank or not a string."""
    if not isinstance(value, pikepdf.String):
        return None
    text = str(value).replace("\x00", "").strip()
    return text or None


def is_true(dictionary: Any, key: str) -> bool:
    return isinstance(dictionary, pikepdf.Dictionary) and dictionary.get(key) is True


def is_tagged(root: pikepdf.Dictionary) -> bool:
    # Marked alone is a promise; the structure tree is what screen readers actually read.
    return is_true(root.get("/MarkInfo"), "/Marked") and "/StructTreeRoot" in root


def pdf_xmp(root: pikepdf.Dictionary) -> Any | None:
    stream = root.get("/Metadata")
    if not isinstance(stream, pikepdf.Stream):
        return None
    try:
        packet = decode_stream(stream, MAX_XML_BYTES)
    except MemoryError:
        raise
    except Exception:  # broken metadata must not hide the other checks
        log.debug("undecodable XMP metadata", exc_info=True)
        return None
    if not packet or b"<" not in packet:
        return None
    return parse_xml(packet[packet.index(b"<") :])  # some writers put junk before the packet


def xmp_title(xmp: Any | None) -> str | None:
    """dc:title, a language alternative: the first non-empty rdf:li (usually x-default)."""
    for element in [] if xmp is None else xmp.iter():
        if element.tag == "{http://purl.org/dc/elements/1.1/}title":
            texts = [item.text for item in element.iter() if item.text and item.text.strip()]
            if texts:
                return texts[0].strip()
    return None


def xmp_value(xmp: Any | None, name: str) -> str | None:
    """An xmp: property, written as an element or as an attribute of rdf:Description."""
    qualified = "{http://ns.adobe.com/xap/1.0/}" + name
    for element in [] if xmp is None else xmp.iter():
        if element.get(qualified):
            return element.get(qualified)
        if element.tag == qualified and element.text and element.text.strip():
            return element.text.strip()
    return None


def title_issues(root: pikepdf.Dictionary, title: str | None) -> list[DocumentIssue]:
    if not title or is_placeholder_title(title):
        return [
            issue(
                "pdf-no-title",
                f"{title_problem('PDF', title)} Give the original document a title "
                "(File > Info > Properties in Word) before saving it as a PDF, or set one in "
                "Acrobat under File > Properties > Description.",
            )
        ]
    if is_true(root.get("/ViewerPreferences"), "/DisplayDocTitle"):
        return []
    return [
        issue(
            "pdf-title-not-displayed",
            f'This PDF has a title ("{title}") but tells PDF readers to show the file name '
            "in the title bar instead. In Acrobat, go to File > Properties > Initial View "
            'and set "Show" to "Document Title".',
        )
    ]


def untagged_issue() -> DocumentIssue:
    return issue(
        "pdf-untagged",
        "This PDF is not tagged, so screen readers cannot tell headings, lists and tables "
        "from the rest of the text, and may read it in the wrong order. Save it as a PDF "
        'again from the original document with "Document structure tags for accessibility" '
        "ticked (in Word: File > Save As > PDF > Options), or publish the content as a web "
        "page.",
    )


def no_language_issue() -> DocumentIssue:
    return issue(
        "pdf-no-language",
        "This PDF does not say what language it is written in, so screen readers may read "
        "it out with the wrong pronunciation. Set the language in the original document "
        "before saving it as a PDF, or in Acrobat under File > Properties > Advanced > "
        "Language.",
    )


def no_text_issue(search: TextSearch, pages: int) -> DocumentIssue:
    looked = f"the first {search.pages_read} pages of " if search.pages_read < pages else ""
    if search.saw_image:
        what = (
            f"There is no text in {looked}this PDF, only pictures: it looks like a scanned image."
        )
    else:
        what = (
            f"There is no text in {looked}this PDF that can be read out: the words may have "
            "been turned into shapes."
        )
    return issue(
        "pdf-no-text",
        f"{what} People who use screen readers, or who need to enlarge the text or change "
        "its colours, cannot read it. Publish the original document instead, or the same "
        "content as a web page. Running text recognition (OCR) helps only if the result "
        "is checked and tagged.",
    )


def bookmark_issues(root: pikepdf.Dictionary, pages: int) -> list[DocumentIssue]:
    outlines = root.get("/Outlines")
    if pages <= BOOKMARK_MIN_PAGES or (
        isinstance(outlines, pikepdf.Dictionary) and "/First" in outlines
    ):
        return []
    return [
        issue(
            "pdf-no-bookmarks",
            f"This PDF has {pages} pages but no bookmarks, so people cannot jump to the "
            "section they need. Use heading styles in the original document and save it as "
            'a PDF with "Create bookmarks using headings" ticked.',
        )
    ]


def field_issues(root: pikepdf.Dictionary) -> list[DocumentIssue]:
    total, unlabelled = count_fields(root)
    if not unlabelled:
        return []
    some = "All" if unlabelled == total else f"{unlabelled} of"
    return [
        issue(
            "pdf-unlabelled-fields",
            f"{some} {total} form field{'s' if total != 1 else ''} in this PDF "
            f"{'have' if unlabelled != 1 else 'has'} no label (tooltip), so screen reader "
            "users are not told what to type or choose. Give each field a tooltip in "
            "Acrobat (Prepare Form > field Properties > General > Tooltip), or better, "
            "replace the PDF form with an online form.",
        )
    ]


def count_fields(root: pikepdf.Dictionary) -> tuple[int, int]:
    """(fields, fields without /TU) among the terminal fields of the AcroForm tree."""
    acroform = root.get("/AcroForm")
    fields = acroform.get("/Fields") if isinstance(acroform, pikepdf.Dictionary) else None
    stack = list(fields) if isinstance(fields, pikepdf.Array) else []
    seen: set[tuple[int, int]] = set()
    total = unlabelled = visits = 0
    while stack and visits < MAX_FIELDS:
        field = stack.pop()
        visits += 1
        if not isinstance(field, pikepdf.Dictionary):
            continue
        if field.is_indirect:  # a /Kids loop would otherwise never end
            if field.objgen in seen:
                continue
            seen.add(field.objgen)
        kids = field.get("/Kids")
        # Kids with a name (/T) are child fields; kids without one are the field's widgets.
        child_fields = (
            [kid for kid in kids if "/T" in kid] if isinstance(kids, pikepdf.Array) else []
        )
        if child_fields:
            stack.extend(child_fields)
            continue
        total += 1
        if not pdf_text(field.get("/TU")):
            unlabelled += 1
    return total, unlabelled


def encryption_issues(pdf: pikepdf.Pdf) -> list[DocumentIssue]:
    if not pdf.is_encrypted:
        return []
    allow = pdf.allow
    if not allow.accessibility:
        blocked = "stop screen readers and other assistive technology from reading its text"
    elif not allow.extract:
        # PDF 2.0 says readers should let assistive technology in anyway, but many
        # read-aloud, reflow and translation tools still honour this older switch.
        blocked = "stop its text from being copied out, which many screen readers, "
        blocked += "read-aloud and text-resizing tools need"
    else:
        return []
    return [
        issue(
            "pdf-encrypted-blocks-at",
            f"This PDF's security settings {blocked}. Save it again without security "
            "restrictions, or at least allow content copying and text access for screen "
            "readers (in Acrobat: File > Properties > Security).",
        )
    ]


# --- PDF text layer -----------------------------------------------------------------------


class TextSearch:
    """Looks for glyphs being drawn on the first pages, with a budget for decoded content."""

    def __init__(self, pdf: pikepdf.Pdf) -> None:
        self.pdf = pdf
        self.budget = MAX_CONTENT_BYTES
        self.pages_read = 0
        self.saw_image = False
        self.unsure = False  # a stream was too big to read
        self.exhausted = False  # the whole budget is spent: stop looking
        self.tokens = 0  # content tokens read, against MAX_CONTENT_TOKENS

    def run(self) -> bool | None:
        """True when a page shows text, False when none does, None when we cannot tell."""
        failed = 0
        for page in islice(self.pdf.pages, MAX_TEXT_PAGES):
            self.pages_read += 1
            try:
                if self.page_has_text(page.obj):
                    return True
            except MemoryError:
                raise
            except Exception:  # one broken page must not hide the others
                log.debug("unreadable page content", exc_info=True)
                failed += 1
            if self.exhausted:
                return None
        if self.unsure or self.pages_read == 0 or failed == self.pages_read:
            return None
        return False

    def page_has_text(self, page: pikepdf.Dictionary) -> bool:
        contents = page.get("/Contents")
        streams = contents if isinstance(contents, pikepdf.Array) else [contents]
        # A page's content may be split over several streams, even mid-operator.
        parts = [self.decode(stream) for stream in streams if isinstance(stream, pikepdf.Stream)]
        content = b"\n".join(part for part in parts if part)
        return self.content_has_text(content, page.get("/Resources"), set(), 0)

    def decode(self, stream: pikepdf.Stream) -> bytes:
        limit = min(MAX_STREAM_BYTES, self.budget)
        content = decode_stream(stream, limit)
        if content is None:
            # Text may be in what we did not read, so "no text" would be a guess.
            self.unsure = True
            self.exhausted = limit < MAX_STREAM_BYTES
            return b""
        self.budget -= len(content)
        return content

    def content_has_text(
        self, content: bytes, resources: Any, seen: set[tuple[int, int]], depth: int
    ) -> bool:
        """Scan the content token by token: nothing is kept, and the scan stops at the
        first glyphs or when the token budget is spent (a stream of empty `()Tj` would
        otherwise become millions of objects at once)."""
        if not content:
            return False
        scan = ContentScan(self, resources, seen, depth)
        stream = pikepdf.Stream(self.pdf, content)
        wrapper = pikepdf.Dictionary(Type=pikepdf.Name.Page, Contents=stream)
        with contextlib.suppress(StopSearch):
            pikepdf.Page(wrapper).parse_contents(scan)
        return scan.found

    def xobject_has_text(
        self, operands: Any, resources: Any, seen: set[tuple[int, int]], depth: int
    ) -> bool:
        """An image XObject is a picture; a form XObject is more content, maybe with text."""
        xobjects = resources.get("/XObject") if isinstance(resources, pikepdf.Dictionary) else None
        if not operands or not isinstance(xobjects, pikepdf.Dictionary):
            return False
        xobject = xobjects.get(operands[0])
        if not isinstance(xobject, pikepdf.Stream):
            return False
        subtype = xobject.get("/Subtype")
        if subtype == pikepdf.Name.Image:
            self.saw_image = True
            return False
        if subtype != pikepdf.Name.Form or depth >= MAX_FORM_DEPTH or xobject.objgen in seen:
            return False
        seen.add(xobject.objgen)
        inner = xobject.get("/Resources")
        inner = inner if isinstance(inner, pikepdf.Dictionary) else resources
        content = self.decode(xobject)
        return bool(content) and self.content_has_text(content, inner, seen, depth + 1)


class ContentScan(pikepdf.StreamParser):
    """Reads one content stream's tokens for TextSearch, keeping only the last operands."""

    def __init__(
        self, search: TextSearch, resources: Any, seen: set[tuple[int, int]], depth: int
    ) -> None:
        super().__init__()
        self.search, self.resources, self.seen, self.depth = search, resources, seen, depth
        self.operands: list[Any] = []
        self.found = False

    def handle_object(self, obj: Any, offset: int, length: int) -> None:
        search = self.search
        search.tokens += 1
        if search.tokens > MAX_CONTENT_TOKENS:
            search.unsure = search.exhausted = True
            raise StopSearch
        if not isinstance(obj, pikepdf.Operator):
            self.operands = [*self.operands[-7:], obj]  # no text operator takes more
            return
        operator, operands = str(obj), self.operands
        self.operands = []
        if operator == "BI":
            search.saw_image = True
        elif (
            operator == "Do"
            and search.xobject_has_text(operands, self.resources, self.seen, self.depth)
        ) or shows_glyphs(operator, operands):
            self.found = True
            raise StopSearch

    def handle_eof(self) -> None:
        pass


def shows_glyphs(operator: str, operands: Any) -> bool:
    """Tj, ', " and TJ with at least one non-blank string: text a reader can extract."""
    if operator in {"Tj", "'", '"'} and operands:
        return non_blank(operands[-1])
    if operator == "TJ" and operands and isinstance(operands[0], pikepdf.Array):
        return any(non_blank(item) for item in operands[0])
    return False


def non_blank(value: Any) -> bool:
    return isinstance(value, pikepdf.String) and bool(bytes(value).strip(b" "))


def decode_stream(stream: pikepdf.Stream, limit: int) -> bytes | None:
    """A stream's decoded bytes, or None when they are longer than limit.

    A single Flate filter (nearly every content stream) is inflated here in chunks, so a
    small stream that inflates to gigabytes stops at the limit. Any other chain (double
    Flate, predictors, ASCII85...) is left to qpdf, whose expanding decoders harden_qpdf
    caps; LZW, which qpdf cannot cap, only when its input is too short to exceed the limit.
    A damaged stream raises qpdf's error.
    """
    filters = stream.get("/Filter")
    names = [filters] if isinstance(filters, pikepdf.Name) else list(filters or [])
    if not names:
        content = stream.read_raw_bytes()  # already decrypted: raw means unfiltered
    elif names == [pikepdf.Name.FlateDecode] and not stream.get("/DecodeParms"):
        content = inflate(stream.read_raw_bytes(), limit)
    elif not lzw_within(stream, names, limit):
        return None
    else:
        content = decode_with_qpdf(stream)
    return content if content is not None and len(content) <= limit else None


def lzw_within(stream: pikepdf.Stream, names: list[Any], limit: int) -> bool:
    """False for an LZW step that could inflate past the limit: LZW only as the first
    filter (it reads the raw bytes), and only short ones."""
    lzw = [i for i, name in enumerate(names) if name in (pikepdf.Name.LZWDecode, "/LZW")]
    if not lzw:
        return True
    return lzw == [0] and len(stream.read_raw_bytes()) * LZW_MAX_RATIO <= limit


def decode_with_qpdf(stream: pikepdf.Stream) -> bytes | None:
    """qpdf's decoding of any filter chain; None when a capped decoder hit its limit."""
    try:
        return stream.read_bytes()
    except (pikepdf.PdfError, RuntimeError) as err:  # qpdf's limits raise QpdfRuntimeError
        if "limit exceeded" in str(err):
            return None
        raise


def inflate(raw: bytes, limit: int) -> bytes | None:
    """Inflate up to limit bytes; keep what came out before any corruption, as readers do."""
    inflater = zlib.decompressobj()
    out = bytearray()
    for chunk in chunks(raw, INFLATE_CHUNK):
        try:
            out += inflater.decompress(chunk, limit + 1 - len(out))
        except zlib.error:
            break
        if len(out) > limit:
            return None
        if inflater.eof:
            break
    return bytes(out)


def chunks(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]
