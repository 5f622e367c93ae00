"""Document checks on real PDFs and Office files built in each test: no fixtures, no network."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

import pikepdf
import pytest
from docx import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from pikepdf import Array, Dictionary, Encryption, Name, Permissions, String

from audits import document_pdf, document_pdf_content, documents
from audits.document_office import OLE_MAGIC
from audits.document_report import DocumentIssue, DocumentReport
from audits.documents import check_document

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HELLO = b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET"
IMAGE_ONLY = b"q 200 0 0 200 72 500 cm /Im0 Do Q"


def new_pdf(pages: int = 1, content: bytes = HELLO) -> pikepdf.Pdf:
    """Pages drawing content, with a Helvetica font as F1 and a one-pixel image as Im0."""
    pdf = pikepdf.Pdf.new()
    font = pdf.make_indirect(
        Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica)
    )
    image = pdf.make_stream(
        b"\x80",
        Type=Name.XObject,
        Subtype=Name.Image,
        Width=1,
        Height=1,
        ColorSpace=Name.DeviceGray,
        BitsPerComponent=8,
    )
    for _ in range(pages):
        page = pdf.add_blank_page(page_size=(595, 842))
        page.obj.Resources = Dictionary(Font=Dictionary(F1=font), XObject=Dictionary(Im0=image))
        page.obj.Contents = pdf.make_stream(content)
    return pdf


def make_accessible(pdf: pikepdf.Pdf, title: str = "Council tax bands 2025") -> pikepdf.Pdf:
    pdf.Root.MarkInfo = Dictionary(Marked=True)
    pdf.Root.StructTreeRoot = pdf.make_indirect(Dictionary(Type=Name.StructTreeRoot))
    pdf.Root.Lang = String("en-GB")
    pdf.Root.ViewerPreferences = Dictionary(DisplayDocTitle=True)
    pdf.docinfo[Name.Title] = title
    return pdf


def pdf_bytes(pdf: pikepdf.Pdf, **save: object) -> bytes:
    out = io.BytesIO()
    pdf.save(out, **save)
    return out.getvalue()


def rule_ids(report: DocumentReport) -> list[str]:
    return sorted(found.rule_id for found in report.issues)


def only(report: DocumentReport, rule_id: str) -> DocumentIssue:
    (found,) = [found for found in report.issues if found.rule_id == rule_id]
    return found


# --- PDF ------------------------------------------------------------------------------


def test_accessible_pdf_has_no_issues() -> None:
    report = check_document(pdf_bytes(make_accessible(new_pdf())), PDF, "bands.pdf")

    assert report.issues == []
    assert report.kind == "pdf"
    assert report.title == "Council tax bands 2025"
    assert report.language == "en-GB"
    assert report.pages == 1
    assert report.tagged is True
    assert report.has_text is True
    assert report.encrypted is False
    assert report.error is None


def test_untagged_pdf_without_title_or_language() -> None:
    report = check_document(pdf_bytes(new_pdf()), PDF)

    assert rule_ids(report) == ["pdf-no-language", "pdf-no-title", "pdf-untagged"]
    assert report.tagged is False
    assert report.title is None
    assert report.language is None
    assert report.has_text is True
    untagged = only(report, "pdf-untagged")
    assert (untagged.impact, untagged.wcag, untagged.help) == (
        "serious",
        "1.3.1",
        "PDF is not tagged",
    )
    assert only(report, "pdf-no-title").wcag == "2.4.2"
    assert only(report, "pdf-no-language").wcag == "3.1.1"


def test_marked_without_a_structure_tree_is_not_tagged() -> None:
    pdf = make_accessible(new_pdf())
    del pdf.Root.StructTreeRoot

    report = check_document(pdf_bytes(pdf), PDF)

    assert report.tagged is False
    assert rule_ids(report) == ["pdf-untagged"]


def test_title_that_is_not_displayed() -> None:
    pdf = make_accessible(new_pdf())
    del pdf.Root.ViewerPreferences

    report = check_document(pdf_bytes(pdf), PDF)

    found = only(report, "pdf-title-not-displayed")
    assert (found.impact, found.wcag) == ("minor", "2.4.2")
    assert rule_ids(report) == ["pdf-title-not-displayed"]


def test_title_from_xmp_and_placeholder_titles() -> None:
    pdf = make_accessible(new_pdf())
    del pdf.docinfo[Name.Title]
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
        meta["dc:title"] = "Planning committee minutes"
    report = check_document(pdf_bytes(pdf), PDF)
    assert report.title == "Planning committee minutes"
    assert report.issues == []

    word_export = make_accessible(new_pdf(), title="Microsoft Word - minutes_v3.docx")
    report = check_document(pdf_bytes(word_export), PDF)
    assert rule_ids(report) == ["pdf-no-title"]
    assert "Microsoft Word - minutes_v3.docx" in only(report, "pdf-no-title").summary


def test_image_only_pdf_has_no_text() -> None:
    report = check_document(pdf_bytes(make_accessible(new_pdf(content=IMAGE_ONLY))), PDF)

    assert report.has_text is False
    found = only(report, "pdf-no-text")
    assert (found.impact, found.wcag) == ("critical", "1.1.1")
    assert "scanned image" in found.summary
    assert rule_ids(report) == ["pdf-no-text"]


def test_inline_image_and_empty_strings_are_not_text() -> None:
    inline = b"q 200 0 0 200 72 500 cm BI /W 1 /H 1 /BPC 8 /CS /G ID \x80 EI Q BT () Tj ET"
    report = check_document(pdf_bytes(make_accessible(new_pdf(content=inline))), PDF)

    assert report.has_text is False
    assert "scanned image" in only(report, "pdf-no-text").summary


def test_text_inside_a_form_xobject_counts() -> None:
    pdf = make_accessible(new_pdf(content=b"/Fm0 Do"))
    form = pdf.make_stream(
        b"BT /F1 12 Tf 72 720 Td [(Bin) -250 (days)] TJ ET",
        Type=Name.XObject,
        Subtype=Name.Form,
        BBox=[0, 0, 595, 842],
        Resources=pdf.pages[0].obj.Resources,
    )
    pdf.pages[0].obj.Resources.XObject.Fm0 = form

    report = check_document(pdf_bytes(pdf), PDF)

    assert report.has_text is True
    assert report.issues == []


def test_text_on_a_later_page_counts() -> None:
    pdf = make_accessible(new_pdf(pages=3, content=IMAGE_ONLY))
    pdf.pages[2].obj.Contents = pdf.make_stream(HELLO)

    assert check_document(pdf_bytes(pdf), PDF).has_text is True


def test_content_stream_bomb_is_not_inflated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(document_pdf_content, "MAX_STREAM_BYTES", 10_000)
    pdf = make_accessible(new_pdf(content=b"% padding\n" * 5_000 + IMAGE_ONLY))

    report = check_document(pdf_bytes(pdf, compress_streams=True), PDF)

    # Too big to read is "cannot tell", never a false "scanned image".
    assert report.has_text is None
    assert report.issues == []


def test_encrypted_pdf_that_blocks_extraction() -> None:
    locked = Encryption(
        owner="council", user="", allow=Permissions(accessibility=False, extract=False)
    )

    report = check_document(pdf_bytes(make_accessible(new_pdf()), encryption=locked), PDF)

    assert report.encrypted is True
    assert report.error is None
    assert report.has_text is True  # an empty user password opens it
    found = only(report, "pdf-encrypted-blocks-at")
    assert (found.impact, found.wcag) == ("critical", "1.1.1")
    assert rule_ids(report) == ["pdf-encrypted-blocks-at"]


def test_encrypted_pdf_that_blocks_accessibility_only() -> None:
    # qpdf keeps the accessibility bit on for R4 and later, as PDF 2.0 asks; R3 honours it.
    locked = Encryption(
        owner="council",
        user="",
        R=3,
        aes=False,
        metadata=False,
        allow=Permissions(accessibility=False),
    )

    report = check_document(pdf_bytes(make_accessible(new_pdf()), encryption=locked), PDF)

    assert (
        "screen readers and other assistive technology"
        in only(report, "pdf-encrypted-blocks-at").summary
    )


def test_encrypted_pdf_with_all_permissions_is_fine() -> None:
    report = check_document(
        pdf_bytes(make_accessible(new_pdf()), encryption=Encryption(owner="council", user="")),
        PDF,
    )

    assert report.encrypted is True
    assert report.has_text is True
    assert report.issues == []


def test_pdf_that_needs_a_password() -> None:
    data = pdf_bytes(new_pdf(), encryption=Encryption(owner="council", user="secret"))

    report = check_document(data, PDF)

    assert report.kind == "pdf"
    assert report.encrypted is True
    assert report.error == "the PDF needs a password to open"
    assert rule_ids(report) == ["pdf-encrypted-blocks-at"]
    assert report.has_text is None


def test_long_pdf_without_bookmarks() -> None:
    report = check_document(pdf_bytes(make_accessible(new_pdf(pages=25))), PDF)

    assert report.pages == 25
    found = only(report, "pdf-no-bookmarks")
    assert (found.impact, found.wcag) == ("moderate", "2.4.5")
    assert "25 pages" in found.summary
    assert rule_ids(report) == ["pdf-no-bookmarks"]


def test_long_pdf_with_bookmarks_and_short_pdf_without() -> None:
    pdf = make_accessible(new_pdf(pages=25))
    with pdf.open_outline() as outline:
        outline.root.append(pikepdf.OutlineItem("Introduction", 0))
    assert check_document(pdf_bytes(pdf), PDF).issues == []

    short = make_accessible(new_pdf(pages=document_pdf.BOOKMARK_MIN_PAGES))
    assert check_document(pdf_bytes(short), PDF).issues == []


def add_text_field(pdf: pikepdf.Pdf, name: str, tooltip: str | None = None) -> None:
    page = pdf.pages[0].obj
    field = pdf.make_indirect(
        Dictionary(
            Type=Name.Annot,
            Subtype=Name.Widget,
            FT=Name.Tx,
            T=String(name),
            Rect=[72, 600, 300, 620],
            P=page,
        )
    )
    if tooltip:
        field.TU = String(tooltip)
    if "/AcroForm" not in pdf.Root:
        pdf.Root.AcroForm = Dictionary(Fields=Array())
        page.Annots = Array()
    pdf.Root.AcroForm.Fields.append(field)
    page.Annots.append(field)


def test_form_fields_without_tooltips() -> None:
    pdf = make_accessible(new_pdf())
    add_text_field(pdf, "surname")
    add_text_field(pdf, "postcode", tooltip="Postcode")

    report = check_document(pdf_bytes(pdf), PDF)

    found = only(report, "pdf-unlabelled-fields")
    assert (found.impact, found.wcag) == ("serious", "4.1.2")
    assert found.summary.startswith("1 of 2 form fields")
    assert rule_ids(report) == ["pdf-unlabelled-fields"]


def test_pdf_dates_and_the_2018_exemption() -> None:
    old = make_accessible(new_pdf())
    old.docinfo[Name.CreationDate] = "D:20150101"
    old.docinfo[Name.ModDate] = "D:20190315120000+01'00'"
    report = check_document(pdf_bytes(old), PDF)
    assert (report.created, report.modified) == ("2015-01-01", "2019-03-15")
    assert report.exempt_2018 is True

    new = make_accessible(new_pdf())
    new.docinfo[Name.CreationDate] = "D:20180923000000Z"
    report = check_document(pdf_bytes(new), PDF)
    assert report.created == "2018-09-23"
    assert report.exempt_2018 is False


def test_pdf_dates_from_xmp_and_offsets() -> None:
    pdf = make_accessible(new_pdf())
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
        meta["xmp:CreateDate"] = "2017-06-30T23:30:00-02:00"
    report = check_document(pdf_bytes(pdf), PDF)
    assert report.created == "2017-07-01"  # 01:30 UTC the next day
    assert report.exempt_2018 is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("D:20150101", "2015-01-01"),
        ("D:2015", "2015-01-01"),
        ("20150630", "2015-06-30"),
        ("D:20151231230000-02'00'", "2016-01-01"),
        ("D:19700101000000Z", None),  # the epoch: a placeholder
        ("D:20151340", None),
        ("yesterday", None),
        (None, None),
    ],
)
def test_parse_pdf_date(text: str | None, expected: str | None) -> None:
    parsed = document_pdf.parse_pdf_date(text)
    assert (parsed.isoformat() if parsed else None) == expected


def test_garbage_is_unreadable_not_an_exception() -> None:
    report = check_document(b"\x00\xffnot a pdf at all" * 50, PDF, "report.pdf")

    assert report.kind == "pdf"
    assert rule_ids(report) == ["document-unreadable"]
    assert report.error and "trailer" in report.error
    assert "BytesIO" not in report.error
    assert report.pages is None


def test_truncated_pdf_never_raises() -> None:
    data = pdf_bytes(make_accessible(new_pdf(pages=3)))
    for end in range(0, len(data), max(1, len(data) // 40)):
        report = check_document(data[:end], PDF)
        assert report.kind == "pdf"
        assert report.error is None or rule_ids(report) == ["document-unreadable"]


# --- Office ---------------------------------------------------------------------------


def docx_bytes(title: str | None = None, lang: str | None = None) -> bytes:
    """A Word file with python-docx, whose template's default language is removed first."""
    doc = Document()
    doc.add_paragraph("Your bin collection day")
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    for element in list(defaults.iter(qn("w:lang"))):
        element.getparent().remove(element)
    if lang:
        language = OxmlElement("w:lang")
        language.set(qn("w:val"), lang)
        doc.styles["Normal"].element.get_or_add_rPr().append(language)
    if title:
        doc.core_properties.title = title
        doc.core_properties.created = datetime(2024, 5, 1, 9, 30)
        doc.core_properties.modified = datetime(2024, 6, 2, 10, 0)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def test_docx_with_title_and_language() -> None:
    report = check_document(docx_bytes("Bin collections", "en-GB"), DOCX, "bins.docx")

    assert report.issues == []
    assert report.kind == "docx"
    assert report.title == "Bin collections"
    assert report.language == "en-GB"
    assert (report.created, report.modified) == ("2024-05-01", "2024-06-02")
    assert report.exempt_2018 is False
    assert report.error is None


