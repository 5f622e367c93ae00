"""The shared seen hash of a scan's workers against a real redis-server: max_pages holds
for every worker together, when a page a redirect led to is given back too
(crawler/distributed.py, SharedSeen; docs/scaling.md, "The browser in workers")."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from crawler.distributed import FULL, SEEN, TAKEN, ScanKeys, SharedSeen, worker_key

MAX_PAGES = 5
BASE = "http://127.0.0.1:9"


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()


def workers(client: redis.Redis, *names: str) -> list[SharedSeen]:
    """The scan's seen hash as each named worker, alive, takes from it."""
    keys = ScanKeys("shared-seen-test")
    for name in names:
        client.set(worker_key(keys, name), 1)
    return [SharedSeen(client, keys, name) for name in names]


def test_a_page_given_back_keeps_its_place_in_max_pages(client: redis.Redis) -> None:
    """A worker follows redirects from /sN to /sN/ and gives each page back (its browsers
    failed); another worker takes new links meanwhile, then fetches the sections again.
    The URLs counted (taken, and the redirects' targets) never pass max_pages, as on one
    machine; before, each page given back made room for one more URL than one machine
    would take, and the scan ended past max_pages once the redirect was followed again."""
    first, second = workers(client, "first", "second")
    counts, taken = [], []

    def take(worker: SharedSeen, url: str) -> int:
        outcome = worker.take(url, MAX_PAGES)
        taken.extend([url] if outcome == TAKEN else [])
        counts.append(len(worker))
        return outcome

    assert take(first, f"{BASE}/") == TAKEN
    for n in (1, 2):
        assert take(first, f"{BASE}/s{n}") == TAKEN
        assert first.mark_redirected(f"{BASE}/s{n}/")
        counts.append(len(first))
    # Full: the home page, two sections and the URL each redirected to.
    assert take(second, f"{BASE}/other") == FULL
    for n in (1, 2):
        first.give_back(f"{BASE}/s{n}/")
        assert f"{BASE}/s{n}/" not in first  # so that the page is stored when fetched again
        assert take(second, f"{BASE}/other-{n}") == FULL
    # The second worker fetches the sections again: each stored under its request.
    for n in (1, 2):
        assert second.mark_redirected(f"{BASE}/s{n}/")
        counts.append(len(second))
        assert take(second, f"{BASE}/s{n}/") == SEEN
    assert max(counts) == len(first) == MAX_PAGES
    assert taken == [f"{BASE}/", f"{BASE}/s1", f"{BASE}/s2"]


def test_a_link_to_a_page_given_back_takes_its_place(client: redis.Redis) -> None:
    """A link straight to the URL a redirect led to, once its page was given back, takes it
    in the place it kept, even with the scan full; the redirect followed again then finds
    it seen (the page is stored under its own request): once, and never past max_pages."""
    first, second, third = workers(client, "first", "second", "third")
    for url in (f"{BASE}/", f"{BASE}/a", f"{BASE}/b", f"{BASE}/s1"):
        assert first.take(url, MAX_PAGES) == TAKEN
    assert first.mark_redirected(f"{BASE}/s1/")
    first.give_back(f"{BASE}/s1/")
    assert second.take(f"{BASE}/s1/", MAX_PAGES) == TAKEN
    assert third.take(f"{BASE}/c", MAX_PAGES) == FULL
    assert not third.mark_redirected(f"{BASE}/s1/")
    assert len(first) == MAX_PAGES


def test_a_redirect_never_marks_over_a_url_another_worker_took(client: redis.Redis) -> None:
    """The redirect's check and mark are one step: a URL another worker has just taken is
    not marked done over its take (then given back for it, and taken a second time)."""
    first, second = workers(client, "first", "second")
    assert first.take(f"{BASE}/s1", MAX_PAGES) == TAKEN
    assert second.take(f"{BASE}/s1/", MAX_PAGES) == TAKEN
    assert not first.mark_redirected(f"{BASE}/s1/")
    first.give_back(f"{BASE}/s1/")  # a no-op: the mark is the second worker's take
    assert client.hget(first.key, f"{BASE}/s1/") == b"t:second"
    assert first.take(f"{BASE}/s1/", MAX_PAGES) == SEEN
