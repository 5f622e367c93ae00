"""Tests for audits.dates: each kind of date evidence, plausibility, precedence, htmldate's
guesses and the Last-Modified header judged the server's time."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import htmldate
import htmldate.utils
import pytest
from lxml.html import HtmlElement

from audits import dates
from audits.dates import (
    PRECEDENCE,
    DateCandidate,
    choose_last_updated,
    date_candidates,
    review_due,
)
from audits.tree import parse_html

FETCHED = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
LAST_MODIFIED = "Tue, 12 Mar 2019 10:00:00 GMT"


def candidates(
    html: str, *, header: str | None = None, lastmod: str | None = None, guesses: bool = False
) -> list[DateCandidate]:
    """The page's candidates; htmldate's guesses only if asked, as most tests are of the others."""
    found = date_candidates(
        parse_html(html),
        html,
        last_modified_header=header,
        sitemap_lastmod=lastmod,
        fetched_at=FETCHED,
    )
    return [c for c in found if guesses or c.source != "htmldate"]


def page(body: str = "", head: str = "") -> str:
    return f"<!doctype html><html><head><title>Bins</title>{head}</head><body>{body}</body></html>"


def found(html: str, **kwargs: Any) -> set[tuple[str, str, str]]:
    return {(c.kind, c.source, c.value) for c in candidates(html, **kwargs)}


def candidate(kind: str, source: str, value: str) -> DateCandidate:
    return DateCandidate(kind, source, value, "evidence")


# --- Each kind of evidence -----------------------------------------------------------------


def test_last_modified_header() -> None:
    [only] = candidates(page("<p>Bins</p>"), header=LAST_MODIFIED)
    assert only == DateCandidate("updated", "http-last-modified", "2019-03-12", LAST_MODIFIED)


def test_sitemap_lastmod_datetime_and_date_only() -> None:
    assert found(page(), lastmod="2020-01-02T09:30:00+00:00") == {
        ("updated", "sitemap-lastmod", "2020-01-02")
    }
    assert found(page(), lastmod="2020-01-02") == {("updated", "sitemap-lastmod", "2020-01-02")}


def test_meta_article_modified_time() -> None:
    head = '<meta property="article:modified_time" content="2019-03-12T10:00:00+00:00">'
    [only] = candidates(page(head=head))
    assert (only.kind, only.source, only.value) == (
        "updated",
        "meta:article:modified_time",
        "2019-03-12",
    )
    assert only.evidence == "2019-03-12T10:00:00+00:00"


def test_meta_dcterms_modified_and_published_names() -> None:
    head = (
        '<meta name="DCTERMS.modified" content="2019-03-10">'
        '<meta name="dcterms.created" content="2015-06-01">'
        '<meta http-equiv="Last-Modified" content="Tue, 12 Mar 2019 10:00:00 GMT">'
        '<meta name="description" content="Last updated: 1 May 2020">'
    )
    assert found(page(head=head)) == {
        ("updated", "meta:dcterms.modified", "2019-03-10"),
        ("published", "meta:dcterms.created", "2015-06-01"),
        ("updated", "meta:http-equiv:last-modified", "2019-03-12"),
    }


def test_jsonld_date_modified_inside_graph() -> None:
    jsonld = """<script type="application/ld+json">
    {"@context": "https://schema.org", "@graph": [
      {"@type": "WebSite", "name": "Council"},
      {"@type": "WebPage", "dateModified": "2020-02-02T10:00:00Z", "lastReviewed": "2020-03-03",
       "isPartOf": {"@type": "CreativeWork", "datePublished": "2010-01-01"}}
    ]}</script>
    <script type="application/ld+json">{not json</script>"""
    assert found(page(head=jsonld)) == {
        ("updated", "jsonld:dateModified", "2020-02-02"),
        ("reviewed", "jsonld:lastReviewed", "2020-03-03"),
        ("published", "jsonld:datePublished", "2010-01-01"),
    }


def test_jsonld_top_level_list() -> None:
    jsonld = '<script type="application/ld+json">[{"dateCreated": "2012-12-12"}]</script>'
    assert found(page(head=jsonld)) == {("published", "jsonld:dateCreated", "2012-12-12")}


def test_visible_last_updated() -> None:
    [only] = candidates(page("<footer><p>Last updated: 12 March 2019</p></footer>"))
    assert only == DateCandidate(
        "updated", "visible-text", "2019-03-12", "Last updated: 12 March 2019"
    )


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("Last updated 12/03/2019", "updated", "2019-03-12"),  # UK order: day first
        ("Page last updated on 3 September 2019", "updated", "2019-09-03"),
        ("Updated: 2019-03-12", "updated", "2019-03-12"),
        ("Page last reviewed: 3 September 2019", "reviewed", "2019-09-03"),
        ("Last reviewed: March 2019", "reviewed", "2019-03-01"),
        ("Published: 4 June 2019", "published", "2019-06-04"),
        ("Review due: 1 January 2020", "review-due", "2020-01-01"),
        ("Next review date: 2 February 2021", "review-due", "2021-02-02"),
    ],
)
def test_visible_text_patterns(text: str, kind: str, value: str) -> None:
    assert found(page(f"<p>{text}</p>")) == {(kind, "visible-text", value)}


def test_label_and_date_in_separate_elements() -> None:
    html = page("<dl><dt>Date published</dt><dd>4 June 2019</dd></dl>")
    assert found(html) == {("published", "visible-text", "2019-06-04")}


def test_numbers_without_a_label_or_a_real_date_are_not_dates() -> None:
    html = page(
        "<p>Call 01234 567890. Ref 12/2019. Updated 12 times in 2019."
        " Last updated: 31/02/2019.</p><!-- Last updated: 1 May 2019 -->"
        "<script>var s = 'Last updated: 2 May 2019';</script>"
    )
    assert candidates(html) == []


def test_time_element_with_a_label() -> None:
    html = page(
        "<p>Published <time datetime='2018-01-02'>2 Jan 2018</time></p>"
        "<dl><dt>Last updated</dt><dd><time datetime='2019-03-12T10:00'>12/3</time></dd></dl>"
        "<p>We changed the rules. The meeting is on <time datetime='2019-05-05'>5 May</time></p>"
    )
    assert {c for c in found(html) if c[1] == "time-element"} == {
        ("published", "time-element", "2018-01-02"),
        ("updated", "time-element", "2019-03-12"),
    }


def test_no_dates() -> None:
    assert candidates(page("<h1>Bins</h1><p>Put your bin out by 7am.</p>")) == []


# --- Plausibility and deduplication --------------------------------------------------------


def test_future_and_pre_1995_dates_are_ignored() -> None:
    html = page(
        "<p>Last updated: 12 March 2031</p><p>Published: 4 June 1990</p>",
        head='<meta name="dcterms.modified" content="2024-05-02">',  # the day after the fetch
    )
    assert found(html, lastmod="2025-01-01") == set()


def test_review_due_may_be_in_the_future() -> None:
    # A review date ahead of the fetch is the normal case, not a mistake.
    assert found(page("<p>Next review due: 1 March 2026</p>")) == {
        ("review-due", "visible-text", "2026-03-01")
    }


@pytest.mark.parametrize(
    "header", ["Wed, 01 May 2024 12:00:00 GMT", "Wed, 01 May 2024 11:59:30 GMT"]
)
def test_last_modified_at_fetch_time_is_ignored(header: str) -> None:
    assert candidates(page(), header=header) == []


def test_last_modified_earlier_on_the_day_of_the_fetch_is_kept() -> None:
    assert found(page(), header="Wed, 01 May 2024 09:00:00 GMT") == {
        ("updated", "http-last-modified", "2024-05-01")
    }


def test_duplicates_are_removed_but_sources_kept() -> None:
    html = page("<p>Last updated: 12 March 2019</p><p>Last updated: 12/03/2019</p>")
    assert found(html, header=LAST_MODIFIED) == {
        ("updated", "visible-text", "2019-03-12"),
        ("updated", "http-last-modified", "2019-03-12"),
    }
    assert len(candidates(html, header=LAST_MODIFIED)) == 2


def test_evidence_is_at_most_200_characters() -> None:
    head = f'<meta name="dcterms.modified" content="2019-03-12T10:00:00Z{" " * 300}x">'
    assert all(len(c.evidence) <= 200 for c in candidates(page(head=head)))


# --- Precedence ----------------------------------------------------------------------------


def test_precedence_is_documented_in_the_module_docstring() -> None:
    assert "Order of precedence" in (dates.__doc__ or "")
    assert [level.name for level in PRECEDENCE] == [
        "page text",
        "structured data",
        "sitemap",
        "http header",
        "published",
        "htmldate",
        "server time",
    ]


def test_visible_text_beats_sitemap_beats_last_modified() -> None:
    html = page("<p>Last updated: 12 March 2019</p>")
    all_three = candidates(html, header="Mon, 01 Apr 2024 10:00:00 GMT", lastmod="2023-06-01")
    assert choose_last_updated(all_three).source == "visible-text"

    two = candidates(page(), header="Mon, 01 Apr 2024 10:00:00 GMT", lastmod="2023-06-01")
    assert choose_last_updated(two).source == "sitemap-lastmod"

    one = candidates(page(), header="Mon, 01 Apr 2024 10:00:00 GMT")
    assert choose_last_updated(one).source == "http-last-modified"


def test_review_counts_as_update_and_latest_wins_within_a_level() -> None:
    html = page("<p>Last updated: 12 March 2019</p><p>Page last reviewed: 3 September 2020</p>")
    chosen = choose_last_updated(candidates(html))
    assert (chosen.kind, chosen.value) == ("reviewed", "2020-09-03")


def test_structured_data_beats_sitemap() -> None:
    chosen = choose_last_updated(
        [
            candidate("updated", "sitemap-lastmod", "2024-01-01"),
            candidate("updated", "meta:dcterms.modified", "2019-03-10"),
            candidate("reviewed", "jsonld:lastReviewed", "2020-03-03"),
        ]
    )
    assert chosen.source == "jsonld:lastReviewed"


def test_published_only_when_nothing_else() -> None:
    published = candidate("published", "visible-text", "2023-06-04")
    header = candidate("updated", "http-last-modified", "2019-03-12")
    assert choose_last_updated([published, header]) == header
    assert choose_last_updated([published]) == published


def test_review_due_is_never_the_last_update() -> None:
    due = candidate("review-due", "visible-text", "2020-01-01")
    later_due = candidate("review-due", "visible-text", "2026-01-01")
    assert choose_last_updated([due, later_due]) is None
    assert review_due([due, later_due]) == later_due
    assert review_due([candidate("updated", "visible-text", "2019-03-12")]) is None


def test_nothing_to_choose() -> None:
    assert choose_last_updated([]) is None
    assert review_due([]) is None


# --- htmldate's guesses --------------------------------------------------------------------


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """URLs htmldate tried to fetch. Recorded, not raised: date_candidates swallows errors."""
    attempts: list[str] = []

    def record(url: str) -> None:
        attempts.append(url)

    monkeypatch.setattr(htmldate.utils, "fetch_url", record)
    return attempts


def guessed(html: str, **kwargs: Any) -> set[tuple[str, str, str]]:
    return {c for c in found(html, guesses=True, **kwargs) if c[1] == "htmldate"}


@pytest.mark.parametrize(
    "html",
    [
        # A date only in the canonical URL's path.
        page(head='<link rel="canonical" href="https://www.example.gov.uk/news/2019/03/12/bins">'),
        # An unlabelled byline.
        page('<article><p class="byline">By the Waste Team, 12 March 2019</p></article>'),
    ],
)
def test_htmldate_guesses_first_and_last_dates(html: str, downloads: list[str]) -> None:
    assert guessed(html) == {
        ("published", "htmldate", "2019-03-12"),
        ("updated", "htmldate", "2019-03-12"),
    }
    chosen = choose_last_updated(candidates(html, guesses=True))
    assert (chosen.source, chosen.value) == ("htmldate", "2019-03-12")
    assert downloads == []


def test_htmldate_runs_beside_the_pages_own_evidence_and_ranks_below_it() -> None:
    html = page(
        "<p>Published: 4 June 2019</p><p>Review due: 1 January 2020</p>",
        head='<link rel="canonical" href="https://www.example.gov.uk/news/2021/02/03/bins">',
    )
    found_all = candidates(html, guesses=True)
    assert {(c.kind, c.source) for c in found_all} >= {("published", "htmldate")}
    chosen = choose_last_updated(found_all)
    assert (chosen.source, chosen.value) == ("visible-text", "2019-06-04")


def test_the_later_of_htmldates_two_dates_is_the_last_update() -> None:
    chosen = choose_last_updated(
        [
            candidate("published", "htmldate", "2018-01-02"),
            candidate("updated", "htmldate", "2020-05-06"),
            candidate("updated", "server-time:shared", "2024-04-30"),
        ]
    )
    assert (chosen.kind, chosen.value) == ("updated", "2020-05-06")


def test_htmldates_guess_of_a_year_alone_is_dropped() -> None:
    # A copyright line is htmldate's last resort: it answers 1 January of that year.
    assert guessed(page("<footer><p>© 2019 Example Council</p></footer>")) == set()
    # Unless the page states that very day.
    head = '<meta property="article:published_time" content="2023-01-01T10:00:00">'
    assert ("published", "htmldate", "2023-01-01") in guessed(page(head=head))


def test_htmldate_gets_its_parse_of_the_bytes_and_its_errors_are_swallowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[object] = []

    def broken(htmlobject: object, **kwargs: object) -> None:
        seen.append(htmlobject)
        raise ValueError("lxml choked")

    monkeypatch.setattr(htmldate, "find_date", broken)
    assert candidates(page("<p>Bins</p>"), guesses=True) == []
    # htmldate's own parse of the page's bytes (a str starting "http" would be downloaded),
    # made once for both searches.
    assert len(seen) == 2 and isinstance(seen[0], HtmlElement) and seen[0] is seen[1]


@pytest.mark.filterwarnings("ignore::bs4.MarkupResemblesLocatorWarning")
def test_a_body_that_looks_like_a_url_is_not_downloaded(downloads: list[str]) -> None:
    assert candidates("https://www.example.gov.uk/news/2019/03/12/bins", guesses=True) == []
    assert downloads == []


def test_htmldate_future_dates_are_ignored() -> None:
    html = page('<article><p class="byline">By the Waste Team, 12 March 2031</p></article>')
    assert candidates(html, guesses=True) == []


# --- Combining the evidence ----------------------------------------------------------------


def test_published_days_before_the_agreed_one_are_other_articles() -> None:
    """The page and htmldate agree on 4 May 2020; the related articles listed in its
    structured data are older, and must not become the page's publication day."""
    related = ", ".join(
        f'{{"@type": "NewsArticle", "datePublished": "{day}"}}'
        for day in ("2019-01-01", "2018-03-03")
    )
    html = page(
        "<h1>Play park opens</h1><p>The new play park opened today.</p>",
        head='<meta property="article:published_time" content="2020-05-04T09:00:00">'
        f'<script type="application/ld+json">{{"itemListElement": [{related}]}}</script>',
    )
    published = {c.value for c in candidates(html, guesses=True) if c.kind == "published"}
    assert published == {"2020-05-04"}


def test_a_timestamp_gives_the_day_the_page_wrote() -> None:
    # 00:30 in Tokyo on 15 February is 14 February in UTC: the page's readers saw the 15th.
    head = '<meta property="article:published_time" content="2020-02-15T00:30:00+09:00">'
    assert found(page(head=head)) == {("published", "meta:article:published_time", "2020-02-15")}


def test_microdata_dates_on_any_element() -> None:
    html = page(
        '<article><time itemprop="datePublished" datetime="2019-03-12T09:00">12 March</time>'
        '<span itemprop="dateModified">4 June 2020</span>'
        '<span itemprop="name">2 May 2021</span></article>'
    )
    assert found(html) == {
        ("published", "microdata:datePublished", "2019-03-12"),
        ("updated", "microdata:dateModified", "2020-06-04"),
    }
    assert choose_last_updated(candidates(html)).source == "microdata:dateModified"


# --- The Last-Modified header judged the server's time -------------------------------------


def test_a_header_later_than_every_date_the_page_states_is_the_servers_time() -> None:
    html = page("<p>Published: 4 June 2019</p>")
    header = "Mon, 29 Apr 2024 10:00:00 GMT"
    assert ("updated", "server-time:later", "2024-04-29") in found(html, header=header)
    chosen = choose_last_updated(candidates(html, header=header))
    assert (chosen.source, chosen.value) == ("visible-text", "2019-06-04")


@pytest.mark.parametrize(
    ("body", "header"),
    [
        # The page states a later date (or the same day): the header may be the edit.
        ("<p>Published: 4 June 2019</p>", "Mon, 03 Jun 2019 10:00:00 GMT"),
        ("<p>Published: 4 June 2019</p>", "Tue, 04 Jun 2019 18:00:00 GMT"),
        # The page states nothing: only a guess, which cannot overturn the header alone.
        (
            '<p class="byline">By the Waste Team, 12 March 2019</p>',
            LAST_MODIFIED.replace("2019", "2023"),
        ),
        ("<p>Bins</p>", LAST_MODIFIED),
    ],
)
def test_a_header_not_later_than_the_pages_dates_is_kept(body: str, header: str) -> None:
    sources = {c.source for c in candidates(page(body), header=header, guesses=True)}
    assert "http-last-modified" in sources and "server-time:later" not in sources


def test_labels_are_found_where_the_full_pattern_finds_them() -> None:
    # dates.LABELS only tries LABEL_PATTERN where a label's first word starts: it must miss
    # nothing, so every label shape is written into prose in several cases and spacings.
    labels = [
        "Last updated", "page last modified", "Content last reviewed", "Date last updated",
        "Reviewed", "Modified", "Next review due date", "Review due", "due for review by",
        "Review by", "First published", "Date created", "Posted", "Updated on", "homepage updated",
        "self-reviewed", "Last  changed", "date issued", "next review",
    ]  # fmt: skip
    rng = random.Random(7)
    words = ("We empty bins every week and publish the timetable on this page " * 30).split()
    for label in labels * 3:
        written = rng.choice([label, label.upper(), label.lower(), label.replace(" ", "\n ")])
        words.insert(rng.randrange(len(words)), f"{written}: 12 March 2019")
    text = " ".join(words)
    expected = [(m.start(), m.group(0)) for m in dates.LABEL_PATTERN.finditer(text)]
    assert len(expected) > 40
    assert [(m.start(), m.group(0)) for m in dates.LABELS.finditer(text)] == expected
