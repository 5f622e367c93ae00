"""Bad input gets one clear line naming what is wrong and how to fix it, and exit code 1.

Input refused before a crawl starts is tested in-process (click's CliRunner isolation),
most with a database holding an earlier scan that must come out unchanged; a start URL
that cannot be fetched runs the command in a subprocess, as Scrapy's reactor starts once
per process.
"""

from __future__ import annotations

import hashlib
import json
import socket
import sqlite3
from pathlib import Path

import pytest

from store.database import open_database
from store.scans import finish_scan, start_scan
from tests.conftest import Site, query, run_in_process, run_siteaudit

PASSWORD = "pw-s3cret-41"
siteaudit = run_in_process


@pytest.fixture
def earlier(tmp_path: Path) -> Path:
    """A database with one finished scan in it."""
    path = tmp_path / "earlier.db"
    db = open_database(path)
    scan_id = start_scan(db, "https://www.example.gov.uk/", config="{}")
    finish_scan(db, scan_id, "finished")
    db.close()
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def refused(db: Path, *args: str, stdin: bytes | None = None) -> str:
    """Run with --db, check exit 1, one Error: line, the database untouched; the line."""
    before = digest(db)
    run = siteaudit(*args, "--db", str(db), stdin=stdin)
    assert run.returncode == 1, run.stdout + run.stderr
    assert len(run.errors) == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert digest(db) == before
    assert query(db, "SELECT count(*) FROM scans") == [(1,)]
    return run.errors[0]


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("Error:")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_start_url(tmp_path: Path) -> None:
    db = tmp_path / "scan.db"
    url = f"http://127.0.0.1:{free_port()}/"
    result = run_siteaudit("scan", url, "--db", str(db), "--no-browser")
    assert result.returncode == 1
    (line,) = error_lines(result.stderr)
    assert line.startswith(f"Error: could not fetch {url}: ") and "refused" in line.lower()
    assert query(db, "SELECT status, message FROM scans")[0][0] == "failed"


def test_database_path_that_cannot_be_written(tmp_path: Path, council_site: Site) -> None:
    db = tmp_path / "missing-folder" / "scan.db"
    result = siteaudit("scan", council_site.url("/"), "--db", str(db), "--no-browser")
    assert result.returncode == 1
    (line,) = result.errors
    assert str(db) in line and "does not exist" in line


def test_missing_browser_is_one_line(tmp_path: Path, council_site: Site) -> None:
    config = tmp_path / "site.toml"
    config.write_text('[audit]\nchromium = "/nonexistent/chromium"\n')
    result = siteaudit(
        "scan", council_site.url("/"), "--config", str(config), "--db", str(tmp_path / "scan.db")
    )
    assert result.returncode == 1
    (line,) = result.errors
    assert "Chromium not found at /nonexistent/chromium" in line and "apt-get install" in line


def test_database_from_a_newer_siteaudit_is_refused(tmp_path: Path, council_site: Site) -> None:
    db = tmp_path / "future.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 99")
    result = siteaudit("scan", council_site.url("/"), "--db", str(db), "--no-browser")
    assert result.returncode == 1
    (line,) = result.errors
    assert "written by a newer siteaudit (schema 99" in line and "upgrade siteaudit" in line
    with sqlite3.connect(db) as conn:  # nothing was changed in it
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 99
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0


def test_database_path_that_cannot_be_opened(council_site: Site) -> None:
    # /proc refuses new files even to root, unlike a chmod'ed folder.
    result = siteaudit("scan", council_site.url("/"), "--db", "/proc/self/scan.db", "--no-browser")
    assert result.returncode == 1
    (line,) = result.errors
    assert line.startswith("Error: /proc/self/scan.db: cannot use this database")


def test_dns_failure_is_one_line(tmp_path: Path) -> None:
    result = run_siteaudit(
        "scan", "http://no-such-council.invalid/", "--db", str(tmp_path / "scan.db"), "--no-browser"
    )
    assert result.returncode == 1
    (line,) = error_lines(result.stderr)
    assert line.startswith("Error: could not fetch http://no-such-council.invalid/: ")
    assert "DNS" in line


