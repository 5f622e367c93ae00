"""PDF files: tags, title, language, text layer, bookmarks, form labels and encryption."""

from __future__ import annotations

import io
import logging
import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pikepdf

from audits.document_pdf_content import TextSearch, decode_stream, harden_qpdf
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
    plausible,
    title_problem,
    unreadable,
)
from audits.document_xml import MAX_XML_BYTES, parse_xml

log = logging.getLogger(__name__)

BOOKMARK_MIN_PAGES = 20  # more pages than this need bookmarks to find one's way around
MAX_FIELDS = 10_000  # form field nodes visited
PDF_DATE = re.compile(
    r"^(?:D:)?\s*(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?"
    r"\s*(?:([Zz+-])\s*(\d{2})?'?(\d{2})?'?)?"
)


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
