"""Each page and document held to its own size limit, on the bytes received and decoded."""

from __future__ import annotations

from typing import Any

import scrapy
from scrapy import signals
from scrapy.exceptions import StopDownload

from crawler.context import crawl_context
from vocabulary.urls import is_html

# Where this extension keeps the limit and the count on a request.
LIMIT = "download_maxsize"  # Scrapy's own key: its handler and decompression read it too
RECEIVED = "siteaudit_bytes_received"


class ResponseSizeLimits:
    """An HTML page may be site.max_page_bytes long, a document documents.max_bytes.

    A Content-Length says little: a chunked page sends none, and a gzip-encoded one can
    inflate a thousandfold. So once a page's headers tell which kind it is, its limit goes
    in its `download_maxsize` meta, which Scrapy's HttpCompressionMiddleware holds the
    decoded body to; and the bytes received are counted here, stopping the download as
    soon as they pass it. Both failures end as the reason `too-large`.
    """

    def __init__(self, max_page_bytes: int, max_document_bytes: int) -> None:
        self.max_page_bytes = max_page_bytes
        self.max_document_bytes = max_document_bytes

    @classmethod
    def from_crawler(cls, crawler: Any) -> ResponseSizeLimits:
        config = crawl_context(crawler).config
        limits = cls(config.site.max_page_bytes, config.documents.max_bytes)
        crawler.signals.connect(limits.on_headers, signal=signals.headers_received)
        crawler.signals.connect(limits.on_bytes, signal=signals.bytes_received)
        return limits

    def on_headers(self, headers: Any, request: scrapy.Request) -> None:
        if request.meta.get("kind") != "page":
            return
        content_type = headers.get(b"Content-Type", b"").decode("latin-1")
        is_document = bool(content_type) and not is_html(content_type)
        request.meta[LIMIT] = self.max_document_bytes if is_document else self.max_page_bytes
        request.meta[RECEIVED] = 0

    def on_bytes(self, data: bytes, request: scrapy.Request) -> None:
        if RECEIVED not in request.meta:
            return
        received = request.meta[RECEIVED] = request.meta[RECEIVED] + len(data)
        if received > request.meta[LIMIT]:
            raise StopDownload(fail=True)  # recorded as too-large
