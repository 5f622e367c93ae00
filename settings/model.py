"""The settings model: siteaudit's configuration as frozen dataclasses, one per TOML section."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field, replace
from typing import Any

from vocabulary.checks import CHECKS

WCAG_LEVELS = ("2.0-A", "2.0-AA", "2.1-A", "2.1-AA", "2.2-A", "2.2-AA")

# Hosts whose requests the browser blocks by default: a scan should neither count as a visit
# in the council's analytics nor wait on advertising and tracking scripts.
DEFAULT_BLOCKED_HOSTS = (
    "google-analytics.com",
    "googletagmanager.com",
    "analytics.google.com",
    "doubleclick.net",
    "googlesyndication.com",
    "googleadservices.com",
    "connect.facebook.net",
    "facebook.com/tr",
    "hotjar.com",
    "clarity.ms",
    "siteimprove.com",
    "siteimproveanalytics.com",
    "silktide.com",
    "matomo.cloud",
    "newrelic.com",
    "nr-data.net",
    "quantserve.com",
    "scorecardresearch.com",
    "ads-twitter.com",
    "linkedin.com/px",
    "snap.licdn.com",
)

DEFAULT_VIEWPORT = "1280x1024"
# The viewports audit.viewport may give, in CSS pixels: WCAG's reflow width (320) to 4K.
VIEWPORT_WIDTHS = (320, 3840)
VIEWPORT_HEIGHTS = (240, 4320)
VIEWPORT = re.compile(r"(\d{1,5})x(\d{1,5})")

DEFAULT_USER_AGENT = (
    "siteaudit/0.1 (accessibility and content audit; +https://github.com/siteaudit)"
)


@dataclass(frozen=True)
class Team:
    name: str
    paths: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    email: str | None = None


@dataclass(frozen=True)
class SiteConfig:
    # Who the site belongs to ("Example Borough Council"): the report's header and the
    # email subject name it; the start URL's host stands in when it is empty.
    name: str = ""
    start_urls: tuple[str, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    max_pages: int = 5000
    max_depth: int = 20
    # Tracking tags and session ids: the same page whatever their values.
    strip_query_params: tuple[str, ...] = (
        "utm_*",
        "fbclid",
        "gclid",
        "mc_cid",
        "mc_eid",
        "sid",
        "sessionid",
        "jsessionid",
        "phpsessid",
        "aspsessionid*",
    )
    # Crawler traps: at most this many pages of one shape (digits and query values aside)
    # in a chain, each linking the next (an endless calendar).
    max_shape_chain: int = 30
    # The largest HTML page downloaded; larger ones are recorded as too-large.
    max_page_bytes: int = 8 * 1024 * 1024
    # Stop the whole scan after this many minutes (0: no limit); pages so far are kept.
    max_minutes: float = 0.0
    user_agent: str = DEFAULT_USER_AGENT
    # Discover sitemaps from robots.txt and /sitemap.xml.
    sitemaps: bool = True
    # Sitemaps to read as well, e.g. the pages of one release.
    sitemap_urls: tuple[str, ...] = ()
    obey_robots: bool = True
    concurrency_per_host: int = 4
    download_delay: float = 0.0
    # Slow down when the server slows down (Scrapy's AutoThrottle), never below
    # download_delay or robots.txt's Crawl-delay.
    adaptive_throttle: bool = True
    # Hosts on a private network (loopback, 10.x, 192.168.x, link-local…) that may be
    # fetched, exactly as named (not their subdomains); the allowed domains always may.
    private_hosts: tuple[str, ...] = ()
    # Check HTTPS certificates as a browser does; an untrusted one is a tls-error.
    verify_tls: bool = True
    # A PEM file of extra certificate authorities to trust (a staging site's own), for the
    # crawler and the browser alike; relative paths are from the configuration file.
    ca_file: str = ""
    timeout: float = 30.0


@dataclass(frozen=True)
class AuditConfig:
    browser: bool = True
    # Re-audit every page, even those unchanged since the last scan.
    full: bool = False
    browsers: int = 0  # 0 means one per core
    wcag: str = "2.1-AA"
    best_practices: bool = False
    # The browser's viewport, WIDTHxHEIGHT in CSS pixels, that pages are audited at: a
    # phone's ("390x844") finds the problems of a page's narrow layout (WCAG 1.4.10 Reflow).
    viewport: str = DEFAULT_VIEWPORT
    page_timeout: float = 30.0
    # A picture of each element with a problem, and of the page with it marked, kept in the
    # database and shown in the report (--no-screenshots turns them off).
    screenshots: bool = True
    # The checks to run (vocabulary/checks.py): axe-core, siteaudit's own in the browser, and
    # those across the site after the crawl. All by default; --checks names a few.
    checks: tuple[str, ...] = CHECKS
    # Seconds one page's HTML may take to read (text, readability, dates, links) in a
    # reader process; a page that takes longer is recorded as page-too-complex.
    read_timeout: float = 20.0
    # A page with more elements than this is not audited in the browser (page-too-complex):
    # 250,000 elements took one Chromium tab 1.4 GB; the largest real council pages have a
    # few thousand.
    max_elements: int = 50_000
    # Nor is a page whose elements nest deeper than this: 20,000 nested elements took a tab
    # 600 MB; real pages nest a few dozen deep.
    max_element_depth: int = 256
    recycle_after: int = 200
    queue_size: int = 0  # 0 means twice the number of browsers
    blocked_hosts: tuple[str, ...] = DEFAULT_BLOCKED_HOSTS
    chromium: str = "/usr/bin/chromium"
    chromedriver: str = "/usr/bin/chromedriver"
    # When siteaudit runs as root, the user Chromium runs as, so that it keeps its sandbox:
    # "" for the `siteaudit` user (scripts/setup.sh makes it) or else `nobody`; "root" to
    # run it as root without the sandbox (which also needs allow_no_sandbox).
    browser_user: str = ""
    # Run Chromium as root without its sandbox when it cannot run as an unprivileged user.
    # Off: the scan then stops with an error that says how to fix it.
    allow_no_sandbox: bool = False


@dataclass(frozen=True)
class OwnershipConfig:
    meta_tag: str | None = None
    default_team: str = "Unassigned"


@dataclass(frozen=True)
class PolicyRule:
    """An override that applies to a team's pages, path prefixes, or paths matching a regex."""

    team: str | None = None
    paths: tuple[str, ...] = ()
    pattern: str | None = None
    max_age_months: int | None = None
    archive_after_months: int | None = None
    max_reading_age: float | None = None

    def applies_to(self, path: str, team: str) -> bool:
        if self.team is not None and self.team != team:
            return False
        if self.paths and not any(path.startswith(p) for p in self.paths):
            return False
        return not (self.pattern and not re.search(self.pattern, path))


