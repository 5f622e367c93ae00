"""The scans of a --sites file, each finished (after_crawl, its row) as soon as its own crawl
is over while the others go on (docs/scaling.md, "Many sites at once")."""

from __future__ import annotations

import functools
import http.server
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from app.demo import DEMO_SITE, FixtureHandler, serve_site
from crawler.distributed import OPEN_SCANS, ScanKeys
from tests.conftest import SITES, query
from tests.test_distributed import start_worker, stop, wait_for
from tests.test_distributed_lifecycle import kill, seeder

# The big site's page held until the test lets it go: its scan cannot end before.
HELD_PAGE = "/libraries/opening-hours.html"
# How long the page is held at most, should the test fail before letting it go.
HOLD_LIMIT = 180.0


@contextmanager
def held_site(root: Path, path: str, release: threading.Event, log: list[str]) -> Iterator[str]:
    """Serve the folder as serve_site does, the request for `path` answered only once
    release is set; yields the base URL."""

    class Held(FixtureHandler):
        access_log = log

        def send_head(self):  # type: ignore[no-untyped-def]
            if self.path == path:
                release.wait(HOLD_LIMIT)
            return super().send_head()

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Held, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, name="held-site", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def scan_tokens(client: redis.Redis) -> dict[int, ScanKeys]:
    """The open scans' keys, by the id of their row."""
    keys = [ScanKeys(token.decode()) for token in client.smembers(OPEN_SCANS)]
    return {int(client.hget(k.key("state"), "scan_id")): k for k in keys}


def test_a_small_site_is_finished_while_a_big_one_is_still_crawled(
    redis_url: str, tmp_path: Path
) -> None:
    """Two sites in one --sites scan, the big one's crawl unable to end (a page held by its
    server): the small site's scan is finished (its status, its checks across the site)
    while the big one's goes on; then both end, every page stored once."""
    release, big_log = threading.Event(), []
    db = tmp_path / "shared.db"
    client = redis.Redis.from_url(redis_url)
    (tmp_path / "big.toml").write_text("[site]\ntimeout = 300\n")  # the held page waits
    workers = []
    with (
        serve_site(SITES / "dated") as small,
        held_site(DEMO_SITE, HELD_PAGE, release, big_log) as big,
    ):
        (tmp_path / "sites.txt").write_text(f"{small}/\n{big}/ big.toml\n")
        scan = seeder(["--sites", str(tmp_path / "sites.txt"), "--db", str(db), "--redis",
                       redis_url], tmp_path / "seeder.log")  # fmt: skip
        try:
            wait_for(lambda: client.scard(OPEN_SCANS) == 2)
            tokens = scan_tokens(client)
            # Every worker busy elsewhere: the first takes the small site's scan, the next
            # either; none can end the big one's crawl before the test lets its page go.
            client.srem(OPEN_SCANS, tokens[2].token)
            workers.append(start_worker(redis_url, tmp_path / "worker0.log"))
            wait_for(lambda: client.hget(tokens[1].key("state"), "seeded") is not None)
            client.sadd(OPEN_SCANS, tokens[2].token)
            workers.append(start_worker(redis_url, tmp_path / "worker1.log"))
            wait_for(lambda: query(db, "SELECT status FROM scans WHERE id = 1") == [("finished",)],
                     timeout=120)  # fmt: skip
            rows = query(db, "SELECT id, status, finished_at IS NOT NULL FROM scans ORDER BY id")
            # Its checks across the site, run after the crawl: the statement it lacks,
            # its teams' scores.
            statement = query(db, "SELECT count(*) FROM findings WHERE scan_id = 1 AND "
                              "rule_id = 'statement-missing'")  # fmt: skip
            scores = query(db, "SELECT count(*) FROM team_scores WHERE scan_id = 1")
            big_open = client.sismember(OPEN_SCANS, tokens[2].token)
            release.set()
            assert scan.wait(timeout=240) == 0, (tmp_path / "seeder.log").read_text()
        finally:
            release.set()
            kill(scan)
            codes = stop(workers)
            client.close()
    output = (tmp_path / "seeder.log").read_text()
    assert rows == [(1, "finished", 1), (2, "running", 0)], output
    assert statement == [(1,)] and scores != [(0,)]
    assert big_open  # its workers crawl on
    assert codes == [0, 0]
    assert query(db, "SELECT id, status FROM scans ORDER BY id") == [
        (1, "finished"),
        (2, "finished"),
    ]
    # Every page of each site stored once, and the big site's each fetched once.
    counts = query(db, "SELECT scan_id, count(*), count(DISTINCT url) FROM pages GROUP BY 1")
    assert counts == [(1, 6, 6), (2, 17, 17)]
    fetched = Counter(line.split(" ")[1] for line in big_log if line.startswith("GET"))
    pages = [
        url.removeprefix(big) for (url,) in query(db, "SELECT url FROM pages WHERE scan_id = 2")
    ]
    assert [path for path in pages if fetched[path] != 1] == []
    # Each summary printed as its scan was finished: the small site's first.
    assert output.index("Scan 1 finished") < output.index("Scan 2 finished")
