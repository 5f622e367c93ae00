"""The commands of the UK public-sector pack: draft the statement's non-accessible content
from a scan, and choose (and retest) a sample of pages for a test by hand."""

from __future__ import annotations

from pathlib import Path

import click

from app.options import db_option, file_option, scan_id_option, with_options
from app.paths import check_output_file
from reports.changes import ReportError
from reports.files import write_atomic
from store.database import open_database

DRAFT_FORMATS = (".md", ".html", ".htm")
SAMPLE_FORMATS = (".html", ".htm", ".csv")


def checked_out(out_path: str | None, formats: tuple[str, ...]) -> Path | None:
    """--out as a path with a known extension in a folder that can be written, or None."""
    if out_path is None:
        return None
    out = Path(out_path)
    if out.suffix.lower() not in formats:
        raise ReportError(
            f"--out {out_path}: unknown format {out.suffix or '(no extension)'}; "
            f"end the file name in {', '.join(formats)}"
        )
    check_output_file(out_path, "--out")
    return out


def write_output(out: Path, text: str, what: str) -> None:
    try:
        write_atomic(out, text)
    except OSError as err:
        raise ReportError(
            f"--out {out}: cannot write it ({err.strerror or err}); give a file you can write"
        ) from None
    click.echo(f"Wrote {what} to {out}", err=True)


@click.command()
@with_options(
    db_option("The database the scan was written to."),
    scan_id_option("Scan to draft from [the latest finished one]."),
    file_option(
        "--out", "out_path", "File to write: .md for Markdown, .html for HTML.", required=True
    ),
)
def statement(db_path: str, scan_id: int | None, out_path: str) -> None:
    """Draft the accessibility statement's "Non-accessible content" section from a scan.

    \b
    Examples:
      siteaudit statement --db scan.db --out statement.md
      siteaudit statement --db scan.db --out statement.html --scan 12

    One entry per failing WCAG success criterion (what fails, how many pages, examples),
    failing documents and whether the 2018 exemption covers them, places to fill in for
    disproportionate burden, and the scan's date. A person must edit it before publishing;
    it says so at the top.
    """
    from reports.statement import load_draft, render_draft

    out = checked_out(out_path, DRAFT_FORMATS)
    assert out is not None  # --out is required
    draft = load_draft(open_database(db_path, create=False), scan_id)
    write_output(out, render_draft(draft, out), f"the draft statement from scan {draft.scan_id}")


@click.command()
@with_options(
    db_option("The database the scan was written to."),
    scan_id_option(
        "Scan to sample [the latest finished one]; with --retest, the scan to retest in "
        "[the latest finished one of the same site]."
    ),
    file_option("--out", "out_path", "File to write: .html or .csv [a table on standard output]."),
    click.option(
        "--retest",
        "retest_scan",
        type=int,
        metavar="SCAN_ID",
        help="Retest the sample of this earlier scan: its pages' failing criteria now, "
        "fixed, still failing or new.",
    ),
)
def sample(
    db_path: str, scan_id: int | None, out_path: str | None, retest_scan: int | None
) -> None:
    """Choose pages for a test by hand as the public-sector monitoring does, or retest them.

    \b
    Examples:
      siteaudit sample --db scan.db
      siteaudit sample --db scan.db --out sample.html
      siteaudit sample --db scan.db --retest 12 --out retest.csv

    The home page, the contact page, the accessibility statement, a page of each
    top-level section and of each layout, a form and a service's start page, a page
    linking a document and one with media, each with why it was chosen and the WCAG 2.1
    AA criteria to test by hand on it (needs review, or no automatic check covers them).
    """
    from reports.sample import load_retest, load_sample
    from reports.sample_output import render_sample

    out = checked_out(out_path, SAMPLE_FORMATS)
    db = open_database(db_path, create=False)
    if retest_scan is not None:
        retest = load_retest(db, retest_scan, scan_id)
        chosen, what = retest.sample, f"the retest of scan {retest_scan}'s sample"
    else:
        retest, chosen = None, load_sample(db, scan_id)
        what = f"a sample of {len(chosen.pages)} pages"
    text = render_sample(chosen, retest, out)
    if out is None:
        click.echo(text, nl=False)
    else:
        write_output(out, text, what)