def test_docx_without_title_or_language() -> None:
    report = check_document(docx_bytes(), DOCX)

    assert rule_ids(report) == ["office-no-language", "office-no-title"]
    title, language = only(report, "office-no-title"), only(report, "office-no-language")
    assert (title.impact, title.wcag) == ("moderate", "2.4.2")
    assert (language.impact, language.wcag) == ("moderate", "3.1.1")
    assert "In Word" in title.summary
    # python-docx's template was created in 2013 and the date is kept: "exempt" by date.
    assert report.created == "2013-12-23"
    assert report.exempt_2018 is True


def test_docx_language_from_document_defaults_and_body() -> None:
    doc = Document()
    doc.core_properties.title = "Parking permits"
    out = io.BytesIO()
    doc.save(out)
    assert check_document(out.getvalue(), DOCX).language == "en-US"  # the template's default

    doc = Document(io.BytesIO(docx_bytes("Parking permits")))
    run = doc.add_paragraph().add_run("Croeso")
    language = OxmlElement("w:lang")
    language.set(qn("w:val"), "cy-GB")
    run._r.get_or_add_rPr().append(language)
    out = io.BytesIO()
    doc.save(out)
    assert check_document(out.getvalue(), "application/octet-stream", "p.docx").language == "cy-GB"


