"""A distributed scan's life through failures (docs/scaling.md): the seeding worker killed,
the results stream trimmed as it is written, and a seeder detached or killed, then resumed."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from app.distributed import STATE_LOST, Heartbeat, ended
from app.distributed_resume import shared_scan
from crawler.distributed import (
    OPEN_SCANS,
    PREFIX,
    ScanKeys,
    claim_seeding,
    forget_lost_scan,
    set_state,
)
from store.database import open_database
from tests.conftest import ROOT, Site, query, run_in_process, run_siteaudit
from tests.test_distributed import entries_added, scan_contents, start_worker, stop

# Start URLs that answer 404, so that the seeding worker's start() lasts long enough to be
# stopped in the middle of it (each start request is pushed to Redis on its own).
EXTRA_START_URLS = 300


def seeder(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    """siteaudit scan --redis in the background, in a session of its own."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "app.cli", "scan", "--no-browser", *args],
            stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip


def kill(process: subprocess.Popen[bytes]) -> None:
    """kill -9 the process and every process it started."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def open_scan(client: redis.Redis, timeout: float = 60) -> ScanKeys:
    """The one open scan, once the seeder has published it."""
    deadline = time.monotonic() + timeout
    while (token := client.srandmember(OPEN_SCANS)) is None:
        assert time.monotonic() < deadline, "no scan was published"
        time.sleep(0.02)
    return ScanKeys(token.decode())


def pages_once(db: Path, scan_id: int = 1) -> list[str]:
    """The scan's stored page URLs, asserted each stored once."""
    urls = [url for (url,) in query(db, "SELECT url FROM pages WHERE scan_id = ?", scan_id)]
    assert len(urls) == len(set(urls))
    return sorted(urls)


def test_a_seeding_worker_killed_before_it_is_done_is_replaced(
    redis_url: str, demo_site: Site, tmp_path: Path
) -> None:
    """kill -9 the worker that claimed the seeding in the middle of its start(): once its
    liveness key expires another worker seeds again, and the scan ends with every page once."""
    missing = [demo_site.url(f"/missing/{n}.html") for n in range(EXTRA_START_URLS)]
    config = tmp_path / "many.toml"
    config.write_text(f"[site]\nstart_urls = {[demo_site.url(), *missing]!r}\n")
    db = tmp_path / "shared.db"
    client = redis.Redis.from_url(redis_url)
    scan = seeder(["--config", str(config), "--db", str(db), "--redis", redis_url,
                   "--redis-lease", "3"], tmp_path / "seeder.log")  # fmt: skip
    workers = [start_worker(redis_url, tmp_path / "first.log")]
    try:
        keys = open_scan(client)
        while not (client.hget(keys.key("state"), "seeded") or b"").startswith(b"claimed:"):
            assert workers[0].poll() is None, (tmp_path / "first.log").read_text()
            time.sleep(0.002)
        os.killpg(workers[0].pid, signal.SIGSTOP)  # frozen: what it has seeded stays so
        assert client.hget(keys.key("state"), "seeded") != b"done"
        taken = client.hlen(keys.key("seen"))  # start URLs it got to
        kill(workers[0])
        workers.append(start_worker(redis_url, tmp_path / "second.log"))
        assert scan.wait(timeout=240) == 0, (tmp_path / "seeder.log").read_text()
    finally:
        kill(scan)
        codes = stop(workers[1:])
        client.close()
    assert codes == [0], (tmp_path / "second.log").read_text()
    assert taken < EXTRA_START_URLS  # killed mid-seeding: the rest was seeded again
    assert "Scan 1 finished" in (tmp_path / "seeder.log").read_text()
    assert len(pages_once(db)) == 17
    fetched = query(db, "SELECT url FROM fetches WHERE status_code = 404")
    assert len(fetched) == len(set(fetched)) >= EXTRA_START_URLS


def one_machine_scan(site: Site, tmp_path: Path) -> dict[str, list[tuple]]:
    """What a one-machine --no-browser scan of the site stores."""
    one = run_siteaudit("scan", site.url(), "--no-browser", "--db", str(tmp_path / "one.db"))
    assert one.returncode == 0, one.stderr
    return scan_contents(tmp_path / "one.db", site.base)


def page_with_findings(fields: dict[bytes, bytes]) -> str | None:
    """The URL of the page a stream entry stores, if it stores findings with it."""
    parts = dict(pickle.loads(fields[b"parts"]))
    return parts["pages"][0]["url"] if "pages" in parts and "findings" in parts else None