def test_resume_with_nothing_to_resume_is_one_line(tmp_path: Path) -> None:
    result = siteaudit(
        "scan", "http://127.0.0.1:9/", "--db", str(tmp_path / "x.db"), "--resume", "--no-browser"
    )
    assert result.returncode == 1
    assert "Error: no interrupted scan of http://127.0.0.1:9/ to resume" in result.stderr


def test_check_usage_errors_are_exit_1() -> None:
    assert siteaudit("check").returncode == 1
    assert siteaudit("check", "--fail-on", "bad", "http://x/").returncode == 1
    assert siteaudit("check", "not-a-url").returncode == 1


def test_check_help_documents_the_exit_codes() -> None:
    result = siteaudit("check", "--help")
    assert "2 the gate failed" in " ".join(result.stdout.split())


def test_not_a_url(earlier: Path) -> None:
    assert refused(earlier, "scan", "www.example.gov.uk") == (
        "Error: start URL: 'www.example.gov.uk' is not an absolute http(s) URL; "
        "give it as https://www.example.gov.uk/"
    )


@pytest.mark.parametrize(
    ("url", "why"),
    [("http://[::1", "Invalid IPv6 URL"), ("http://example.gov.uk:99999/", "Port out of range")],
)
def test_a_url_python_cannot_parse(earlier: Path, url: str, why: str) -> None:
    line = refused(earlier, "scan", url)
    assert line.startswith(f"Error: start URL: {url!r} is not a valid URL (")
    assert why in line and line.endswith("give it as https://www.example.gov.uk/")


def test_invalid_config_names_file_key_and_fix(tmp_path: Path, earlier: Path) -> None:
    config = tmp_path / "site.toml"
    config.write_text('[[teams]]\nname = "Waste"\npaths = ["bins"]\n')
    assert refused(earlier, "scan", "http://127.0.0.1:1/", "--config", str(config)) == (
        f'Error: {config}: teams[0].paths must be a list of paths starting with "/"'
    )


def test_unknown_config_key_suggests_the_right_one(tmp_path: Path, earlier: Path) -> None:
    config = tmp_path / "site.toml"
    config.write_text("[site]\nmax_page = 10\n")
    assert refused(earlier, "scan", "http://127.0.0.1:1/", "--config", str(config)) == (
        f"Error: {config}: unknown key site.max_page; did you mean site.max_pages?"
    )


def test_usage_error_exits_1_not_2() -> None:
    run = siteaudit("scan", "--no-such-option")
    assert run.returncode == 1
    assert "No such option" in run.stderr


def test_config_that_is_not_utf8(tmp_path: Path, earlier: Path) -> None:
    config = tmp_path / "site.toml"
    config.write_bytes('[ownership]\ndefault_team = "Caf\u00e9"\n'.encode("latin-1"))
    assert refused(earlier, "scan", "http://127.0.0.1:1/", "--config", str(config)) == (
        f"Error: {config}: not UTF-8 text (byte 31); save it as UTF-8"
    )


@pytest.mark.parametrize(
    ("setting", "line"),
    [
        ("[site]\ntimeout = -1", "site.timeout must be a positive number of seconds, not -1.0"),
        (
            "[site]\nmax_minutes = nan",
            "site.max_minutes must be a number of minutes, 0 (no limit) or more, not nan",
        ),
        (
            "[site]\ndownload_delay = inf",
            "site.download_delay must be a number of seconds, 0 or more, not inf",
        ),
        ("[site]\nconcurrency_per_host = 0", "site.concurrency_per_host must be at least 1, not 0"),
        ("[site]\nmax_pages = 1.5", "site.max_pages must be a whole number, not 1.5"),
        ("[links]\ntimeout = 0", "links.timeout must be a positive number of seconds, not 0.0"),
        (
            "[documents]\nmax_bytes = -5",
            "documents.max_bytes must be a number of bytes, at least 1, not -5",
        ),
        (
            "[email]\nsmtp_port = 70000",
            "email.smtp_port must be a port number from 1 to 65535, not 70000",
        ),
        (
            '[[freshness.rules]]\npaths = ["/news/"]\nmax_age_months = nan',
            "freshness.rules[0].max_age_months must be a number, 0 or more",
        ),
        (
            "[readability]\nmax_reading_age = -inf",
            "readability.max_reading_age must be a positive reading age, e.g. 9, not -inf",
        ),
    ],
)
def test_numbers_out_of_range_in_config(
    tmp_path: Path, earlier: Path, setting: str, line: str
) -> None:
    config = tmp_path / "site.toml"
    config.write_text(setting + "\n")
    assert refused(earlier, "scan", "http://127.0.0.1:1/", "--config", str(config)) == (
        f"Error: {config}: {line}"
    )