@dataclass(frozen=True)
class FreshnessConfig:
    # Pages unreviewed for longer than this are stale; 0 turns the check off.
    max_age_months: int = 12
    rules: tuple[PolicyRule, ...] = ()


@dataclass(frozen=True)
class ReadabilityConfig:
    # GOV.UK writes for a reading age of 9, the average UK reading age: see docs/scoring.md.
    max_reading_age: float = 9.0
    # Below this many words the readability formulas say little; such pages are not judged.
    min_words: int = 100
    rules: tuple[PolicyRule, ...] = ()


@dataclass(frozen=True)
class SpellingConfig:
    # Check the main content's spelling in British English (Debian's hunspell-en-gb).
    check: bool = True
    # The council's own words: places, streets, services and products the dictionary lacks.
    words: tuple[str, ...] = ()
    # A UTF-8 file of more of them, one a line ("#" starts a comment); a relative path is
    # from the configuration file. Its words join `words` when the configuration is read.
    words_file: str = ""
    # A word outside the dictionary on at least this many pages is the site's own (a name
    # or a term it uses), not a mistake; `siteaudit words` lists such words for the list.
    site_word_pages: int = 3

    def own_words(self) -> frozenset[str]:
        """The word list, lower-cased: a listed word is accepted however it is capitalised."""
        return frozenset(word.lower().replace("\u2019", "'") for word in self.words)


@dataclass(frozen=True)
class TemplateConfig:
    # A problem on the same element of this share of audited pages lives in the template.
    min_share: float = 0.5
    min_pages: int = 3
    owner: str = "Web Team"


@dataclass(frozen=True)
class LinksConfig:
    # External links are checked once per scan each (HEAD, then GET if HEAD is refused).
    check_external: bool = True
    # Host globs: with allow, only those hosts are checked; deny hosts never are.
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    timeout: float = 15.0
    # At most this many external links checked a scan, and on any one host: one page must
    # not direct thousands of requests at another site. Links over a cap are not checked.
    max_external: int = 2000
    max_external_per_host: int = 50
    # Check by status alone (HEAD, then GET if refused) the links to this site that the
    # crawl does not follow, those of pages at max_depth, so their broken links are found.
    # siteaudit check turns it on for its pages when broken links can fail the gate; in a
    # deeper crawl, a page first met at the depth limit is then checked, never audited.
    check_unfollowed: bool = False

    def should_check(self, host: str) -> bool:
        host = host.lower()
        if any(fnmatch.fnmatchcase(host, pattern) for pattern in self.deny):
            return False
        return not self.allow or any(fnmatch.fnmatchcase(host, p) for p in self.allow)


@dataclass(frozen=True)
class DocumentsConfig:
    # PDF and Office files linked from the site are downloaded and checked, up to this size.
    check: bool = True
    max_bytes: int = 25 * 1024 * 1024
    # Each file is checked in a child process that may use this much memory and take this
    # many seconds; a file that needs more is recorded with the reason in check_error.
    max_memory_mb: int = 512
    timeout: float = 60.0


@dataclass(frozen=True)
class FormLoginConfig:
    """A login form siteaudit signs in with once before the crawl; off while url is empty.

    The password comes from the environment variable password_env, never from a file.
    """

    url: str = ""
    username: str = ""
    username_field: str = "username"
    password_field: str = "password"
    password_env: str = "SITEAUDIT_FORM_PASSWORD"


