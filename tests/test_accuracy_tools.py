"""The accuracy measurements count what they say: W3C's BAD criteria, injected failures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmarks import injected_accuracy
from benchmarks.bad_accuracy import ALL_CHECKS, AXE_ONLY, ground_truth, report
from benchmarks.injected_accuracy import KINDS, NAV_ITEM, build_site
from tests.conftest import ROOT

CORPORA = next((p / "shared" / "corpora" for p in ROOT.parents if (p / "shared").is_dir()), None)
needs_corpora = pytest.mark.skipif(CORPORA is None, reason="needs ../shared/corpora")


@needs_corpora
def test_bad_counts_a_page_once_per_criterion_and_after_page_violations_apart() -> None:
    truth = ground_truth()
    axe = {("before/home.html", "1.1.1", "violation"): {"image-alt"}}
    full = {
        **axe,
        ("before/news.html", "1.1.1", "violation"): {"image-alt", "role-img-alt"},
        ("before/news.html", "2.4.7", "needs-review"): {"siteaudit-focus-visible"},
        ("after/home.html", "1.4.3", "violation"): {"color-contrast"},
        ("after/home.html", "1.4.10", "needs-review"): {"siteaudit-reflow"},
    }
    text = report(truth, {AXE_ONLY: axe, ALL_CHECKS: full})
    assert "- axe alone: **1/96 = 1.0%**" in text
    assert "- siteaudit, all checks: **2/96 = 2.1%**" in text
    assert "| 1.1.1 Non-text Content | A | 5 | 1 | 2 | 0 | `image-alt`, `role-img-alt` |" in text
    assert "| 2.4.7 Focus Visible | AA | 5 | 0 | 0 | 1 | `siteaudit-focus-visible` |" in text
    assert "- after/home.html: 1.4.3 (W3C: Pass) by color-contrast" in text
    assert "- after/home.html: 1.4.10 needs-review by siteaudit-reflow" in text


@needs_corpora
def test_each_kind_is_injected_into_its_own_pages(tmp_path: Path) -> None:
    site = tmp_path / "site"
    injected, clean = build_site(site, seed=14, per_kind=2)
    assert len(injected) == 2 * len(KINDS) and len(clean) == len(injected)
    assert not set(injected) & set(clean)
    original = injected_accuracy.corpus("digital-land") / "site"
    for path, kind in injected.items():
        relative = path.lstrip("/").replace("%20", " ")
        file = relative + "index.html" if path.endswith("/") else relative
        before = injected_accuracy.with_search((original / file).read_text("utf-8"))
        after = (site / file).read_text("utf-8")
        assert kind.inject(before) == after, path
        if kind.name.startswith("reordered"):
            links = [re.findall(r'href="([^"]+)"', i) for i in NAV_ITEM.findall(after)]
            usual = [re.findall(r'href="([^"]+)"', i) for i in NAV_ITEM.findall(before)]
            assert links == list(reversed(usual)) and len(links) >= 2
    for path in clean:
        relative = path.lstrip("/").replace("%20", " ")
        file = relative + "index.html" if path.endswith("/") else relative
        assert 'id="injected"' not in (site / file).read_text("utf-8")
        assert ">Search</button>" in (site / file).read_text("utf-8")
