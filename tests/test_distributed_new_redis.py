"""A shared scan whose Redis is gone, resumed through another Redis from what the database
holds, its configuration read from its row (docs/scaling.md, "When Redis was lost")."""

from __future__ import annotations

import json
from pathlib import Path

import redis

from tests.conftest import Site, query, run_in_process, run_siteaudit
from tests.redis_server import redis_server
from tests.test_distributed import scan_contents, start_worker, stop
from tests.test_distributed_lifecycle import one_machine_scan, pages_once

PASSWORD = "s3cret-Redis-pass"


def without(url: str) -> str:
    """The test Redis's URL without its password."""
    return url.replace(f":{PASSWORD}@", "")


def test_a_scan_whose_redis_is_gone_is_resumed_through_another(
    demo_site: Site, tmp_path: Path
) -> None:
    """Seeded detached in Redis A (with a password, stored and printed nowhere), A stopped:
    `--resume` through a new, empty Redis B, given no start URL nor configuration, publishes
    the scan again there as its row keeps it, and B's workers finish it: every page stored
    once, the rows a one-machine scan stores."""
    expected = one_machine_scan(demo_site, tmp_path)
    db = tmp_path / "shared.db"
    (tmp_path / "slow.toml").write_text("[site]\ndownload_delay = 0.05\nmax_depth = 9\n")
    with redis_server(PASSWORD) as old:
        seeded = run_siteaudit(
            "scan", demo_site.url(), "--no-browser", "--config", str(tmp_path / "slow.toml"),
            "--db", str(db), "--redis", old, "--redis-lease", "20", "--detach",
        )  # fmt: skip
        assert seeded.returncode == 0, seeded.stderr
        with redis_server() as new:
            # A still answers, and wants its password to say whether it holds the scan.
            asked = run_in_process("scan", "--redis", new, "--resume", "--db", str(db))
    (stored,) = query(db, "SELECT json_extract(config, '$.redis') FROM scans")
    assert json.loads(stored[0]) == {"url": without(old), "lease_seconds": 20.0}
    assert PASSWORD.encode() not in db.read_bytes()
    assert PASSWORD not in seeded.stdout + seeded.stderr
    assert f"{old.replace(PASSWORD, '****')}' --resume" in seeded.stdout  # shell-quoted
    assert (asked.returncode, asked.errors) == (1, [
        f"Error: scan 1 of {demo_site.url()} was seeded in {without(old)}, which answers but "
        "wants a password to say whether it still holds the scan: resume it with --redis "
        f"{without(old)} and its password, or stop that Redis"
    ])  # fmt: skip
    with redis_server() as new:
        client = redis.Redis.from_url(new)
        workers = [start_worker(new, tmp_path / f"worker{i}.log") for i in range(2)]
        try:
            resumed = run_siteaudit("scan", "--redis", new, "--resume", "--db", str(db))
        finally:
            codes = stop(workers)
            left = client.keys("siteaudit:scan:*")
            client.close()
    assert resumed.returncode == 0, resumed.stderr
    assert codes == [0, 0]
    assert (
        f"siteaudit: WARNING: scan 1 of {demo_site.url()} is not in {new}: published again "
        "from the database for the workers (0 pages stored, 0 URLs on its frontier)"
    ) in resumed.stderr
    assert "Scan 1 finished" in resumed.stderr and "Pages: 17 recorded" in resumed.stderr
    assert len(pages_once(db)) == 17
    assert scan_contents(db, demo_site.base) == expected
    # Its row now names the Redis it was finished through; its own settings kept.
    row = query(db, "SELECT status, json_extract(config, '$.redis'), "
                "json_extract(config, '$.site.download_delay') FROM scans")  # fmt: skip
    assert [(s, json.loads(r), d) for s, r, d in row] == [
        ("finished", {"url": new, "lease_seconds": 20.0}, 0.05)
    ]
    assert left == []


def test_resume_through_another_redis_leaves_a_scan_its_own_still_holds(
    demo_site: Site, tmp_path: Path
) -> None:
    """A scan its Redis still holds may be written there by its seeder: --resume through
    another Redis refuses it, saying which; once that Redis has lost it (flushed), the same
    command publishes it again and finishes it."""
    db = tmp_path / "shared.db"
    with redis_server() as old, redis_server() as new:
        seeded = run_siteaudit("scan", demo_site.url(), "--no-browser", "--db", str(db),
                               "--redis", old, "--detach")  # fmt: skip
        assert seeded.returncode == 0, seeded.stderr
        refused = run_in_process("scan", "--redis", new, "--resume", "--db", str(db))
        assert redis.Redis.from_url(new).keys("*") == []  # nothing published there
        redis.Redis.from_url(old).flushall()
        workers = [start_worker(new, tmp_path / "worker.log")]
        try:
            resumed = run_siteaudit("scan", "--redis", new, "--resume", "--db", str(db))
        finally:
            codes = stop(workers)
    assert (refused.returncode, refused.errors) == (1, [
        f"Error: scan 1 of {demo_site.url()} was seeded in {old}, which still holds it (its "
        f"seeder may be writing it): resume it with --redis {old} (and its password, if it "
        "has one)"
    ])  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert codes == [0]
    assert query(db, "SELECT status FROM scans") == [("finished",)]
    assert len(pages_once(db)) == 17


def test_a_redis_password_is_never_printed_in_an_error(tmp_path: Path) -> None:
    """A Redis that does not answer is named in the error line without its password, given
    before the host or as ?password=."""
    for url in (f"redis://:{PASSWORD}@127.0.0.1:9/0", f"redis://127.0.0.1:9/0?password={PASSWORD}"):
        run = run_in_process("scan", "http://127.0.0.1:9/", "--no-browser", "--db",
                             str(tmp_path / "scan.db"), "--redis", url)  # fmt: skip
        assert run.returncode == 1
        assert PASSWORD not in run.errors[0] and "****" in run.errors[0]
        assert "no Redis server answers there" in run.errors[0]
