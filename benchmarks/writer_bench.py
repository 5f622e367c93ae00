"""The database writer's CPU: a scan's own batches written by sqlite-utils and by ours.

Scans the generated site (`--no-browser`) once, keeping every batch the writer was given,
then writes those batches into new databases `--runs` times each way, alternating, timing
only the writing (process CPU). The old way is sqlite-utils' insert_all per table, as
store/writer.py did before issue 18; both ways must leave the same rows, in the same order.

    python benchmarks/writer_bench.py --pages 500 --runs 5
"""

from __future__ import annotations

import argparse
import pickle
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlite_utils  # noqa: E402

from app.demo import serve_site  # noqa: E402
from benchmarks.compare_scans import TABLES  # noqa: E402
from store import writer  # noqa: E402
from store.database import open_database  # noqa: E402
from store.scans import start_scan  # noqa: E402
from tests.sites.generate import generate_site  # noqa: E402

WriteBatch = Callable[[sqlite_utils.Database, writer.Batch], None]


def sqlite_utils_batch(db: sqlite_utils.Database, batch: writer.Batch) -> None:
    """store/writer.py's write_batch before issue 18."""
    with db.atomic():
        for table, rows in batch.rows.items():
            if table in writer.UPSERT_TABLES:
                db[table].insert_all(rows, replace=True, alter=False)
            elif table in writer.CONTENT_TABLES:
                db[table].insert_all(rows, ignore=True, alter=False)
            else:
                db[table].insert_all(rows, alter=False)


def record(batches_path: Path, argv: list[str]) -> None:
    """Run siteaudit with argv in this process, keeping each batch the writer writes."""
    from app.cli import main

    kept: list[bytes] = []
    write = writer.write_batch

    def keeping(db: sqlite_utils.Database, batch: writer.Batch) -> None:
        kept.append(pickle.dumps(batch.rows))
        write(db, batch)

    writer.write_batch = keeping  # Writer._loop looks it up in the module on each batch
    code = main(argv)
    batches_path.write_bytes(pickle.dumps(kept))
    sys.exit(code)


def scan_batches(pages: int, tmp: Path) -> list[dict]:
    """The batches a `--no-browser` scan of the generated site gives its writer."""
    site, batches = tmp / "site", tmp / "batches.pickle"
    generate_site(site, pages)
    # Keep-alive (HTTP/1.1), as council sites serve; figures before issue 18 used HTTP/1.0.
    with serve_site(site, keep_alive=True) as base:
        scan = ["scan", base + "/", "--no-browser", "--db", str(tmp / "scan.db")]
        command = [sys.executable, __file__, "--record", str(batches), "--", *scan]
        done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"the scan failed ({done.returncode}): {done.stderr[-2000:]}")
    return [pickle.loads(b) for b in pickle.loads(batches.read_bytes())]


def timed_write(write: WriteBatch, batches: list[dict], template: Path, db_path: Path) -> float:
    """CPU seconds to write every batch into a copy of the template (a scan started)."""
    shutil.copy(template, db_path)
    db = open_database(db_path)
    spent = 0.0
    for rows in batches:
        batch = writer.Batch(rows={t: [dict(r) for r in rs] for t, rs in rows.items()})
        started = time.process_time()
        write(db, batch)
        spent += time.process_time() - started
    db.conn.close()
    return spent


def stored_rows(db_path: Path) -> dict[str, list[tuple]]:
    """Every row the scan's tables hold, in rowid order (the order they were written)."""
    with sqlite3.connect(db_path) as conn:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in TABLES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--record", type=Path, help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.record:
        record(args.record, [a for a in rest if a != "--"])
    ways: dict[str, WriteBatch] = {"sqlite-utils": sqlite_utils_batch, "ours": writer.write_batch}
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        batches = scan_batches(args.pages, tmp)
        template = tmp / "template.db"
        start_scan(open_database(template), "http://127.0.0.1/")
        spent: dict[str, list[float]] = {name: [] for name in ways}
        for run in range(args.runs):
            order = list(ways) if run % 2 == 0 else list(reversed(ways))  # A B, B A, ...
            for name in order:
                spent[name].append(timed_write(ways[name], batches, template, tmp / f"{name}.db"))
        same = stored_rows(tmp / "sqlite-utils.db") == stored_rows(tmp / "ours.db")
        counts = {t: len(r) for t, r in stored_rows(tmp / "ours.db").items()}
    rows = sum(len(r) for b in batches for r in b.values())
    print(
        f"{len(batches)} batches, {rows} rows: " + ", ".join(f"{n} {t}" for t, n in counts.items())
    )
    for name, seconds in spent.items():
        shown = ", ".join(f"{s:.3f}" for s in seconds)
        print(f"{name}: CPU s {shown}; median {statistics.median(seconds):.3f}")
    ratio = statistics.median(spent["ours"]) / statistics.median(spent["sqlite-utils"])
    print(f"ours / sqlite-utils: {ratio:.2f}; the same rows in the same order: {same}")


if __name__ == "__main__":
    main()
