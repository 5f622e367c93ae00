"""Each team's email, as a real SMTP server receives it: HTML with a plain-text alternative,
its top actions, what is new and fixed, and links straight to its pages' sections."""

from __future__ import annotations

from email import message_from_string, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from app.email import send_team_emails
from reports.data import load_report
from reports.html import write_report
from settings.model import EmailConfig
from store.database import open_database
from store.history import record_history
from store.scans import finish_scan, start_scan
from store.writer import Batch, write_batch
from tests.conftest import run_in_process
from tests.test_email_tls import smtp_server

SITE = "http://127.0.0.1:9/"
BINS = f"{SITE}bins/collection-days.html"
HOSTILE_TITLE = '</a><script>alert("title")</script><img src=x onerror=alert(1)>'
REPORT_URL = "https://intranet.example-council.gov.uk/audit/"


def finding(scan_id: int, rule: str, impact: str, fingerprint: str, url: str = BINS) -> dict:
    return {
        "scan_id": scan_id,
        "url": url,
        "kind": "accessibility",
        "team": "Waste",
        "outcome": "violation",
        "rule_id": rule,
        "impact": impact,
        "help": {"image-alt": "Images must have alternative text"}.get(rule, "<b>" + rule),
        "fingerprint": fingerprint,
        "selector": '["img"]',
    }


def two_scans(path: Path) -> None:
    """Scan 1: a contrast problem and an image; scan 2: the contrast fixed, a second image
    without alt text (new), and a page whose title is hostile."""
    db = open_database(path)
    hostile = f"{SITE}news.html"
    scans = (
        [("color-contrast", "serious", "c:1"), ("image-alt", "critical", "a:1")],
        [("image-alt", "critical", "a:1"), ("image-alt", "critical", "a:2")],
    )
    for found in scans:
        scan_id = start_scan(db, SITE, browser=1, axe_version="4.14.1")
        batch = Batch()
        pages = [
            {"url": BINS, "title": "Bin collection days", "score": 60.0},
            {"url": hostile, "title": HOSTILE_TITLE, "score": 80.0},
        ]
        batch.add("pages", [{**p, "scan_id": scan_id, "team": "Waste"} for p in pages])
        rows = [finding(scan_id, *f) for f in found]
        rows.append(finding(scan_id, "link-name", "serious", "l:1", url=hostile))
        batch.add("findings", rows)
        write_batch(db, batch)
        finish_scan(db, scan_id, "finished")
    db.conn.close()


def received(tmp_path: Path, report_url: str) -> EmailMessage:
    """The Waste team's email as the SMTP server got it."""
    two_scans(tmp_path / "scan.db")
    report = load_report(
        open_database(tmp_path / "scan.db", create=False), emails={"Waste": "waste@example.org"}
    )
    with smtp_server() as (port, box):
        settings = EmailConfig(smtp_host="127.0.0.1", smtp_port=port, report_url=report_url)
        assert send_team_emails(report, settings, SITE) == ["waste@example.org"]
    (message,) = box.messages
    return message_from_string(message, policy=policy.default)  # type: ignore[return-value]


def test_email_is_html_with_a_plain_text_alternative(tmp_path: Path) -> None:
    message = received(tmp_path, REPORT_URL)
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
    team_page = f"{REPORT_URL}team-waste.html"
    # What to fix first: the worst problem first, how to fix it, and a link to it.
    assert "Fix these first:\n  1. Images must have alternative text: critical" in text
    assert "How to fix it: Open the image in your editor" in text
    anchors = [line.split("#", 1)[1] for line in text.splitlines() if f"{team_page}#" in line]
    assert "page-bins-collection-days-html-" in anchors[0] and anchors[0].endswith("-image-alt")
    # Each page listed links to its own section; what changed since the last scan.
    assert any(a.startswith("page-bins-collection-days-html-") for a in anchors[1:])
    assert "New since the last scan:\n  - Images must have alternative text on " + BINS in text
    assert f"Fixed since the last scan:\n  - <b>color-contrast on {BINS}" in text
    assert f"Your full report, with what to fix on each page: {team_page}" in text


def test_email_links_go_to_sections_the_report_has(tmp_path: Path) -> None:
    message = received(tmp_path, REPORT_URL)
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    soup = BeautifulSoup(html, "lxml")
    write_report(load_report(open_database(tmp_path / "scan.db", create=False)), tmp_path / "r")
    page = BeautifulSoup((tmp_path / "r" / "team-waste.html").read_text(), "lxml")
    links = [a["href"] for a in soup.find_all("a")]
    anchors = [href.split("#", 1)[1] for href in links if "#" in href]
    assert len(anchors) >= 4  # the actions and the pages
    for anchor in anchors:
        assert page.find(id=anchor) is not None, anchor
    assert all(href.startswith(f"{REPORT_URL}team-waste.html") for href in links)


