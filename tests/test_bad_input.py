"""Bad input gets one clear line naming what is wrong and how to fix it, and exit code 1."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.conftest import Site, query, run_siteaudit


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


def test_not_a_url(tmp_path: Path) -> None:
    result = run_siteaudit("scan", "www.example.gov.uk", "--db", str(tmp_path / "x.db"))
    assert result.returncode == 1
    assert error_lines(result.stderr) == [
        "Error: start URL: 'www.example.gov.uk' is not an absolute http(s) URL; "
        "give it as https://www.example.gov.uk/"
    ]


def test_invalid_config_names_file_key_and_fix(tmp_path: Path) -> None:
    config = tmp_path / "site.toml"
    config.write_text('[[teams]]\nname = "Waste"\npaths = ["bins"]\n')
    result = run_siteaudit("scan", "http://127.0.0.1:1/", "--config", str(config))
    assert result.returncode == 1
    assert error_lines(result.stderr) == [
        f'Error: {config}: teams[0].paths must be a list of paths starting with "/"'
    ]


def test_unknown_config_key_suggests_the_right_one(tmp_path: Path) -> None:
    config = tmp_path / "site.toml"
    config.write_text("[site]\nmax_page = 10\n")
    result = run_siteaudit("scan", "http://127.0.0.1:1/", "--config", str(config))
    assert result.returncode == 1
    assert error_lines(result.stderr) == [
        f"Error: {config}: unknown key site.max_page; did you mean site.max_pages?"
    ]


def test_database_path_that_cannot_be_written(tmp_path: Path, council_site: Site) -> None:
    db = tmp_path / "missing-folder" / "scan.db"
    result = run_siteaudit("scan", council_site.url("/"), "--db", str(db), "--no-browser")
    assert result.returncode == 1
    (line,) = error_lines(result.stderr)
    assert str(db) in line and "does not exist" in line


def test_usage_error_exits_1_not_2() -> None:
    result = run_siteaudit("scan", "--no-such-option")
    assert result.returncode == 1
    assert "No such option" in result.stderr


def test_missing_browser_is_one_line(tmp_path: Path, council_site: Site) -> None:
    config = tmp_path / "site.toml"
    config.write_text('[audit]\nchromium = "/nonexistent/chromium"\n')
    result = run_siteaudit(
        "scan", council_site.url("/"), "--config", str(config), "--db", str(tmp_path / "scan.db")
    )
    assert result.returncode == 1
    (line,) = error_lines(result.stderr)
    assert "Chromium not found at /nonexistent/chromium" in line and "apt-get install" in line


def test_database_from_a_newer_siteaudit_is_refused(tmp_path: Path, council_site: Site) -> None:
    import sqlite3

    db = tmp_path / "future.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 99")
    result = run_siteaudit("scan", council_site.url("/"), "--db", str(db), "--no-browser")
    assert result.returncode == 1
    (line,) = error_lines(result.stderr)
    assert "written by a newer siteaudit (schema 99" in line and "upgrade siteaudit" in line
    with sqlite3.connect(db) as conn:  # nothing was changed in it
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 99
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0


def test_database_path_that_cannot_be_opened(council_site: Site) -> None:
    # /proc refuses new files even to root, unlike a chmod'ed folder.
    result = run_siteaudit(
        "scan", council_site.url("/"), "--db", "/proc/self/scan.db", "--no-browser"
    )
    assert result.returncode == 1
    (line,) = error_lines(result.stderr)
    assert line.startswith("Error: /proc/self/scan.db: cannot use this database")


def test_dns_failure_is_one_line(tmp_path: Path) -> None:
    result = run_siteaudit(
        "scan", "http://no-such-council.invalid/", "--db", str(tmp_path / "scan.db"), "--no-browser"
    )
    assert result.returncode == 1
    (line,) = error_lines(result.stderr)
    assert line.startswith("Error: could not fetch http://no-such-council.invalid/: ")
    assert "DNS" in line
