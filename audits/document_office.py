"""Word, Excel and PowerPoint files (Office Open XML): their title, language and dates."""

from __future__ import annotations

import io
import logging
import xml.sax.handler
import zipfile
from typing import Any

from defusedxml import sax as defused_sax

from audits.document_report import (
    DocumentIssue,
    DocumentReport,
    describe_error,
    empty_report,
    is_exempt,
    is_placeholder_title,
    iso,
    issue,
    parse_iso_date,
    title_problem,
    unreadable,
)
from audits.document_xml import (
    INFLATE_CHUNK,
    MAX_XML_BYTES,
    MAX_ZIP_MEMBERS,
    XML_ERRORS,
    ZIP_ERRORS,
    StopSearch,
    attribute,
    child_text,
    first_lang,
    local_name,
    parse_xml,
    read_member,
    relationships,
    too_many_members,
)

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 32 * 1024 * 1024  # word/document.xml, read as a stream until a language shows
MAX_BODY_ELEMENTS = 300_000  # elements looked at for a language (a second or two)
MAX_XML_DEPTH = 1_000  # Word nests tables in tables a few dozen levels deep at most

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Password-protected Office files are OLE containers with this stream, not zip packages.
OLE_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")

DEFAULT_MAIN_PARTS = {
    "docx": "word/document.xml",
    "xlsx": "xl/workbook.xml",
    "pptx": "ppt/presentation.xml",
}
OFFICE_APPS = {"docx": "Word", "xlsx": "Excel", "pptx": "PowerPoint"}


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
