"""A small file cannot use gigabytes: bombs in sitemaps, PDFs, Word files and pages.

Peak memory is measured in a fresh Python process (its VmHWM), with bounds far
below what the old code took and far above what the bounded code needs, so a busy machine
cannot make them flake. The crawl runs the real command against the hostile site.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from audits.document_xml import MAX_ZIP_MEMBERS
from audits.documents import check_document
from crawler.document_sandbox import DocumentSandbox
from tests.conftest import ROOT, query
from tests.hostile import files, serve_hostile

MB = 1024 * 1024


def in_child(code: str, timeout: float = 300) -> tuple[dict, int]:
    """Run code that sets `result` (JSON-able) in a fresh Python: (result, peak RSS in MB)."""
    # VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over from the forking process
    # (the test process itself), while VmHWM belongs to this program's own memory.
    script = (
        f"{code}\nimport json, re\n"
        "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)\n"
        "print(json.dumps([result, int(hwm)]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=timeout
    )
    assert done.returncode == 0, done.stderr
    result, peak_kb = json.loads(done.stdout.strip().splitlines()[-1])
    return result, peak_kb // 1024


# --- Sitemaps --------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_gzip_bomb_sitemap_is_refused_within_bounded_memory() -> None:
    # 250 KB that inflates to 256 MB: gzip.decompress took it all (512 MB at peak).
    result, peak = in_child(
        "import gzip\n"
        "from crawler.sitemaps import sitemap_body\n"
        "from tests.hostile.files import bomb_tail\n"
        "bomb = gzip.compress(b'<urlset>') + bomb_tail()\n"
        "ordinary = gzip.compress(b'<urlset><url><loc>http://x/</loc></url></urlset>')\n"
        "result = [len(bomb), sitemap_body(bomb, 32 * 1024 * 1024),"
        " sitemap_body(ordinary, 32 * 1024 * 1024).decode()]"
    )
    size, bomb, ordinary = result
    assert size < 400_000
    assert bomb is None
    assert ordinary == "<urlset><url><loc>http://x/</loc></url></urlset>"
    assert peak < 150, f"{peak} MB"


@pytest.mark.slow
def test_a_sitemap_of_millions_of_empty_tags_is_refused() -> None:
    # 31 MB of <a/> (30 KB gzipped) took Scrapy's sitemap reader 55 s and 1 GB.
    result, peak = in_child(
        "import gzip\n"
        "from crawler.sitemaps import sitemap_body\n"
        "junk = gzip.compress(b'<urlset>' + b'<a/>' * (31 * 1024 * 1024 // 4), 6)\n"
        "result = sitemap_body(junk, 32 * 1024 * 1024)"
    )
    assert result is None
    assert peak < 200, f"{peak} MB"


# --- Documents, checked in this process's child ---------------------------------------------

REPORT = (
    "import dataclasses, time\n"
    "from audits.documents import check_document\n"
    "from tests.hostile import files\n"
    "data = files.{maker}()\n"
    "start = time.monotonic()\n"
    "report = check_document(data, None, 'bomb.{extension}')\n"
    "result = dict(dataclasses.asdict(report), size=len(data),"
    " seconds=time.monotonic() - start)\n"
)


def checked(maker: str, extension: str) -> tuple[dict, int]:
    return in_child(REPORT.format(maker=maker, extension=extension))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("maker", "title", "has_text"),
    [
        # 1 KB of Flate inside Flate: qpdf inflated it whole (511 MB for 512 MB).
        ("double_flate_pdf", "Double Flate bomb", None),
        # XMP under Flate with DecodeParms: decoded whole, 256 MB.
        ("xmp_chain_pdf", "XMP filter bomb", True),
        # XMP of 2 million empty elements, under the 8 MB part limit: a 250 MB tree.
        ("xmp_elements_pdf", "XMP element bomb", True),
        # 3 million empty strings drawn: 1.5 GB and 35 s as one list of instructions.
        ("empty_text_pdf", "Empty text bomb", None),
    ],
)
def test_pdf_bombs_are_checked_within_bounded_memory(
    maker: str, title: str, has_text: bool | None
) -> None:
    report, peak = checked(maker, "pdf")
    assert report["error"] is None
    assert report["kind"] == "pdf"
    assert report["title"] == title  # the rest of the checks still ran
    assert report["language"] == "en-GB"
    # None: the text layer could not be read within its budget, so no "no text" finding.
    assert report["has_text"] is has_text
    assert "pdf-no-text" not in {issue["rule_id"] for issue in report["issues"]}
    assert peak < 150, f"{peak} MB"  # 45-95 MB here; the old code took 200-1,500 MB
    assert report["seconds"] < 60


@pytest.mark.parametrize(
    ("maker", "title"),
    [
        # 64 MB of <w:p/> (100 KB zipped): the old search kept every element (643 MB, 21 s).
        ("wide_docx", "Wide body bomb"),
        # 8 million nested paragraphs.
        ("deep_docx", "Deep body bomb"),
    ],
)
def test_word_bombs_are_checked_within_bounded_memory(maker: str, title: str) -> None:
    report, peak = checked(maker, "docx")
    assert report["error"] is None
    assert report["title"] == title
    assert report["language"] is None
    assert [issue["rule_id"] for issue in report["issues"]] == ["office-no-language"]
    assert report["size"] < 200_000
    assert peak < 150, f"{peak} MB"
    assert report["seconds"] < 60


def test_a_zip_with_more_parts_than_any_office_file_is_not_opened() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("word/document.xml", b"<w:document/>")
        for number in range(MAX_ZIP_MEMBERS):
            package.writestr(f"p/{number}", b"")
    report = check_document(out.getvalue(), files.DOCX, "many.docx")
    assert report.error == f"the package has more than {MAX_ZIP_MEMBERS:,} parts"


def test_ordinary_documents_are_still_checked() -> None:
    pdf = check_document(files.ordinary_pdf(), files.PDF, "ordinary.pdf")
    assert (pdf.title, pdf.language, pdf.has_text, pdf.error) == (
        "Council tax explained",
        "en-GB",
        True,
        None,
    )
    docx = check_document(files.ordinary_docx(), files.DOCX, "ordinary.docx")
    assert (docx.title, docx.language, docx.issues) == ("Bin collection days", "en-GB", [])


# --- The sandbox -----------------------------------------------------------------------------


def worker_pids(sandbox: DocumentSandbox) -> list[int]:
    return [worker.process.pid for worker in sandbox.running]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_file_over_the_memory_limit_costs_its_own_report_and_worker() -> None:
    # 3 MB whose 1.5 million form fields qpdf holds at once (~300 MB): no decoder cap
    # covers that, so the worker's address-space limit must.
    sandbox = DocumentSandbox(workers=1, memory_mb=128, timeout=120)
    try:
        bomb = sandbox.check(files.fields_array_pdf(), files.PDF, "http://x/fields.pdf")
        assert bomb.kind == "pdf"
        assert bomb.error is not None and "more than 128 MB of memory" in bomb.error
        assert [issue.rule_id for issue in bomb.issues] == ["document-unreadable"]
        # The next file gets a fresh worker and a full check.
        after = sandbox.check(files.ordinary_pdf(), files.PDF, "http://x/ordinary.pdf")
        assert (after.title, after.error) == ("Council tax explained", None)
        pids = worker_pids(sandbox)
        assert len(pids) == 1 and alive(pids[0])
    finally:
        sandbox.close()
    assert not any(alive(pid) for pid in pids)


def test_a_file_over_the_time_limit_is_stopped_and_the_next_one_checked() -> None:
    # The same form takes several seconds to read: half a second is the limit here.
    sandbox = DocumentSandbox(workers=1, memory_mb=2048, timeout=0.5)
    try:
        slow = sandbox.check(files.fields_array_pdf(), files.PDF, "http://x/fields.pdf")
        assert slow.error == (
            "checking it took longer than 0.5 seconds, the limit (documents.timeout), "
            "so it was stopped"
        )
        sandbox.timeout = 60
        after = sandbox.check(files.ordinary_pdf(), files.PDF, "http://x/ordinary.pdf")
        assert (after.title, after.has_text) == ("Council tax explained", True)
        pids = worker_pids(sandbox)
    finally:
        sandbox.close()
    assert not any(alive(pid) for pid in pids)


def test_workers_are_reused_between_files() -> None:
    sandbox = DocumentSandbox(workers=1, memory_mb=512, timeout=60)
    try:
        for _ in range(3):
            report = sandbox.check(files.ordinary_docx(), files.DOCX, "http://x/a.docx")
            assert report.language == "en-GB"
        assert len(sandbox.running) == 1
    finally:
        sandbox.close()


# --- A crawl -------------------------------------------------------------------------------


def sandbox_workers() -> list[int]:
    """Document workers started from this worktree that are still running."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes()
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if b"crawler.document_sandbox" in command and cwd == str(ROOT):
            found.append(int(entry.name))
    return found