def test_the_stream_keeps_only_what_is_not_written_and_a_repeat_adds_nothing(
    redis_url: str, demo_site: Site, tmp_path: Path
) -> None:
    """The seeder trims from the stream every entry it has committed; an entry sent twice
    (a page done again after its lease ran out), before its first is committed or after,
    adds no second set of findings or links."""
    expected = one_machine_scan(demo_site, tmp_path)
    slow = tmp_path / "slow.toml"
    slow.write_text("[site]\ndownload_delay = 0.3\n")
    db = tmp_path / "shared.db"
    client = redis.Redis.from_url(redis_url)
    scan = seeder([demo_site.url(), "--config", str(slow), "--db", str(db), "--redis",
                   redis_url], tmp_path / "seeder.log")  # fmt: skip
    workers = [start_worker(redis_url, tmp_path / "worker.log")]
    original: tuple[bytes, dict[bytes, bytes], str] | None = None
    repeated_after = trimmed = False
    longest = added = 0
    try:
        keys = open_scan(client)
        stream, last = keys.key("rows"), b"0-0"
        while scan.poll() is None:
            for _, entries in client.xread({stream: last}, block=100) or []:
                for entry_id, fields in entries:
                    last = entry_id
                    if original is None and (url := page_with_findings(fields)):
                        original = (entry_id, fields, url)
                        client.xadd(stream, fields)  # sent again at once: not yet committed
            if (
                original
                and not repeated_after
                and query(db, "SELECT 1 FROM pages WHERE url = ?", original[2])
            ):
                client.xadd(stream, original[1])  # sent again once it is committed
                repeated_after = True
            if original and repeated_after and not trimmed:
                trimmed = not client.xrange(stream, original[0], original[0])
            longest = max(longest, client.xlen(stream))
            added = max(added, entries_added(client, keys))
        assert scan.returncode == 0, (tmp_path / "seeder.log").read_text()
    finally:
        kill(scan)
        stop(workers)
        client.close()
    assert original is not None and repeated_after
    assert trimmed  # the committed entry left the stream while the scan ran
    assert longest < added / 2, (longest, added)
    assert scan_contents(db, demo_site.base) == expected


def crawl_over(client: redis.Redis, keys: ScanKeys) -> bool:
    """Seeded, nothing on the frontier and nothing leased: the workers have sent everything."""
    state = client.hget(keys.key("state"), "seeded")
    return (
        state == b"done"
        and not client.zcard(keys.key("requests"))
        and not client.zcard(keys.key("leases"))
    )


def detached_scan(redis_url: str, site: Site, db: Path) -> subprocess.CompletedProcess[str]:
    """`siteaudit scan URL --no-browser --redis URL --detach`, which succeeded."""
    detached = run_siteaudit(
        "scan", site.url(), "--no-browser", "--db", str(db), "--redis", redis_url, "--detach"
    )
    assert detached.returncode == 0, detached.stderr
    return detached


def test_a_detached_scan_is_finished_by_resume_as_one_machine_scans_it(
    redis_url: str, demo_site: Site, tmp_path: Path
) -> None:
    expected = one_machine_scan(demo_site, tmp_path)
    db = tmp_path / "shared.db"
    client = redis.Redis.from_url(redis_url)
    detached = detached_scan(redis_url, demo_site, db)
    assert detached.stdout.splitlines() == [
        f"Scan 1 seeded in {db}: the workers crawl it now (siteaudit worker --redis URL).",
        "What they find waits in Redis until this finishes it, once their crawl is over:",
        f"  siteaudit scan --redis {redis_url} --resume --db {db}",
    ]
    assert query(db, "SELECT id, status FROM scans") == [(1, "running")]
    workers = [start_worker(redis_url, tmp_path / f"worker{i}.log") for i in range(2)]
    try:
        keys = open_scan(client)
        deadline = time.monotonic() + 120
        while not crawl_over(client, keys):
            assert time.monotonic() < deadline, "the workers did not finish the crawl"
            time.sleep(0.1)
        # Crawled, and nothing written yet: it all waits in the stream.
        assert query(db, "SELECT count(*) FROM pages") == [(0,)]
        resumed = run_siteaudit("scan", "--redis", redis_url, "--resume", "--db", str(db))
    finally:
        codes = stop(workers)
        client.close()
    assert resumed.returncode == 0, resumed.stderr
    assert codes == [0, 0]
    assert "Scan 1 finished" in resumed.stderr and "Pages: 17 recorded" in resumed.stderr
    assert query(db, "SELECT status FROM scans") == [("finished",)]
    assert scan_contents(db, demo_site.base) == expected