def office_zip(parts: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        for name, text in parts.items():
            package.writestr(name, text)
    return out.getvalue()


RELS = (
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="xl/workbook.xml" Type="http://schemas.openxmlformats.org'
    '/officeDocument/2006/relationships/officeDocument"/></Relationships>'
)
CORE = (
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
    'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:dcterms="http://purl.org/dc/terms/">{}</cp:coreProperties>'
)


def test_xlsx_is_read_the_same_way() -> None:
    data = office_zip(
        {
            "_rels/.rels": RELS,
            "xl/workbook.xml": "<workbook/>",
            "docProps/core.xml": CORE.format(
                "<dc:title>Ward budgets</dc:title><dc:language>en-GB</dc:language>"
                "<dcterms:created>2016-03-01T08:00:00Z</dcterms:created>"
            ),
        }
    )

    report = check_document(data, "application/octet-stream", "https://x.gov.uk/budget.xlsx")

    assert report.kind == "xlsx"
    assert (report.title, report.language, report.created) == (
        "Ward budgets",
        "en-GB",
        "2016-03-01",
    )
    assert report.exempt_2018 is True
    assert report.issues == []


def test_pptx_language_from_the_presentation_default_style() -> None:
    presentation = (
        '<p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"'
        ' xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><p:defaultTextStyle>'
        '<a:defPPr><a:defRPr lang="en-GB"/></a:defPPr></p:defaultTextStyle></p:presentation>'
    )
    data = office_zip(
        {
            "_rels/.rels": RELS.replace("xl/workbook.xml", "ppt/presentation.xml"),
            "ppt/presentation.xml": presentation,
            "docProps/core.xml": CORE.format("<dc:title>Presentation1</dc:title>"),
        }
    )

    report = check_document(data, None, "slides.pptx")

    assert (report.kind, report.language, report.title) == ("pptx", "en-GB", "Presentation1")
    # PowerPoint's own default title says nothing about the slides.
    assert rule_ids(report) == ["office-no-title"]
    assert "In PowerPoint" in only(report, "office-no-title").summary


def test_hostile_xml_is_not_expanded() -> None:
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;">]>'
    )
    data = office_zip(
        {
            "_rels/.rels": RELS,
            "xl/workbook.xml": "<workbook/>",
            "docProps/core.xml": laughs + CORE.format("<dc:title>&c;</dc:title>"),
        }
    )

    report = check_document(data, None, "laughs.xlsx")

    assert report.title is None
    assert rule_ids(report) == ["office-no-language", "office-no-title"]


