"""What a resumed scan (one machine's, or a shared one whose Redis was lost) takes from the
database: the off-site links of its stored pages whose check left no outcome."""

from __future__ import annotations

from pathlib import Path

from store.database import open_database
from store.resume import unchecked_links
from store.scans import start_scan

SITE = "https://www.example.gov.uk"


def test_off_site_links_without_a_stored_check_are_checked_again(tmp_path: Path) -> None:
    db = open_database(tmp_path / "scan.db")
    scan_id = start_scan(db, SITE + "/")
    other = start_scan(db, SITE + "/")
    db["pages"].insert_all({"scan_id": scan_id, "url": SITE + path} for path in ("/", "/a"))
    links = [
        ("/", "https://checked.example/", 0),  # checked: its fetch is stored
        ("/", "https://under-way.example/", 0),  # its check was under way: no fetch
        ("/a", "https://under-way.example/", 0),  # the same target from another page: once
        ("/", SITE + "/b", 1),  # this site's: a page of the frontier, not a check
        ("/gone", "https://from-no-page.example/", 0),  # from a page not stored
    ]
    db["links"].insert_all(
        {"scan_id": scan_id, "source_url": SITE + source, "target_url": target, "internal": inner}
        for source, target, inner in links
    )
    db["fetches"].insert_all(
        [
            {"scan_id": scan_id, "url": "https://checked.example/", "kind": "external"},
            {"scan_id": other, "url": "https://under-way.example/", "kind": "external"},
        ]
    )
    assert unchecked_links(db, scan_id) == ["https://under-way.example/"]
