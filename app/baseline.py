"""siteaudit baseline: write a scan's problems as the CI gate's baseline file."""

from __future__ import annotations

import json as json_module
from pathlib import Path

import click

from app.options import db_option, file_option, scan_id_option, with_options
from app.paths import check_output_file
from reports.data import ReportError
from reports.files import write_atomic
from reports.gate import export_baseline
from store.database import open_database
from store.scans import latest_finished_scan, scan_row


@click.group()
def baseline() -> None:
    """Baselines for the CI gate: the problems a site already has."""


@baseline.command("export")
@with_options(
    db_option("Database of the scan to export."),
    scan_id_option("Scan to export [latest finished one]."),
    file_option(
        "--out", "out_path", "Baseline file to write (JSON, meant to be committed).", required=True
    ),
)
def baseline_export(db_path: str, scan_id: int | None, out_path: str) -> None:
    """Write a scan's problems as a baseline file to commit beside your CI job.

    \b
    Example:
      siteaudit baseline export --db scan.db --out accessibility-baseline.json
    """
    check_output_file(out_path, "--out")
    db = open_database(db_path, create=False)
    scan_id = scan_id or latest_finished_scan(db)
    if scan_id is None:
        raise ReportError(f"{db_path} has no finished scan to export")
    if scan_row(db, scan_id) is None:
        raise ReportError(f"{db_path}: there is no scan {scan_id}; leave out --scan for the latest")
    data = export_baseline(db, scan_id)
    write_atomic(Path(out_path), json_module.dumps(data, indent=1) + "\n")  # never via a symlink
    click.echo(
        f"Wrote {len(data['problems'])} problems from scan {scan_id} to {out_path}", err=True
    )