def scan_with_peak(*args: str) -> tuple[subprocess.CompletedProcess[str], int]:
    """The real command, run under a small parent that reports the peak RSS (MB) of the
    scan and every process it waited for (its document workers)."""
    wrapper = (
        "import resource, subprocess, sys\n"
        "code = subprocess.run([sys.executable, '-m', 'app.cli', *sys.argv[1:]]).returncode\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024\n"
        "print(f'PEAK {peak}', file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(
        [sys.executable, "-c", wrapper, *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        env=env,
    )
    peak = int(done.stderr.rsplit("PEAK ", 1)[1].split()[0])
    return done, peak


@pytest.mark.slow
def test_a_crawl_records_each_bomb_and_stores_the_ordinary_pages(tmp_path: Path) -> None:
    db = tmp_path / "scan.db"
    config = tmp_path / "files.toml"
    with serve_hostile() as site:
        config.write_text(
            "[site]\n"
            f"max_page_bytes = {files.PAGE_LIMIT}\n"
            f'sitemap_urls = ["{site.url("/files/sitemap.xml.gz")}",'
            f' "{site.url("/files/sitemap-bomb.xml.gz")}"]\n'
            "[documents]\n"
            "max_memory_mb = 200\n"
        )
        result, peak = scan_with_peak(
            "scan", site.url("/files/"), "--db", str(db), "--no-browser", "--config", str(config)
        )
        base = site.base
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "sitemap skipped" in result.stdout + result.stderr

    fetched = dict(query(db, "SELECT url, reason FROM fetches"))
    # Pages over site.max_page_bytes, however they came: chunked, or gzip on the wire.
    assert fetched[f"{base}/files/chunked.html"] == "too-large"
    assert fetched[f"{base}/files/gzip.html"] == "too-large"
    # The bomb sitemap was skipped before it was read; the ordinary one was read.
    assert f"{base}/files/listed-by-bomb.html" not in fetched
    pages = dict(query(db, "SELECT url, reason FROM pages"))
    assert pages[f"{base}/files/ordinary.html"] == "audited"
    assert pages[f"{base}/files/from-sitemap.html"] == "audited"
    assert f"{base}/files/chunked.html" not in pages

    documents = {
        url.rsplit("/", 1)[1]: (title, language, has_text, error)
        for url, title, language, has_text, error in query(
            db, "SELECT url, title, language, has_text, check_error FROM documents"
        )
    }
    assert documents["ordinary.pdf"] == ("Council tax explained", "en-GB", 1, None)
    assert documents["double-flate.pdf"] == ("Double Flate bomb", "en-GB", None, None)
    assert documents["xmp-chain.pdf"] == ("XMP filter bomb", "en-GB", 1, None)
    assert documents["xmp-elements.pdf"] == ("XMP element bomb", "en-GB", 1, None)
    assert documents["empty-text.pdf"] == ("Empty text bomb", "en-GB", None, None)
    assert documents["ordinary.docx"] == ("Bin collection days", "en-GB", None, None)
    assert documents["wide-body.docx"] == ("Wide body bomb", None, None, None)
    assert documents["deep-body.docx"] == ("Deep body bomb", None, None, None)
    error = documents["fields-array.pdf"][3]
    assert error is not None and "more than 200 MB of memory" in error
    # The scan and its workers together, where the old code took gigabytes.
    assert peak < 700, f"{peak} MB"
    assert sandbox_workers() == []