def slow_shared_scan(
    redis_url: str, site: Site, db: Path, worker_log: Path
) -> tuple[subprocess.Popen[str], list[subprocess.Popen[str]]]:
    """A seeder of a scan of the site at 0.3 s between requests (its log seeder.log beside
    the database), and one worker for it."""
    slow = db.parent / "slow.toml"
    slow.write_text("[site]\ndownload_delay = 0.3\n")
    scan = seeder([site.url(), "--config", str(slow), "--db", str(db), "--redis", redis_url],
                  db.parent / "seeder.log")  # fmt: skip
    return scan, [start_worker(redis_url, worker_log)]


def wait_for_pages(
    client: redis.Redis, scan: subprocess.Popen[str], db: Path, count: int, log: Path
) -> None:
    """Until the scan is published (the database has its tables) and count pages written."""
    open_scan(client)
    deadline = time.monotonic() + 120
    while query(db, "SELECT count(*) FROM pages") < [(count,)]:
        assert scan.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "no page was written"
        time.sleep(0.05)


def test_a_seeder_killed_mid_scan_is_resumed_with_every_page_once(
    redis_url: str, demo_site: Site, tmp_path: Path
) -> None:
    """kill -9 the seeder while it writes: --resume reads what is left of the stream (what
    the database may lack), and the scan ends with every page and finding stored once."""
    expected = one_machine_scan(demo_site, tmp_path)
    db = tmp_path / "shared.db"
    scan, workers = slow_shared_scan(redis_url, demo_site, db, tmp_path / "worker.log")
    client = redis.Redis.from_url(redis_url)
    try:
        wait_for_pages(client, scan, db, 3, tmp_path / "seeder.log")
        kill(scan)
        written = query(db, "SELECT count(*) FROM pages")[0][0]
        resumed = run_siteaudit(
            "scan", "--redis", redis_url, "--resume", "--db", str(db), timeout=300
        )
    finally:
        kill(scan)
        codes = stop(workers)
        client.close()
    assert resumed.returncode == 0, resumed.stderr
    assert codes == [0]
    assert written < 17  # killed with pages still to write
    assert "Scan 1 finished" in resumed.stderr and "Pages: 17 recorded" in resumed.stderr
    assert len(pages_once(db)) == 17
    assert scan_contents(db, demo_site.base) == expected


def test_resume_leaves_a_scan_to_the_seeder_finishing_it_and_takes_it_once_it_is_gone(
    redis_url: str, demo_site: Site, tmp_path: Path
) -> None:
    """While a seeder finishes a scan (after_crawl: its claim renewed by its heartbeat, the
    state `finishing`), --resume refuses in one line and changes nothing, so after_crawl never
    runs twice; once that seeder is gone (its claim runs out), --resume finishes the scan."""
    expected = one_machine_scan(demo_site, tmp_path)
    db = tmp_path / "shared.db"
    client = redis.Redis.from_url(redis_url)
    detached_scan(redis_url, demo_site, db)
    workers = [start_worker(redis_url, tmp_path / "worker.log")]
    try:
        keys = open_scan(client)
        deadline = time.monotonic() + 120
        while not crawl_over(client, keys):
            assert time.monotonic() < deadline, "the worker did not finish the crawl"
            time.sleep(0.1)
        state = {k.decode(): v.decode() for k, v in client.hgetall(keys.key("state")).items()}
        scan = shared_scan(client, keys, state)
        assert scan is not None
        # This process plays the seeder in its after-crawl phase, as write_and_finish does:
        # the crawl is over and finished, and its claim is renewed while it finishes.
        scan.status = "finished"
        ended(client, scan)
        with Heartbeat(client, [scan]):
            assert client.hget(keys.key("state"), "status") == b"finishing"
            started = time.monotonic()
            refused = run_siteaudit("scan", "--redis", redis_url, "--resume", "--db", str(db))
            waited = time.monotonic() - started
            untouched = query(db, "SELECT status, (SELECT count(*) FROM pages) FROM scans")
        resumed = run_siteaudit("scan", "--redis", redis_url, "--resume", "--db", str(db))
    finally:
        codes = stop(workers)
        client.close()
    assert refused.returncode == 1
    assert [line for line in refused.stderr.splitlines() if line.startswith("Error:")] == [
        "Error: scan 1 is being finished by the siteaudit scan that seeded it (its crawl is "
        "over; it is running the checks across the site): nothing to resume; once that "
        f"command ends, siteaudit report --db {db} --scan 1 --out FOLDER reports it"
    ]
    assert untouched == [("running", 0)]  # nothing written, nothing finished
    assert waited < 15  # told as soon as the claim was seen renewed, not at the 30 s limit
    assert codes == [0]
    assert resumed.returncode == 0, resumed.stderr
    assert "Scan 1 finished" in resumed.stderr and "Pages: 17 recorded" in resumed.stderr
    assert query(db, "SELECT status FROM scans") == [("finished",)]
    assert scan_contents(db, demo_site.base) == expected


