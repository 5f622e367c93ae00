"""Whether two databases hold the same scan: every stored row of their latest scans alike.

A change meant only to make scanning faster must leave what a scan stores as it was. Scan
the same site into two databases, one with the code before the change and one after, and
compare them; columns that record when or how long (and the scan's own id) are left out.

    python benchmarks/compare_scans.py before.db after.db
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections import Counter
from pathlib import Path

# The tables a scan writes, each keyed by scan_id.
TABLES = ("pages", "findings", "links", "page_dates", "fetches", "documents", "team_scores")
# When and how long, not what: they differ between any two runs. And a page's depth: the
# depth at which the crawl first reached it, which the order of concurrent responses decides
# (a page linked from the home page three links down and from a sitemap's page one link down
# is stored at either), as Scrapy's own DepthMiddleware does.
VOLATILE = frozenset({"scan_id", "fetched_at", "audited_at", "audit_ms", "first_seen_at", "depth"})


def scan_rows(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """The latest scan's rows of every table, sorted, without the volatile columns."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        scan_id = conn.execute("SELECT max(id) FROM scans").fetchone()[0]
        found = {}
        for table in TABLES:
            columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
            kept = ", ".join(f'"{c}"' for c in columns if c not in VOLATILE)
            rows = conn.execute(f"SELECT {kept} FROM {table} WHERE scan_id = ?", (scan_id,))
            found[table] = sorted(rows, key=repr)
    return found


def differences(before: Path, after: Path) -> list[str]:
    """One line per table whose rows differ (how many each side holds that the other does
    not, and the first of them); nothing when the scans stored the same."""
    old, new = scan_rows(before), scan_rows(after)
    found = []
    for table in TABLES:
        # Counted, not just compared as sets: a row stored twice is a difference too.
        only_old = list((Counter(old[table]) - Counter(new[table])).elements())
        only_new = list((Counter(new[table]) - Counter(old[table])).elements())
        if only_old or only_new:
            first = (only_old or only_new)[0]
            found.append(
                f"{table}: {len(old[table])} rows against {len(new[table])}; "
                f"{len(only_old)} only in the first, {len(only_new)} only in the second, "
                f"such as {repr(first)[:300]}"
            )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args()
    found = differences(args.before, args.after)
    counts = {t: len(rows) for t, rows in scan_rows(args.after).items()}
    if found:
        print("\n".join(found))
        sys.exit(1)
    print("the same rows: " + ", ".join(f"{n} {t}" for t, n in counts.items()))


if __name__ == "__main__":
    main()
