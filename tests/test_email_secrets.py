"""SMTP secrets come only from the environment and never appear in output or storage."""

from __future__ import annotations

import pytest

from app.email import EmailError, send_team_emails
from reports.data import ScanReport, TeamReport
from settings.model import EmailConfig


def report_with_team() -> ScanReport:
    team = TeamReport("Waste", "waste", "waste@example.gov.uk", [], None)
    return ScanReport({"id": 1}, None, [team], [], None, None, 0, 0)


def test_missing_password_variable_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SITEAUDIT_SMTP_PASSWORD", raising=False)
    settings = EmailConfig(smtp_host="127.0.0.1", smtp_port=1, username="audit")
    with pytest.raises(EmailError, match=r"export SITEAUDIT_SMTP_PASSWORD"):
        send_team_emails(report_with_team(), settings, "site")


def test_smtp_failure_does_not_print_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITEAUDIT_SMTP_PASSWORD", "s3cret-value")
    settings = EmailConfig(smtp_host="127.0.0.1", smtp_port=1, username="audit")
    with pytest.raises(EmailError) as err:
        send_team_emails(report_with_team(), settings, "site")
    assert "s3cret-value" not in str(err.value)
    assert "could not send email through 127.0.0.1:1" in str(err.value)
