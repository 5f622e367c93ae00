"""Send each team its report summary and link by SMTP; the password only ever from the
environment."""

from __future__ import annotations

import os
import smtplib
import ssl

from reports.data import ScanReport
from reports.email import team_message
from settings.model import EmailConfig


class EmailError(Exception):
    """The emails could not be sent; the message says why and how to fix it."""


def tls_context(settings: EmailConfig) -> ssl.SSLContext:
    """Certificates checked as a browser checks them, plus email.ca_file's authorities."""
    context = ssl.create_default_context()
    if settings.ca_file:
        try:
            context.load_verify_locations(cafile=settings.ca_file)
        except (OSError, ssl.SSLError) as err:
            raise EmailError(
                f"email.ca_file: cannot use {settings.ca_file} ({err}); "
                "give the path of a PEM file of certificate authorities"
            ) from None
    return context


def secure(smtp: smtplib.SMTP, settings: EmailConfig, login: bool) -> None:
    """STARTTLS with a verified certificate when asked for, or whenever a login follows.

    A password goes over a connection without TLS only when email.allow_plaintext_login
    says so: a server that does not offer STARTTLS is otherwise refused before any login.
    """
    smtp.ehlo()
    offered = smtp.has_extn("starttls")
    if offered and (settings.starttls or login):
        smtp.starttls(context=tls_context(settings))
        smtp.ehlo()
        return
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    if settings.starttls:
        raise EmailError(
            f"{where} does not offer STARTTLS, but email.starttls is true; "
            "enable STARTTLS on the server or give another email.smtp_host"
        )
    if login and not settings.allow_plaintext_login:
        raise EmailError(
            f"{where} does not offer STARTTLS, so the password for email.username would be "
            "sent unencrypted; enable STARTTLS on the server, or set "
            "email.allow_plaintext_login = true if the connection is otherwise protected"
        )


def send_team_emails(report: ScanReport, settings: EmailConfig, site: str) -> list[str]:
    """Email every team that has an address; returns the addresses sent to."""
    recipients = [t for t in report.teams if t.email]
    if not recipients:
        raise EmailError(
            'no team has an email address; add email = "..." to [[teams]] in the configuration'
        )
    password = None
    if settings.username:
        password = os.environ.get(settings.password_env)
        if password is None:
            raise EmailError(
                f"email.username is set but ${settings.password_env} is not; "
                f"export {settings.password_env} with the SMTP password"
            )
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
            secure(smtp, settings, login=password is not None)
            if settings.username and password is not None:
                smtp.login(settings.username, password)
            for team in recipients:
                smtp.send_message(team_message(report, team, settings, site))
    except ssl.SSLError as err:
        raise EmailError(
            f"{settings.smtp_host}:{settings.smtp_port}: TLS failed ({err.reason or err}); "
            "if the server's certificate comes from your own authority, set email.ca_file"
        ) from None
    except (OSError, smtplib.SMTPException) as err:
        raise EmailError(
            f"could not send email through {settings.smtp_host}:"
            f"{settings.smtp_port} ({err}); check the [email] settings"
        ) from None
    return [t.email for t in recipients if t.email]
