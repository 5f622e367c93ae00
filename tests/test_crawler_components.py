"""Scrapy's ways: counts in its stats under siteaudit/, components that switch themselves off."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from scrapy import Request
from scrapy.core.spidermw import SpiderMiddlewareManager
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from app.scan import crawl_settings
from crawler import stats
from crawler.auth import AuthMiddleware
from crawler.context import ScanContext
from crawler.pipelines import BrowserAuditPipeline, DocumentCheckPipeline
from crawler.progress import progress_line
from crawler.spider_middlewares import StartRequestsMark
from crawler.stats import Counters
from settings.model import Config, DocumentsConfig
from store.writer import Writer


def test_counters_read_the_siteaudit_stats_and_nothing_else() -> None:
    collected = {
        stats.FOUND: 40,
        stats.FETCHED: 12,
        stats.FETCH_FAILED: 2,
        stats.PAGES: 10,
        stats.AUDITED: 9,
        stats.AUDIT_FAILED: 1,
        stats.EXTERNAL_OVER_HOST_CAP: 3,
        "downloader/request_count": 99,  # Scrapy's own
        "start_time": datetime.now(UTC) - timedelta(minutes=2),
    }
    counters = Counters.from_stats(collected)
    assert (counters.found, counters.fetched, counters.pages, counters.audited) == (40, 12, 10, 9)
    assert counters.external_over_host_cap == 3 and counters.in_browser == 0
    assert 119 < counters.elapsed < 130
    assert all(key.startswith("siteaudit/") for key in stats.STAT_OF.values())


def test_progress_line_reports_the_rate_and_time_left() -> None:
    counters = Counters(found=40, fetched=12, fetch_failed=2, pages=10, audited=9, elapsed=120)
    # 5 pages a minute, 26 URLs left: about 5 minutes 12 seconds.
    assert progress_line(counters) == (
        "found 40, fetched 12, pages 10, audited 9, failed 2, 5 pages/min, about 5m12s left"
    )


def test_before_the_crawl_opens_there_is_no_rate() -> None:
    counters = Counters.from_stats({})
    assert counters == Counters() and counters.rate_per_minute() == 0.0
    assert progress_line(counters) == (
        "found 0, fetched 0, pages 0, audited 0, failed 0, 0 pages/min"
    )


def test_pipelines_that_cannot_work_switch_themselves_off(tmp_path: Path) -> None:
    config = Config(documents=DocumentsConfig(check=False))
    context = ScanContext(
        config=config, allowed_domains=("example.org",), scan_id=1, writer=Writer(tmp_path / "db")
    )
    crawler = SimpleNamespace(siteaudit=context, stats=None)
    with pytest.raises(NotConfigured):
        BrowserAuditPipeline.from_crawler(crawler)  # no browser pool: --no-browser
    with pytest.raises(NotConfigured):
        DocumentCheckPipeline.from_crawler(crawler)  # documents.check = false
    with pytest.raises(NotConfigured):
        AuthMiddleware.from_crawler(crawler)  # no credentials


def test_the_scans_spider_middlewares_wrap_each_output_only_where_they_do_something() -> None:
    """Depth, referer and URL length wrap the spider's outputs; Scrapy's start middleware
    (a pass-through for every output but start requests) and its meta-copy warning do not."""
    scans = crawl_settings(Config(), verbose=False)["SPIDER_MIDDLEWARES"]
    crawler = get_crawler(settings_dict={"SPIDER_MIDDLEWARES": scans})
    manager = SpiderMiddlewareManager.from_crawler(crawler)
    layers = [
        type(method.__self__).__name__
        for method in manager.methods["process_spider_output"]
        if method is not None
    ]
    assert sorted(layers) == ["DepthMiddleware", "RefererMiddleware", "UrlLengthMiddleware"]
    starts = [type(method.__self__).__name__ for method in manager.methods["process_start"]]
    assert "StartRequestsMark" in starts and "StartSpiderMiddleware" not in starts


def test_start_requests_are_marked_as_scrapys_start_middleware_marks_them() -> None:
    """Marked, they go to the scheduler's first-in first-out queue for start requests."""
    request, item = Request("https://example.org/"), {"kind": "fetch"}

    async def start() -> AsyncIterator[Any]:
        yield request
        yield item

    async def marked() -> list[Any]:
        return [found async for found in StartRequestsMark().process_start(start())]

    assert asyncio.run(marked()) == [request, item]
    assert request.meta["is_start_request"] is True
