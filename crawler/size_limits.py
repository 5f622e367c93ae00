"""Each page and document held to its own size limit, on the bytes received and decoded."""

from __future__ import annotations

from typing import Any

import scrapy
from scrapy import signals
from scrapy.exceptions import StopDownload

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

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        crawler.signals.connect(self.on_headers, signal=signals.headers_received)
        crawler.signals.connect(self.on_bytes, signal=signals.bytes_received)

    @classmethod
    def from_crawler(cls, crawler: Any) -> ResponseSizeLimits:
        return cls(crawler)

    def on_headers(
        self, headers: Any, body_length: int, request: scrapy.Request, spider: Any
    ) -> None:
        if request.meta.get("kind") != "page":
            return
        config = spider.context.config
        content_type = headers.get(b"Content-Type", b"").decode("latin-1")
        is_document = bool(content_type) and not is_html(content_type)
        request.meta[LIMIT] = (
            config.documents.max_bytes if is_document else config.site.max_page_bytes
        )
        request.meta[RECEIVED] = 0

    def on_bytes(self, data: bytes, request: scrapy.Request, spider: Any) -> None:
        if RECEIVED not in request.meta:
            return
        received = request.meta[RECEIVED] = request.meta[RECEIVED] + len(data)
        if received > request.meta[LIMIT]:
            raise StopDownload(fail=True)  # recorded as too-large