@pytest.mark.parametrize(
    ("option", "value", "line"),
    [
        (
            "--max-minutes",
            "nan",
            "--max-minutes must be a number of minutes, 0 (no limit) or more, not nan",
        ),
        (
            "--max-minutes",
            "inf",
            "--max-minutes must be a number of minutes, 0 (no limit) or more, not inf",
        ),
        (
            "--max-minutes",
            "-1",
            "--max-minutes must be a number of minutes, 0 (no limit) or more, not -1.0",
        ),
        ("--page-timeout", "0", "--page-timeout must be a positive number of seconds, not 0.0"),
        ("--page-timeout", "nan", "--page-timeout must be a positive number of seconds, not nan"),
        ("--max-pages", "0", "--max-pages must be at least 1, not 0"),
        ("--browsers", "-2", "--browsers must be 0 (one per core) or more, not -2"),
    ],
)
def test_numbers_out_of_range_on_the_command_line(
    earlier: Path, option: str, value: str, line: str
) -> None:
    assert refused(earlier, "scan", "http://127.0.0.1:1/", option, value) == f"Error: {line}"


def test_user_agent_on_two_lines(earlier: Path) -> None:
    assert refused(earlier, "scan", "http://127.0.0.1:1/", "--user-agent", "a\r\nX-Evil: 1") == (
        "Error: --user-agent has a control character (a line break?); give it on one line"
    )


def test_check_options_out_of_range(earlier: Path) -> None:
    assert refused(earlier, "check", "http://127.0.0.1:1/", "--page-timeout", "-inf") == (
        "Error: --page-timeout must be a positive number of seconds, not -inf"
    )


CREDENTIALS_FIX = (
    "has a user name or password in it; remove it, set [auth] basic_user and put the "
    "password in the environment variable named by auth.basic_password_env "
    "(default SITEAUDIT_BASIC_PASSWORD)"
)


def test_credentials_in_a_start_url_are_refused(tmp_path: Path, earlier: Path) -> None:
    url = f"https://audit:{PASSWORD}@www.example.gov.uk/"
    hidden = "'https://***@www.example.gov.uk/'"
    assert refused(earlier, "scan", url) == f"Error: start URL: {hidden} {CREDENTIALS_FIX}"
    config = tmp_path / "site.toml"
    config.write_text(f'[site]\nstart_urls = ["{url}"]\n')
    assert refused(earlier, "scan", "--config", str(config)) == (
        f"Error: {config}: site.start_urls: {hidden} {CREDENTIALS_FIX}"
    )
    assert refused(earlier, "check", url) == f"Error: URL to check: {hidden} {CREDENTIALS_FIX}"
    urls = tmp_path / "urls.txt"
    urls.write_text(url + "\n")
    assert refused(earlier, "check", "--urls", str(urls)) == (
        f"Error: URL to check: {hidden} {CREDENTIALS_FIX}"
    )
    assert PASSWORD not in json.dumps(query(earlier, "SELECT * FROM scans"))


def test_url_list_that_is_not_utf8(tmp_path: Path, earlier: Path) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_bytes(b"https://www.example.gov.uk/caf\xe9\n")
    assert refused(earlier, "check", "--urls", str(urls)) == (
        f"Error: {urls}: not UTF-8 text (byte 30); save it as UTF-8"
    )
    assert refused(earlier, "check", "--urls", "-", stdin=b"https://x.gov.uk/\xff\n") == (
        "Error: --urls -: standard input is not UTF-8 text (byte 17); send UTF-8"
    )