@dataclass(frozen=True)
class AuthConfig:
    """Credentials for a staging site: names of environment variables, never the secrets.

    Sent only to the allowed domains, by the crawler and by the browser alike.
    """

    basic_user: str = ""
    basic_password_env: str = "SITEAUDIT_BASIC_PASSWORD"
    # HTTP header name -> environment variable holding its value.
    header_envs: tuple[str, ...] = ()
    # Cookie name -> environment variable holding its value.
    cookie_envs: tuple[str, ...] = ()
    # [auth.form]: the session cookies of a form login join the cookies above.
    form: FormLoginConfig = field(default_factory=FormLoginConfig)


@dataclass(frozen=True)
class EmailConfig:
    smtp_host: str = "localhost"
    smtp_port: int = 25
    starttls: bool = False
    username: str = ""
    # A login goes only over STARTTLS with a verified certificate; true allows sending the
    # user name and password in clear to a server that offers no STARTTLS (a local relay).
    allow_plaintext_login: bool = False
    # A PEM file of certificate authorities to trust for the SMTP server's certificate;
    # relative paths are from the configuration file.
    ca_file: str = ""
    # The password is read from this environment variable, never from a file.
    password_env: str = "SITEAUDIT_SMTP_PASSWORD"
    from_address: str = "siteaudit@localhost"
    # Where the report is published, for the links in each team's email.
    report_url: str = ""


@dataclass(frozen=True)
class StatementConfig:
    # Where the site's accessibility statement is; "" finds it by the links that name it.
    url: str = ""


def viewport_size(viewport: str) -> tuple[int, int] | None:
    """(width, height) of a WIDTHxHEIGHT viewport within the limits, else None."""
    match = VIEWPORT.fullmatch(viewport.strip())
    if match is None:
        return None
    width, height = int(match[1]), int(match[2])
    if not (VIEWPORT_WIDTHS[0] <= width <= VIEWPORT_WIDTHS[1]):
        return None
    if not (VIEWPORT_HEIGHTS[0] <= height <= VIEWPORT_HEIGHTS[1]):
        return None
    return width, height


def seed_urls(site: SiteConfig) -> tuple[str, ...]:
    """Every URL a crawl starts from: start URLs, then explicit sitemaps."""
    return site.start_urls + site.sitemap_urls


@dataclass(frozen=True)
class Config:
    source: str = "<defaults>"
    site: SiteConfig = field(default_factory=SiteConfig)
    audit: AuditConfig = field(default_factory=AuditConfig)
    ownership: OwnershipConfig = field(default_factory=OwnershipConfig)
    freshness: FreshnessConfig = field(default_factory=FreshnessConfig)
    readability: ReadabilityConfig = field(default_factory=ReadabilityConfig)
    spelling: SpellingConfig = field(default_factory=SpellingConfig)
    templates: TemplateConfig = field(default_factory=TemplateConfig)
    links: LinksConfig = field(default_factory=LinksConfig)
    documents: DocumentsConfig = field(default_factory=DocumentsConfig)
    auth: AuthConfig = field(default_factory=AuthConfig)
    email: EmailConfig = field(default_factory=EmailConfig)
    statement: StatementConfig = field(default_factory=StatementConfig)
    teams: tuple[Team, ...] = ()

    def reading_age_target(self, path: str, team: str) -> float:
        """The maximum reading age for a page: the first matching rule's, else the default."""
        for rule in self.readability.rules:
            if rule.max_reading_age is not None and rule.applies_to(path, team):
                return rule.max_reading_age
        return self.readability.max_reading_age

    def freshness_limits(self, path: str, team: str) -> tuple[int, int | None]:
        """(months until stale, 0 for never; months until an archive candidate, or None)."""
        for rule in self.freshness.rules:
            if rule.applies_to(path, team):
                stale = (
                    self.freshness.max_age_months
                    if rule.max_age_months is None
                    else (int(rule.max_age_months))
                )
                archive = (
                    None if rule.archive_after_months is None else int(rule.archive_after_months)
                )
                return stale, archive
        return self.freshness.max_age_months, None

    def team_email(self, team: str) -> str | None:
        return next((t.email for t in self.teams if t.name == team), None)

    def with_overrides(self, **sections: dict[str, Any]) -> Config:
        """Return a copy with command-line values (those not None) laid over each section."""
        changed: dict[str, Any] = {}
        for name, values in sections.items():
            given = {k: v for k, v in values.items() if v is not None}
            if given:
                changed[name] = replace(getattr(self, name), **given)
        return replace(self, **changed)


# Each TOML section and the dataclass it fills.
SECTIONS = {
    "site": SiteConfig,
    "audit": AuditConfig,
    "ownership": OwnershipConfig,
    "freshness": FreshnessConfig,
    "readability": ReadabilityConfig,
    "spelling": SpellingConfig,
    "templates": TemplateConfig,
    "links": LinksConfig,
    "documents": DocumentsConfig,
    "auth": AuthConfig,
    "email": EmailConfig,
    "statement": StatementConfig,
}
