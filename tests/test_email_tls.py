"""SMTP logins go only over STARTTLS with a checked certificate, unless explicitly allowed."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from app.email import EmailError, send_team_emails
from settings.model import EmailConfig
from tests.test_email_secrets import report_with_team

PASSWORD = "smtp-s3cret-77"


@dataclass
class Mailbox:
    """What the test server saw: the logins (user, password) and the messages."""

    logins: list[tuple[str, str]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content.decode())
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            self.logins.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def smtp_server(tls: ssl.SSLContext | None = None) -> Iterator[tuple[int, Mailbox]]:
    """A real SMTP server on 127.0.0.1 that offers AUTH, and STARTTLS when given a context."""
    box = Mailbox()
    port = free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        authenticator=box.authenticate,
        auth_require_tls=tls is not None,
        tls_context=tls,
    )
    controller.start()
    try:
        yield port, box
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA(organization_name="Example Council mail CA")


def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


def test_login_refused_without_starttls(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SITEAUDIT_SMTP_PASSWORD", PASSWORD)
    with smtp_server() as (port, box):
        settings = EmailConfig(smtp_host="127.0.0.1", smtp_port=port, username="audit")
        with pytest.raises(EmailError) as err:
            send_team_emails(report_with_team(), settings, "site")
    assert str(err.value) == (
        f"127.0.0.1:{port} does not offer STARTTLS, so the password for email.username would "
        "be sent unencrypted; enable STARTTLS on the server, or set "
        "email.allow_plaintext_login = true if the connection is otherwise protected"
    )
    assert box.logins == [] and box.messages == []
    assert PASSWORD not in str(err.value) + "".join(capsys.readouterr())


def test_plaintext_login_when_the_configuration_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITEAUDIT_SMTP_PASSWORD", PASSWORD)
    with smtp_server() as (port, box):
        settings = EmailConfig(
            smtp_host="127.0.0.1", smtp_port=port, username="audit", allow_plaintext_login=True
        )
        assert send_team_emails(report_with_team(), settings, "site") == ["waste@example.gov.uk"]
    assert box.logins == [("audit", PASSWORD)]
    assert len(box.messages) == 1


def test_starttls_asked_for_but_not_offered(monkeypatch: pytest.MonkeyPatch) -> None:
    with smtp_server() as (port, box):
        settings = EmailConfig(smtp_host="127.0.0.1", smtp_port=port, starttls=True)
        refused = r"does not offer STARTTLS, but email\.starttls is true"
        with pytest.raises(EmailError, match=refused):
            send_team_emails(report_with_team(), settings, "site")
    assert box.messages == []


def test_starttls_checks_the_certificate(
    monkeypatch: pytest.MonkeyPatch, ca: trustme.CA, tmp_path: Path
) -> None:
    monkeypatch.setenv("SITEAUDIT_SMTP_PASSWORD", PASSWORD)
    with smtp_server(server_context(ca)) as (port, box):
        settings = EmailConfig(smtp_host="127.0.0.1", smtp_port=port, username="audit")
        # An authority nobody configured: refused before the password is sent.
        with pytest.raises(EmailError) as err:
            send_team_emails(report_with_team(), settings, "site")
        assert str(err.value).startswith(f"127.0.0.1:{port}: TLS failed (")
        assert "set email.ca_file" in str(err.value) and PASSWORD not in str(err.value)
        assert box.logins == [] and box.messages == []
        # The same server, its authority configured: the login goes over TLS.
        ca_file = tmp_path / "mail-ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        trusted = EmailConfig(
            smtp_host="127.0.0.1", smtp_port=port, username="audit", ca_file=str(ca_file)
        )
        assert send_team_emails(report_with_team(), trusted, "site") == ["waste@example.gov.uk"]
    assert box.logins == [("audit", PASSWORD)]
    assert len(box.messages) == 1
