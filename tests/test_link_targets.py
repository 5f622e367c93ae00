"""A link's target worked out once a site (against the page's scheme and host) is where the
link leads from the page itself: the shortcut never moves a link, whatever its href."""

from __future__ import annotations

import random
from urllib.parse import urljoin

import pytest

from audits.site_checks import target
from crawler.link_targets import link_target
from vocabulary.urls import normalise_url

PAGE = "http://www.example.gov.uk/bins/collections/day?street=High+St"
# Hrefs an editor or a hostile page may write: rooted, relative, and those that look rooted
# but resolve against the page's own path ("//" or "scheme://" with no host, "/" then a tab).
HREFS = [
    "/", "/bins", "/bins?x=1#top", "//", "//?x", "///path", "//host/p", "//h\tost/p",
    "http://", "http://?x", "http:///p", "https://other.example/x", "HTTP://WWW.EXAMPLE.GOV.UK/a",
    "/\t?x", "/\t/evil.example", "/\n/evil.example", "?page=2", "../recycling", "./", "day",
    "/a/../b", "\\\\evil.example", "/\\evil.example",
]  # fmt: skip


@pytest.mark.parametrize("href", HREFS)
def test_a_link_leads_where_it_leads_from_the_page(href: str) -> None:
    assert link_target(href, PAGE, ()) == normalise_url(href, base=PAGE, strip_params=())
    assert target(PAGE, href) == urljoin(PAGE, href)


def test_random_hrefs_lead_where_they_lead_from_the_page() -> None:
    parts = ["/", "//", "?", "#", "a", "h.example", ":", "\t", "\n", "..", ".", "http:", "x=1"]
    rng = random.Random(14)
    for _ in range(20_000):
        href = "".join(rng.choice(parts) for _ in range(rng.randint(1, 6)))
        if not href.strip() or href.strip().startswith("#"):
            continue  # a link to this page: no target, by design
        try:
            expected = normalise_url(href, base=PAGE, strip_params=())
        except ValueError:
            continue
        assert link_target(href, PAGE, ()) == expected, href
        assert target(PAGE, href) == urljoin(PAGE, href), href
