"""Office packages and XML parts read safely: zip members and XML within limits, no entities."""

from __future__ import annotations

import logging
import posixpath
import struct
import xml.sax
import zipfile
import zlib
from collections.abc import Iterable
from typing import Any

# defusedxml refuses entity expansion, DTDs' entities and external references outright.
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import fromstring as _xml_fromstring

XML_ERRORS: tuple[type[Exception], ...] = (ParseError, ValueError, xml.sax.SAXException)

log = logging.getLogger(__name__)

MAX_XML_BYTES = 8 * 1024 * 1024  # core.xml, styles.xml, XMP: small parts in real files
# A parsed element costs about 100 bytes whatever its size in the file: `<a/>` is 4 bytes.
MAX_XML_ELEMENTS = 200_000  # a real styles.xml has a few thousand
MAX_ZIP_MEMBERS = 10_000  # parts in one Office package; real ones have tens to hundreds
MAX_ZIP_DIRECTORY = 4 * 1024 * 1024  # its list of parts: ~80 bytes a part in real files
INFLATE_CHUNK = 64 * 1024  # compressed data is read and inflated this much at a time
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


class StopSearch(Exception):
    """Stops a streamed parse: the answer is found, or the search went far enough."""