def test_broken_office_files_are_unreadable() -> None:
    report = check_document(b"PK\x03\x04 not really a zip", DOCX)
    assert report.kind == "docx"
    assert rule_ids(report) == ["document-unreadable"]
    assert report.error

    not_office = check_document(office_zip({"hello.txt": "hi"}), None, "notes.pptx")
    assert not_office.kind == "pptx"
    assert not_office.error == "not an Office document: it has no ppt/presentation.xml"

    locked = OLE_MAGIC + b"\x00" * 100 + "EncryptionInfo".encode("utf-16-le")
    report = check_document(locked, DOCX)
    assert report.encrypted is True
    assert rule_ids(report) == ["document-unreadable"]


# --- Kinds ----------------------------------------------------------------------------


def test_legacy_and_unknown_files_are_other_with_no_issues() -> None:
    legacy = check_document(OLE_MAGIC + b"\x00" * 512, "application/msword", "a.doc")
    assert (legacy.kind, legacy.issues, legacy.error) == ("other", [], None)
    assert check_document(b"hello", "text/plain", "notes.txt").kind == "other"


def test_kind_from_content_type_extension_or_bytes() -> None:
    data = pdf_bytes(new_pdf())
    assert documents.document_kind(data, "application/pdf; charset=binary", None) == "pdf"
    assert documents.document_kind(b"", None, "/docs/plan.PDF?download=1") == "pdf"
    assert documents.document_kind(data, "application/octet-stream", None) == "pdf"
    assert documents.document_kind(docx_bytes(), None, None) == "docx"
    assert documents.document_kind(docx_bytes(), "application/msword", "x.docx") == "docx"
