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

import io
import logging
import zipfile
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from audits.document_office import OFFICE_APPS, check_office
from audits.document_pdf import check_pdf
from audits.document_report import DocumentReport, describe_error, empty_report, unreadable
from audits.document_xml import ZIP_ERRORS, too_many_members

log = logging.getLogger(__name__)

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