@pytest.mark.parametrize("seeder_alive", [False, True], ids=["killed", "alive"])
def test_a_scan_whose_redis_was_lost_is_resumed_from_the_database(
    redis_url: str, demo_site: Site, tmp_path: Path, seeder_alive: bool
) -> None:
    """Redis flushed part way (restarted without persistence), with the seeder and worker
    killed first, or with them alive (the seeder stops the scan as interrupted, saying why;
    the worker deletes what it wrote under the lost scan's token once it stops):
    --resume with the site's start URL publishes the scan again from the database (its stored
    pages done, their links its frontier), and a worker finishes it: every page stored once,
    the rows a one-machine scan stores."""
    expected = one_machine_scan(demo_site, tmp_path)
    db = tmp_path / "shared.db"
    scan, workers = slow_shared_scan(redis_url, demo_site, db, tmp_path / "first.log")
    slow = tmp_path / "slow.toml"  # its configuration, which --resume is given again
    client = redis.Redis.from_url(redis_url)
    try:
        wait_for_pages(client, scan, db, 4, tmp_path / "seeder.log")
        lost = open_scan(client)
        if seeder_alive:
            client.flushall()
            assert scan.wait(timeout=120) == 1
            assert stop(workers[:1]) == [0]  # it found its scan gone
        else:
            kill(workers[0])
            kill(scan)
            client.flushall()
        stored = set(pages_once(db))
        before = len(demo_site.access_log)
        with_browser = run_in_process(
            "scan", demo_site.url(), "--config", str(slow), "--redis", redis_url, "--resume",
            "--db", str(db),
        )  # fmt: skip
        workers.append(start_worker(redis_url, tmp_path / "second.log"))
        resumed = run_siteaudit(
            "scan", demo_site.url(), "--no-browser", "--config", str(slow), "--redis",
            redis_url, "--resume", "--db", str(db), timeout=300,
        )  # fmt: skip
        codes = stop(workers[1:])
        # Nothing of the lost scan is left behind (a worker alive wrote on for a while).
        left = client.keys(f"{PREFIX}{lost.token}:*")
    finally:
        for process in (scan, *workers):
            kill(process)
        client.close()
    assert (with_browser.returncode, with_browser.errors) == (1, [
        f"Error: scan 1 of {demo_site.url()} was started without the browser, and resumes as "
        "it started: give --no-browser"
    ])  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert codes == [0], (tmp_path / "second.log").read_text()
    assert len(stored) >= 4  # stopped part way (a worker alive goes on with what it holds)
    if seeder_alive:
        assert (tmp_path / "seeder.log").read_text().splitlines()[-1] == f"Error: {STATE_LOST}"
    assert (
        f"siteaudit: WARNING: scan 1 of {demo_site.url()} is not in {redis_url}: published "
        f"again from the database for the workers ({len(stored)} pages stored, "
    ) in resumed.stderr
    assert "Scan 1 finished" in resumed.stderr and "Pages: 17 recorded" in resumed.stderr
    assert query(db, "SELECT id, status FROM scans") == [(1, "finished")]
    assert len(pages_once(db)) == 17
    # The pages stored before were not fetched again (robots.txt and the sitemap are: the
    # seeding is done again, as by a one-machine --resume).
    asked = {line.split(" ", 1)[1] for line in demo_site.access_log[before:]}
    assert asked and not asked & {url.removeprefix(demo_site.base) for url in stored}
    assert scan_contents(db, demo_site.base) == expected
    assert left == []


