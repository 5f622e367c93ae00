"""A PDF's content read within limits: streams decoded with caps, pages searched for text."""

from __future__ import annotations

import contextlib
import logging
import zlib
from collections.abc import Iterator
from itertools import islice
from typing import Any

import pikepdf
import pikepdf.settings

from audits.document_xml import INFLATE_CHUNK, StopSearch

log = logging.getLogger(__name__)

MAX_TEXT_PAGES = 500  # pages searched for a text layer; text is nearly always on page 1
MAX_STREAM_BYTES = 16 * 1024 * 1024  # one decoded content stream; more is a bomb or a map
MAX_CONTENT_BYTES = 128 * 1024 * 1024  # decoded content for the whole text search
MAX_FORM_DEPTH = 8  # form XObjects nest a level or two; deeper is a trap
MAX_CONTENT_TOKENS = 1_000_000  # PDF content tokens read in the text search (about 2 s)
# What qpdf's own decoders (Flate, predictors, RunLength) may produce from one stream.
MAX_QPDF_DECODE = 32 * 1024 * 1024
# LZW (which qpdf cannot cap) turns 12 bits into at most ~3,800 bytes.
LZW_MAX_RATIO = 2_600


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