def test_untrusted_text_is_escaped_in_the_html_part(tmp_path: Path) -> None:
    html = received(tmp_path, REPORT_URL).get_body(("html",)).get_content()  # type: ignore[union-attr]
    soup = BeautifulSoup(html, "lxml")
    assert soup.find("script") is None and soup.find("img") is None and soup.find("b") is None
    assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;" in html
    assert "&lt;b&gt;color-contrast" in html


def test_without_report_url_the_email_says_where_the_report_is(tmp_path: Path) -> None:
    message = received(tmp_path, "")
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "http" not in text.replace(SITE, "").replace(BINS, "")
    assert "team-waste.html in the report folder" in text
    assert BeautifulSoup(html, "lxml").find("a") is None


@pytest.mark.parametrize("report_url", ["", "javascript:alert(1)"])
def test_report_email_warns_in_one_line_without_a_report_url(
    tmp_path: Path, report_url: str
) -> None:
    two_scans(tmp_path / "scan.db")
    with smtp_server() as (port, box):
        config = tmp_path / "email.toml"
        config.write_text(
            '[[teams]]\nname = "Waste"\nemail = "waste@example.org"\n'
            f'[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\n'
            f'report_url = "{report_url}"\n'
        )
        run = run_in_process(
            "report",
            "--db",
            str(tmp_path / "scan.db"),
            "--out",
            str(tmp_path / "r"),
            "--config",
            str(config),
            "--email",
        )
    assert run.returncode == 0, run.stderr
    warnings = [line for line in run.stderr.splitlines() if line.startswith("Warning:")]
    assert warnings == [
        "Warning: email.report_url is not set to a web address, so the emails cannot link to "
        "the report; set it to the http(s) address the report folder is published at"
    ]
    assert len(box.messages) == 1


def test_team_page_lists_what_the_email_says_changed(tmp_path: Path) -> None:
    two_scans(tmp_path / "scan.db")
    write_report(load_report(open_database(tmp_path / "scan.db", create=False)), tmp_path / "r")
    soup = BeautifulSoup((tmp_path / "r" / "team-waste.html").read_text(), "lxml")
    changes = {
        d.summary.get_text(): [li.get_text(" ", strip=True) for li in d.find_all("li")]
        for d in soup.select("details.changes")
    }
    assert changes == {
        "New problems (1)": [f"new Images must have alternative text on {BINS} (rule image-alt)"],
        "Fixed problems (1)": [f"<b>color-contrast on {BINS} (rule color-contrast)"],
    }
    # The two images without alt text on one page are one problem with two elements.
    (group,) = [g for g in soup.select("div.issue[id]") if g["id"].endswith("-image-alt")]
    assert len(group.select("ol.elements > li")) == 2


def test_email_says_what_came_back_and_what_went_with_its_page(tmp_path: Path) -> None:
    """Scan 1: an image without alt text on the bins page, a link on the news page; scan 2:
    the image fixed; scan 3: the image back, and the news page gone from the site."""
    db = open_database(tmp_path / "scan.db")
    news = f"{SITE}news.html"
    scans = (
        (
            [BINS, news],
            [("image-alt", "critical", "a:1", BINS), ("link-name", "serious", "l:1", news)],
        ),
        ([BINS, news], [("link-name", "serious", "l:1", news)]),
        ([BINS], [("image-alt", "critical", "a:1", BINS)]),
    )
    for pages, found in scans:
        scan_id = start_scan(db, SITE, browser=1, axe_version="4.14.1")
        batch = Batch()
        rows = [{"url": url, "title": "A page", "score": 70.0} for url in pages]
        batch.add("pages", [{**row, "scan_id": scan_id, "team": "Waste"} for row in rows])
        batch.add(
            "findings", [finding(scan_id, rule, impact, f, url) for rule, impact, f, url in found]
        )
        write_batch(db, batch)
        record_history(db.conn, scan_id)
        finish_scan(db, scan_id, "finished")
    (first_day,) = db.conn.execute(
        "SELECT substr(started_at, 1, 10) FROM scans WHERE id = 1"
    ).fetchone()
    report = load_report(db, emails={"Waste": "waste@example.org"})
    with smtp_server() as (port, box):
        settings = EmailConfig(smtp_host="127.0.0.1", smtp_port=port, report_url=REPORT_URL)
        assert send_team_emails(report, settings, SITE) == ["waste@example.org"]
    (message,) = box.messages
    email = message_from_string(message, policy=policy.default)
    text = email.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
    assert (
        "New since the last scan:\n"
        f"  - Images must have alternative text on {BINS} (back again: first seen {first_day})"
    ) in text
    assert f"Gone with their page since the last scan:\n  - <b>link-name on {news}" in text
    html = email.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert f"(back again: first seen {first_day})" in html
    assert "Gone with their page since the last scan" in html
