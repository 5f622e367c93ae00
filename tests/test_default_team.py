"""What no rule gives to a team belongs to ownership.default_team, in the scan and the report."""

from __future__ import annotations

import json
from pathlib import Path

from app.after_crawl import after_crawl
from reports.changes import violations_by_key
from settings.model import TemplateConfig
from store.database import open_database
from store.scans import default_team, finish_scan, start_scan
from store.writer import Batch, write_batch

SITE = "http://127.0.0.1:9"


def scan_with_an_unowned_document(path: Path, team: str | None) -> int:
    """A finished scan holding a document no page links to, with a finding on it."""
    db = open_database(path)
    config = {"ownership": {"default_team": team}} if team else {}
    scan_id = start_scan(db, SITE + "/", config=json.dumps(config))
    document = SITE + "/orphan.pdf"
    batch = Batch()
    batch.add("documents", [{"scan_id": scan_id, "url": document, "kind": "pdf"}])
    finding = {"scan_id": scan_id, "url": document, "kind": "document", "rule_id": "pdf-untagged"}
    batch.add("findings", [{**finding, "outcome": "violation", "fingerprint": "document:x"}])
    write_batch(db, batch)
    after_crawl(db, scan_id, TemplateConfig(), team or "Unassigned")
    finish_scan(db, scan_id, "finished")
    return scan_id


def test_an_unowned_document_finding_goes_to_the_configured_default_team(tmp_path: Path) -> None:
    scan_id = scan_with_an_unowned_document(tmp_path / "scan.db", "Corporate Web Team")
    db = open_database(tmp_path / "scan.db", create=False)
    teams = db.execute("SELECT team FROM findings WHERE scan_id = ?", [scan_id]).fetchall()
    assert teams == [("Corporate Web Team",)]
    assert default_team(db, scan_id) == "Corporate Web Team"
    assert set(violations_by_key(db, scan_id).values()) == {"Corporate Web Team"}


def test_without_a_configured_default_it_is_unassigned(tmp_path: Path) -> None:
    scan_id = scan_with_an_unowned_document(tmp_path / "scan.db", None)
    db = open_database(tmp_path / "scan.db", create=False)
    assert default_team(db, scan_id) == "Unassigned"
