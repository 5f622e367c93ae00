"""Small files that expand: gzip-bomb sitemaps, PDF and Word bombs, pages over the size limit.

Every bomb is made on the fly (and once per process), never committed: a few hundred
kilobytes on the wire that inflate to hundreds of megabytes, or parse into millions of
objects. Beside them, an ordinary PDF, Word file and pages show that normal files are still
checked and stored.
"""

from __future__ import annotations

import functools
import gzip
import io
import zipfile
import zlib
from collections.abc import Callable
from urllib.parse import SplitResult

from tests.hostile import Handler, HostileHandler, page, send_page

MB = 1024 * 1024
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
PAGE_LIMIT = 1 * MB  # site.max_page_bytes in the tests' configuration
BIG_PAGE = 4 * MB  # over that limit, under the old 32 MB download limit


# --- Makers ----------------------------------------------------------------------------------


def repeated(unit: bytes, total: int) -> list[bytes]:
    """`total` bytes of `unit` over and over, in 1 MB blocks (never all in memory)."""
    block = unit * (MB // len(unit))
    return [block] * (total // len(block))


def deflate(parts: list[bytes], wbits: int = 15) -> bytes:
    """zlib (wbits 15) or gzip (wbits 31) data for the parts, one after another."""
    packer = zlib.compressobj(6, zlib.DEFLATED, wbits)
    return b"".join([*(packer.compress(part) for part in parts), packer.flush()])


def pdf_file(objects: list[bytes]) -> bytes:
    """A PDF whose object 1 is the catalog and object 2 the document information."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 2 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n" % (dictionary, len(data)) + data + b"\nendstream"


def one_page_pdf(
    title: bytes,
    content: bytes,
    content_filter: bytes = b"",
    catalog_extra: bytes = b"",
    more: tuple[bytes, ...] = (),
) -> bytes:
    """Catalog, information, pages, one page, its content and a font (objects 1-6)."""
    return pdf_file(
        [
            b"<< /Type /Catalog /Pages 3 0 R /Lang (en-GB) %s >>" % catalog_extra,
            b"<< /Title (%s) /CreationDate (D:20250102030405Z) >>" % title,
            b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 3 0 R /MediaBox [0 0 595 842] /Contents 5 0 R"
            b" /Resources << /Font << /F1 6 0 R >> >> >>",
            stream(content_filter, content),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            *more,
        ]
    )


TEXT = b"BT /F1 12 Tf 72 720 Td (Council tax explained) Tj ET"


@functools.cache
def ordinary_pdf() -> bytes:
    return one_page_pdf(b"Council tax explained", deflate([TEXT]), b"/Filter /FlateDecode")


@functools.cache
def double_flate_pdf() -> bytes:
    """A page whose content is Flate inside Flate: about 1 KB that inflates to 256 MB."""
    inner = deflate(repeated(b" ", 256 * MB))
    return one_page_pdf(
        b"Double Flate bomb", deflate([inner]), b"/Filter [/FlateDecode /FlateDecode]"
    )


XMP_HEAD = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
)


@functools.cache
def xmp_chain_pdf() -> bytes:
    """XMP metadata under a Flate filter with DecodeParms, inflating to 256 MB."""
    xmp = deflate([XMP_HEAD, *repeated(b"<a/>", 256 * MB)])
    kind = b"/Type /Metadata /Subtype /XML /Filter /FlateDecode /DecodeParms << /Predictor 1 >>"
    metadata = stream(kind, xmp)
    return one_page_pdf(
        b"XMP filter bomb", TEXT, catalog_extra=b"/Metadata 7 0 R", more=(metadata,)
    )


@functools.cache
def xmp_elements_pdf() -> bytes:
    """XMP metadata just under the 8 MB part limit, all empty elements: 2 million of them."""
    xmp = deflate([XMP_HEAD, *repeated(b"<a/>", 8 * MB - MB)])
    metadata = stream(b"/Type /Metadata /Subtype /XML /Filter /FlateDecode", xmp)
    return one_page_pdf(
        b"XMP element bomb", TEXT, catalog_extra=b"/Metadata 7 0 R", more=(metadata,)
    )


@functools.cache
def empty_text_pdf() -> bytes:
    """A page drawing 3 million empty strings (16 MB, 16 KB deflated): read as a list of
    instructions at once, that was 1.5 GB and 35 s."""
    content = deflate(repeated(b"()Tj\n", 16 * MB - MB))
    return one_page_pdf(b"Empty text bomb", content, b"/Filter /FlateDecode")


FIELDS = 1_500_000


@functools.cache
def fields_array_pdf() -> bytes:
    """A 3 MB form whose field list has 1.5 million entries: qpdf holds every one (about
    300 MB). No decoder limit covers it: the checker's memory limit must."""
    fields = b"/AcroForm << /Fields [" + b"0 " * FIELDS + b"] >>"
    return one_page_pdf(b"Form field bomb", TEXT, catalog_extra=fields)


CONTENT_TYPES_XML = (
    b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    b'content-types"><Default Extension="xml" ContentType="application/xml"/></Types>'
)
RELS_XML = (
    b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
    b'2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    b'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
    b'<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
    b'relationships/metadata/core-properties" Target="docProps/core.xml"/></Relationships>'
)


def core_xml(title: str) -> bytes:
    return (
        '<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/'
        'package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:title>{title}</dc:title></cp:coreProperties>"
    ).encode()


def docx_file(title: str, body_parts: list[bytes]) -> bytes:
    """A Word package whose word/document.xml is the parts, deflated as they are written."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as package:
        package.writestr("[Content_Types].xml", CONTENT_TYPES_XML)
        package.writestr("_rels/.rels", RELS_XML)
        package.writestr("docProps/core.xml", core_xml(title))
        with package.open("word/document.xml", "w") as member:
            for part in body_parts:
                member.write(part)
    return out.getvalue()


BODY_HEAD = f'<w:document xmlns:w="{W_NS}"><w:body>'.encode()


@functools.cache
def ordinary_docx() -> bytes:
    paragraph = b'<w:p><w:r><w:rPr><w:lang w:val="en-GB"/></w:rPr><w:t>Bins</w:t></w:r></w:p>'
    return docx_file("Bin collection days", [BODY_HEAD, paragraph, b"</w:body></w:document>"])


@functools.cache
def wide_docx() -> bytes:
    """A body of 64 MB of empty paragraphs and no language: about 100 KB zipped."""
    return docx_file("Wide body bomb", [BODY_HEAD, *repeated(b"<w:p/>", 64 * MB)])


@functools.cache
def deep_docx() -> bytes:
    """A body of 8 million paragraphs, each inside the last."""
    return docx_file("Deep body bomb", [BODY_HEAD, *repeated(b"<w:p>", 32 * MB)])


@functools.cache
def bomb_tail() -> bytes:
    """The rest of the sitemap bomb: 256 MB of spaces, as a gzip member of its own."""
    return deflate([*repeated(b" ", 256 * MB), b"</urlset>"], wbits=31)


def sitemap_head(h: HostileHandler, path: str) -> bytes:
    return (
        f'<?xml version="1.0"?><urlset xmlns="{SITEMAP_NS}">'
        f"<url><loc>{h.server.base}{path}</loc></url>"
    ).encode()


# --- Handlers --------------------------------------------------------------------------------


def send_file(content_type: str, make: Callable[[], bytes]) -> Handler:
    def handler(h: HostileHandler, url: SplitResult) -> None:
        h.send_body(200, make(), content_type)

    return handler


def ordinary(h: HostileHandler, url: SplitResult) -> None:
    send_page(h, "Council tax", "<p>How to pay your council tax.</p>")


def from_sitemap(h: HostileHandler, url: SplitResult) -> None:
    send_page(h, "Found in the sitemap", "<p>Only the gzipped sitemap links here.</p>")


def sitemap_gz(h: HostileHandler, url: SplitResult) -> None:
    body = sitemap_head(h, "/files/from-sitemap.html") + b"</urlset>"
    h.send_body(200, gzip.compress(body), "application/gzip")


def sitemap_bomb(h: HostileHandler, url: SplitResult) -> None:
    """About 250 KB that inflates to 256 MB; it lists one page before the padding."""
    head = gzip.compress(sitemap_head(h, "/files/listed-by-bomb.html"))
    h.send_body(200, head + bomb_tail(), "application/gzip")


def big_html() -> list[bytes]:
    head = page("A chunked page", "").split("</main>")[0].encode()
    return [head, *repeated(b"<p>Padding.</p>\n", BIG_PAGE)]


def chunked_page(h: HostileHandler, url: SplitResult) -> None:
    """4 MB of HTML with no Content-Length: only the bytes received can tell its size."""
    h.send_response(200)
    h.send_header("Content-Type", "text/html; charset=utf-8")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    for chunk in big_html():
        h.wfile.write(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
    h.wfile.write(b"0\r\n\r\n")


@functools.cache
def gzipped_html() -> bytes:
    return deflate(big_html(), wbits=31)


def gzip_page(h: HostileHandler, url: SplitResult) -> None:
    """About 20 KB on the wire (its Content-Length) that inflates to 4 MB of HTML."""
    h.send_body(200, gzipped_html(), headers=(("Content-Encoding", "gzip"),))


ROUTES: dict[str, Handler] = {
    "/files/ordinary.html": ordinary,
    "/files/from-sitemap.html": from_sitemap,
    "/files/listed-by-bomb.html": ordinary,
    "/files/sitemap.xml.gz": sitemap_gz,
    "/files/sitemap-bomb.xml.gz": sitemap_bomb,
    "/files/chunked.html": chunked_page,
    "/files/gzip.html": gzip_page,
    "/files/ordinary.pdf": send_file(PDF, ordinary_pdf),
    "/files/double-flate.pdf": send_file(PDF, double_flate_pdf),
    "/files/xmp-chain.pdf": send_file(PDF, xmp_chain_pdf),
    "/files/xmp-elements.pdf": send_file(PDF, xmp_elements_pdf),
    "/files/fields-array.pdf": send_file(PDF, fields_array_pdf),
    "/files/empty-text.pdf": send_file(PDF, empty_text_pdf),
    "/files/ordinary.docx": send_file(DOCX, ordinary_docx),
    "/files/wide-body.docx": send_file(DOCX, wide_docx),
    "/files/deep-body.docx": send_file(DOCX, deep_docx),
}
# The sitemaps are not linked: a test names them in site.sitemap_urls.
INDEX = [
    path
    for path in ROUTES
    if path.rsplit("/", 1)[-1] not in {"from-sitemap.html", "listed-by-bomb.html"}
    and not path.endswith(".xml.gz")
]