def test_a_worker_never_makes_again_the_state_redis_lost(redis_url: str) -> None:
    """The writes that would make a lost scan's state again (the seeding's claim and its end,
    the browsers' fields) are made only while it exists; a worker closing its crawl of a
    lost scan deletes what it wrote under its token."""
    client = redis.Redis.from_url(redis_url)
    keys = ScanKeys("lost")
    try:
        assert not claim_seeding(client, keys, "w1")
        set_state(client, keys, {"seeded": "done"})
        set_state(client, keys, {"axe_version": "4.14.1"}, only_new=True)
        assert not client.exists(keys.key("state"))
        client.hset(keys.key("seen"), "http://example.org/", "d")  # written after the loss
        forget_lost_scan(client, keys)
        assert client.keys(f"{PREFIX}lost:*") == []
        client.hset(keys.key("state"), "status", "running")
        assert claim_seeding(client, keys, "w1")
        set_state(client, keys, {"axe_version": "4.14.1", "sandboxed": 1}, only_new=True)
        set_state(client, keys, {"axe_version": "4.0.0"}, only_new=True)  # the first's stays
        set_state(client, keys, {"seeded": "done"})
        forget_lost_scan(client, keys)  # not lost: kept
        assert client.hgetall(keys.key("state")) == {
            b"status": b"running", b"seeded": b"done", b"axe_version": b"4.14.1",
            b"sandboxed": b"1",
        }  # fmt: skip
    finally:
        client.delete(*keys.all)
        client.close()


def test_a_scan_published_again_keeps_the_lease_it_was_seeded_with(
    redis_url: str, demo_site: Site, tmp_path: Path
) -> None:
    """--redis-lease was only in Redis: a scan published again after Redis was lost takes it
    from its row (scans.config), so its workers lease its requests as its seeder said."""
    db = tmp_path / "shared.db"
    client = redis.Redis.from_url(redis_url)
    seeded = run_siteaudit("scan", demo_site.url(), "--no-browser", "--db", str(db), "--redis",
                           redis_url, "--redis-lease", "7", "--detach")  # fmt: skip
    assert seeded.returncode == 0, seeded.stderr
    assert client.hget(open_scan(client).key("state"), "lease_seconds") == b"7.0"
    client.flushall()
    resumed = seeder([demo_site.url(), "--redis", redis_url, "--resume", "--db", str(db)],
                     tmp_path / "resumed.log")  # fmt: skip
    workers: list[subprocess.Popen[bytes]] = []
    try:
        keys = open_scan(client)
        lease = client.hget(keys.key("state"), "lease_seconds")
        workers.append(start_worker(redis_url, tmp_path / "worker.log"))
        # A request leased by the worker is due back on the frontier 7 s on, not 60 s.
        deadline = time.monotonic() + 60
        while not (leased := client.zrange(keys.key("leases"), 0, 0, withscores=True)):
            assert time.monotonic() < deadline, "the worker leased nothing"
            time.sleep(0.005)
        redis_now = float("{}.{:06d}".format(*client.time()))
        assert resumed.wait(timeout=240) == 0, (tmp_path / "resumed.log").read_text()
    finally:
        kill(resumed)
        codes = stop(workers)
        client.close()
    assert lease == b"7.0"
    assert 0 < leased[0][1] - redis_now <= 7
    assert codes == [0]
    assert "Scan 1 finished" in (tmp_path / "resumed.log").read_text()
    assert len(pages_once(db)) == 17


def test_bad_combinations_of_the_lifecycle_options_are_one_error_line(
    redis_url: str, tmp_path: Path
) -> None:
    db = tmp_path / "empty.db"
    open_database(db).conn.close()
    site = "http://127.0.0.1:9/"
    cases = {
        ("scan", site, "--no-browser", "--detach"): "Error: --detach works only with --redis "
        "URL (a scan shared with siteaudit workers): add --redis, or leave out --detach",
        ("scan", site, "--redis", redis_url, "--detach", "--resume"): "Error: --detach seeds "
        "a new scan and returns, --resume finishes one: give one of them",
        ("scan", site, "--redis", redis_url, "--detach", "--report", str(tmp_path)): "Error: "
        "--report with --detach: the scan is not done when this command returns; give "
        "--report to the siteaudit scan --redis URL --resume --db FILE that finishes it",
        ("scan", "--redis", redis_url, "--resume", "--db", str(db)): f"Error: no running scan "
        f"of {db} is in {redis_url}: nothing to resume (only a scan seeded with --redis and "
        "not yet finished is; if Redis lost it, give its start URL or --sites to crawl on "
        "from the database); scan without --resume",
        ("scan", site, "--redis", redis_url, "--resume", "--db", str(db)): f"Error: no running "
        f"scan of {site} of {db} is in {redis_url} or left unfinished in the database: "
        "nothing to resume; scan without --resume",
        ("scan", "--redis", redis_url, "--resume", "--redis-lease", "5", "--db", str(db)):
        "Error: --redis-lease with --resume: a scan keeps the lease it was seeded with; leave "
        "out --redis-lease",
    }  # fmt: skip
    for args, error in cases.items():
        run = run_in_process(*args)
        assert (run.returncode, run.errors) == (1, [error]), args
    assert query(db, "SELECT count(*) FROM scans") == [(0,)]
