"""The hostile site itself serves what its areas define, and records the other host's requests."""

from __future__ import annotations

import urllib.request

from tests.hostile import serve_hostile


def test_home_links_every_area_and_other_host_records_headers() -> None:
    with serve_hostile() as site:
        home = urllib.request.urlopen(site.url("/"), timeout=5).read().decode()
        assert 'href="/example/"' in home
        index = urllib.request.urlopen(site.url("/example/"), timeout=5).read().decode()
        assert "/example/ordinary.html" in index
        request = urllib.request.Request(site.other_url("/x"), headers={"X-Probe": "1"})
        urllib.request.urlopen(request, timeout=5).read()
        assert site.other_requests[0].path == "/x"
        assert site.other_requests[0].headers["X-Probe"] == "1"