def test_waivers_that_are_not_utf8(tmp_path: Path, earlier: Path) -> None:
    waivers = tmp_path / "waivers.toml"
    waivers.write_bytes(b'[[waiver]]\nreason = "Caf\xe9"\n')
    assert refused(earlier, "check", "http://127.0.0.1:1/", "--waivers", str(waivers)) == (
        f"Error: {waivers}: not UTF-8 text (byte 24); save it as UTF-8"
    )


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ("waiver = 1", "waiver must be an array of tables ([[waiver]])"),
        (
            '[[waiver]]\nfingerprint = 12\nreason = "r"\napproved_by = "a"\nexpires = 2030-01-01',
            'waiver[0].fingerprint must be a string in quotes, e.g. fingerprint = "..."',
        ),
    ],
)
def test_waivers_of_the_wrong_shape(tmp_path: Path, earlier: Path, content: str, line: str) -> None:
    waivers = tmp_path / "waivers.toml"
    waivers.write_text(content + "\n")
    assert refused(earlier, "check", "http://127.0.0.1:1/", "--waivers", str(waivers)) == (
        f"Error: {waivers}: {line}"
    )


@pytest.mark.parametrize("rules", ["5", '"color-contrast"', "[1, 2]", '{"a": 1}'])
def test_baseline_whose_axe_rules_are_not_a_list(tmp_path: Path, earlier: Path, rules: str) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(f'{{"siteaudit_baseline": 1, "problems": [], "axe_rules": {rules}}}')
    assert refused(earlier, "check", "http://127.0.0.1:1/", "--baseline", str(baseline)) == (
        f"Error: {baseline}: not a valid baseline file (axe_rules is not a list of rule ids); "
        "write it again with siteaudit baseline export"
    )


@pytest.mark.parametrize(
    "content", ["[1]", '{"siteaudit_baseline": 1, "problems": [{"page": ["/"], "fingerprint": 1}]}']
)
def test_baseline_of_the_wrong_shape(tmp_path: Path, earlier: Path, content: str) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(content)
    line = refused(earlier, "check", "http://127.0.0.1:1/", "--baseline", str(baseline))
    assert line.startswith(f"Error: {baseline}: not a valid baseline file (")


@pytest.mark.parametrize("option", ["--junit", "--sarif", "--markdown"])
def test_check_outputs_are_checked_before_the_scan(
    tmp_path: Path, earlier: Path, option: str
) -> None:
    # Port 1 refuses connections: had the scan run, the error would be a fetch failure.
    missing = tmp_path / "no-such-folder" / "out.xml"
    assert refused(earlier, "check", "http://127.0.0.1:1/", option, str(missing)) == (
        f"Error: {option} {missing}: folder {missing.parent} does not exist; create it first"
    )
    # /proc refuses new files even to root, unlike a chmod'ed folder.
    line = refused(earlier, "check", "http://127.0.0.1:1/", option, "/proc/self/out.xml")
    assert line.startswith(f"Error: {option} /proc/self/out.xml: cannot be written (")


def test_report_folder_that_cannot_be_written(tmp_path: Path, earlier: Path) -> None:
    line = refused(earlier, "report", "--out", "/proc/self/report")
    assert line.startswith("Error: --out /proc/self/report: cannot write there (")
    assert line.endswith("give a folder you can write to")
    line = refused(earlier, "scan", "http://127.0.0.1:1/", "--report", "/proc/self/report")
    assert line.startswith("Error: --report /proc/self/report: cannot write there (")


def test_baseline_export_that_cannot_be_written(earlier: Path) -> None:
    line = refused(earlier, "baseline", "export", "--out", "/proc/self/baseline.json")
    assert line.startswith("Error: --out /proc/self/baseline.json: cannot be written (")


def test_baseline_export_of_a_scan_that_is_not_there(tmp_path: Path, earlier: Path) -> None:
    out = tmp_path / "baseline.json"
    assert refused(earlier, "baseline", "export", "--scan", "77", "--out", str(out)) == (
        f"Error: {earlier}: there is no scan 77; leave out --scan for the latest"
    )
    assert not out.exists()
