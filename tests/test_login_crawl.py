"""The form login is a crawl through the crawler's own downloader, tested without a browser."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.scan import crawl_settings
from crawler.login import LoginContext, LoginError, log_in
from settings.model import Config, FormLoginConfig, SiteConfig
from tests.recording import RecordingServer, serve
from tests.test_form_login import NONCE, PASSWORD, SESSION, USER, other_site, staging_site

AGENT = "siteaudit-login-test/1.0"


@pytest.fixture
def staging() -> Iterator[RecordingServer]:
    with serve({"*": other_site}) as other, serve(staging_site(other)) as staging:
        yield staging


def log_in_to(staging: RecordingServer, password: str) -> dict[str, str]:
    config = Config(site=SiteConfig(start_urls=(f"{staging.base}/",), user_agent=AGENT))
    form = FormLoginConfig(
        url=f"{staging.base}/login", username=USER, username_field="name", password_field="pass"
    )
    context = LoginContext(
        config=config, allowed_domains=("127.0.0.1",), form=form, password=password
    )
    return log_in(context, crawl_settings(config, verbose=False))


def test_login_keeps_the_session_and_is_the_crawlers_request(staging: RecordingServer) -> None:
    assert log_in_to(staging, PASSWORD) == {"nonce": NONCE, "SESS": SESSION}
    # The form's hidden token and button went with the pre-login cookie, once, as the
    # crawler: its user agent, and no robots.txt read for a page the user named.
    assert [(r.method, r.path) for r in staging.requests] == [
        ("GET", "/login"),
        ("POST", "/login?destination=/"),
        ("GET", "/"),
    ]
    assert {r.headers["User-Agent"] for r in staging.requests} == {AGENT}


def test_wrong_password_is_a_login_error(staging: RecordingServer) -> None:
    with pytest.raises(LoginError, match="the page after logging in still asks for a password"):
        log_in_to(staging, "wrong")
