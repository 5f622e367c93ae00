"""Load and validate siteaudit's TOML configuration into frozen dataclasses."""

from __future__ import annotations

import difflib
import fnmatch
import math
import re
import tomllib
from dataclasses import dataclass, field, is_dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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

DEFAULT_USER_AGENT = (
    "siteaudit/0.1 (accessibility and content audit; +https://github.com/siteaudit)"
)


# Characters that would split or corrupt an HTTP header.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ConfigError(Exception):
    """A configuration problem, phrased as one line naming the file, key and fix."""


@dataclass(frozen=True)
class Team:
    name: str
    paths: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    email: str | None = None


@dataclass(frozen=True)
class SiteConfig:
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
    page_timeout: float = 30.0
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
    templates: TemplateConfig = field(default_factory=TemplateConfig)
    links: LinksConfig = field(default_factory=LinksConfig)
    documents: DocumentsConfig = field(default_factory=DocumentsConfig)
    auth: AuthConfig = field(default_factory=AuthConfig)
    email: EmailConfig = field(default_factory=EmailConfig)
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


SECTIONS = {
    "site": SiteConfig,
    "audit": AuditConfig,
    "ownership": OwnershipConfig,
    "freshness": FreshnessConfig,
    "readability": ReadabilityConfig,
    "templates": TemplateConfig,
    "links": LinksConfig,
    "documents": DocumentsConfig,
    "auth": AuthConfig,
    "email": EmailConfig,
}
# The override keys each section's [[section.rules]] tables may set.
RULE_VALUES = {
    "freshness": ("max_age_months", "archive_after_months"),
    "readability": ("max_reading_age",),
}
RULE_SCOPE = ("team", "paths", "pattern")
TEAM_KEYS = ("name", "paths", "patterns", "email")


def load_config(path: str | Path) -> Config:
    """Read and validate a TOML configuration file."""
    source = str(path)
    raw = read_toml(path, "--config")
    config = config_from_dict(raw, source)
    # A scheduled scan runs from anywhere: a relative path is the configuration's.
    for section in ("site", "email"):
        ca_file = getattr(config, section).ca_file
        if ca_file and not Path(ca_file).is_absolute():
            values = replace(getattr(config, section), ca_file=str(Path(path).parent / ca_file))
            config = replace(config, **{section: values})
    return config


def read_text_file(path: str | Path, option: str) -> str:
    """A UTF-8 text file's content, or a ConfigError naming the file and the fix."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file; check the {option} path") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a file; check the {option} path") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text (byte {err.start}); save it as UTF-8") from None
    except OSError as err:
        raise ConfigError(
            f"{path}: cannot be read ({err.strerror or err}); check the {option} path "
            "and its permissions"
        ) from None


def read_toml(path: str | Path, option: str) -> dict[str, Any]:
    """A UTF-8 TOML file's tables, or a ConfigError naming the file and the fix."""
    try:
        return tomllib.loads(read_text_file(path, option))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err}); fix the syntax there") from None


def config_from_dict(raw: dict[str, Any], source: str = "<config>") -> Config:
    """Validate a parsed configuration mapping and build a Config."""
    _reject_unknown(raw, [*SECTIONS, "teams"], source, "")
    sections = {name: _section(raw, name, cls, source) for name, cls in SECTIONS.items()}
    teams = tuple(_team(item, i, source) for i, item in enumerate(_list(raw, "teams", source)))
    config = Config(source=source, teams=teams, **sections)
    validate(config)
    return config


def validate(config: Config) -> None:
    """Check values that the types alone do not constrain."""
    src = config.source
    for url in config.site.start_urls:
        check_start_url(url, f"{src}: site.start_urls")
    for url in config.site.sitemap_urls:
        check_start_url(url, f"{src}: site.sitemap_urls")
    check_numbers(config)
    if CONTROL.search(config.site.user_agent):
        raise ConfigError(USER_AGENT_ON_ONE_LINE.format(where=f"{src}: site.user_agent"))
    if config.audit.wcag not in WCAG_LEVELS:
        choices = ", ".join(WCAG_LEVELS)
        raise ConfigError(f"{src}: audit.wcag must be one of {choices}, not {config.audit.wcag!r}")
    if not config.audit.read_timeout > 0:  # NaN too
        raise ConfigError(f"{src}: audit.read_timeout must be a positive number of seconds")
    if config.audit.max_elements < 1000:
        raise ConfigError(f"{src}: audit.max_elements must be at least 1000 (elements a page)")
    if config.audit.max_element_depth < 32:
        raise ConfigError(f"{src}: audit.max_element_depth must be at least 32 (levels)")
    if not 0 < config.templates.min_share <= 1:
        raise ConfigError(f"{src}: templates.min_share must be a share between 0 and 1, e.g. 0.5")
    if config.documents.max_memory_mb < 128:
        raise ConfigError(f"{src}: documents.max_memory_mb must be at least 128 (megabytes)")
    if not config.documents.timeout > 0:
        raise ConfigError(f"{src}: documents.timeout must be a positive number of seconds")
    for key in ("max_external", "max_external_per_host"):
        if getattr(config.links, key) < 1:
            raise ConfigError(
                f"{src}: links.{key} must be at least 1; "
                "set links.check_external = false to check no external links"
            )
    check_form_login(config.auth.form, src)


# The lowest value each numeric setting may take, and how to say so. Every number must also
# be finite: TOML and the command line both accept nan and inf.
LIMITS: dict[str, tuple[float, str]] = {
    "site.max_pages": (1, "at least 1"),
    "site.max_depth": (0, "0 or more"),
    "site.max_shape_chain": (1, "at least 1"),
    "site.max_page_bytes": (1, "a number of bytes, at least 1"),
    "site.max_minutes": (0, "a number of minutes, 0 (no limit) or more"),
    "site.concurrency_per_host": (1, "at least 1"),
    "site.download_delay": (0, "a number of seconds, 0 or more"),
    "site.timeout": (0.001, "a positive number of seconds"),
    "audit.browsers": (0, "0 (one per core) or more"),
    "audit.page_timeout": (0.001, "a positive number of seconds"),
    "audit.recycle_after": (1, "at least 1"),
    "audit.queue_size": (0, "0 (twice the browsers) or more"),
    "freshness.max_age_months": (0, "a number of months, 0 (no check) or more"),
    "readability.max_reading_age": (0.001, "a positive reading age, e.g. 9"),
    "readability.min_words": (0, "0 or more"),
    "templates.min_pages": (1, "at least 1"),
    "links.timeout": (0.001, "a positive number of seconds"),
    "documents.max_bytes": (1, "a number of bytes, at least 1"),
    "email.smtp_port": (1, "a port number from 1 to 65535"),
}
HIGHEST = {"email.smtp_port": 65535}


def check_number(key: str, value: Any, where: str) -> None:
    """One numeric setting against its limits: finite, and not below (or above) them."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return
    low, phrase = LIMITS.get(key, (-math.inf, "a finite number"))
    if not math.isfinite(value) or value < low or value > HIGHEST.get(key, math.inf):
        raise ConfigError(f"{where} must be {phrase}, not {value!r}")


USER_AGENT_ON_ONE_LINE = "{where} has a control character (a line break?); give it on one line"
# Command-line options and the setting each overrides, so that an error names the option.
OPTION_KEYS = {
    "max_pages": "site.max_pages",
    "max_depth": "site.max_depth",
    "max_minutes": "site.max_minutes",
    "browsers": "audit.browsers",
    "page_timeout": "audit.page_timeout",
}


def check_options(options: dict[str, Any]) -> None:
    """Numbers and the user agent given on the command line, named as the user typed them."""
    for name, key in OPTION_KEYS.items():
        if options.get(name) is not None:
            check_number(key, options[name], "--" + name.replace("_", "-"))
    if CONTROL.search(options.get("user_agent") or ""):
        raise ConfigError(USER_AGENT_ON_ONE_LINE.format(where="--user-agent"))


def check_numbers(config: Config) -> None:
    """Every numeric setting of every section, so nan, inf and negatives stop here."""
    for name in SECTIONS:
        section = getattr(config, name)
        for key in section.__dataclass_fields__:
            check_number(f"{name}.{key}", getattr(section, key), f"{config.source}: {name}.{key}")


def check_form_login(form: FormLoginConfig, src: str) -> None:
    """[auth.form] is all or nothing: a login URL needs an account and field names."""
    if not (form.url or form.username):
        return
    if not form.url:
        raise ConfigError(f"{src}: auth.form.url is missing; give the login page's URL")
    check_start_url(form.url, f"{src}: auth.form.url")
    for key in ("username", "username_field", "password_field", "password_env"):
        if not getattr(form, key).strip():
            raise ConfigError(f"{src}: auth.form.{key} is empty; {FORM_KEY_HINTS[key]}")


FORM_KEY_HINTS = {
    "username": "give the account to log in as",
    "username_field": "give the name attribute of the login form's username input",
    "password_field": "give the name attribute of the login form's password input",
    "password_env": "give the environment variable that holds the password",
}


def check_start_url(url: str, where: str) -> None:
    """Reject a start URL that is not an absolute http(s) URL, or that holds a password."""
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname, parts.port  # a bad port or [IPv6 raise here
    except ValueError as err:
        raise ConfigError(
            f"{where}: {url!r} is not a valid URL ({err}); give it as https://www.example.gov.uk/"
        ) from None
    if parts.scheme not in ("http", "https") or not host:
        raise ConfigError(
            f"{where}: {url!r} is not an absolute http(s) URL; "
            "give it as https://www.example.gov.uk/"
        )
    if "@" in parts.netloc:
        # Never echo the password: the line may end up in a CI log.
        hidden = parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]).geturl()
        raise ConfigError(
            f"{where}: {hidden!r} has a user name or password in it; remove it, set "
            "[auth] basic_user and put the password in the environment variable named by "
            "auth.basic_password_env (default SITEAUDIT_BASIC_PASSWORD)"
        )


def _section(raw: dict[str, Any], name: str, cls: type, source: str) -> Any:
    values = raw.get(name, {})
    if not isinstance(values, dict):
        raise ConfigError(f"{source}: [{name}] must be a table")
    return _table(values, cls, name, source)


def _table(values: dict[str, Any], cls: type, name: str, source: str) -> Any:
    """Check a table's keys and values against a dataclass's fields and defaults."""
    defaults = cls()
    _reject_unknown(values, list(defaults.__dataclass_fields__), source, f"{name}.")
    values = dict(values)
    rules = values.pop("rules", None)
    if rules is not None:
        values_rules = _rules(rules, name, source)
    checked = {
        key: _coerce(value, getattr(defaults, key), f"{name}.{key}", source)
        for key, value in values.items()
    }
    if rules is not None:
        checked["rules"] = values_rules
    return replace(defaults, **checked)


def _rules(items: Any, section: str, source: str) -> tuple[PolicyRule, ...]:
    """Validate [[section.rules]] tables: where they apply, and what they override."""
    if not isinstance(items, list):
        raise ConfigError(f"{source}: {section}.rules must be an array of tables")
    allowed = [*RULE_SCOPE, *RULE_VALUES.get(section, ())]
    rules = []
    for index, item in enumerate(items):
        where = f"{section}.rules[{index}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{source}: {where} must be a table")
        _reject_unknown(item, allowed, source, f"{where}.")
        if not any(key in item for key in RULE_SCOPE):
            raise ConfigError(
                f"{source}: {where} needs team, paths or pattern to say where it applies"
            )
        rules.append(_rule(item, where, source))
    return tuple(rules)


def _rule(item: dict[str, Any], where: str, source: str) -> PolicyRule:
    values: dict[str, Any] = {}
    for key, value in item.items():
        if key == "paths":
            if not isinstance(value, list) or not all(
                isinstance(p, str) and p.startswith("/") for p in value
            ):
                raise ConfigError(
                    f'{source}: {where}.paths must be a list of paths starting with "/"'
                )
            values[key] = tuple(value)
        elif key in ("team", "pattern"):
            if not isinstance(value, str):
                raise ConfigError(f"{source}: {where}.{key} must be a string")
            if key == "pattern":
                _check_regex(value, f"{source}: {where}.pattern")
            values[key] = value
        else:
            if (
                not isinstance(value, int | float)
                or isinstance(value, bool)
                or not 0 <= value < math.inf  # also refuses nan
            ):
                raise ConfigError(f"{source}: {where}.{key} must be a number, 0 or more")
            values[key] = value
    return PolicyRule(**values)


def _check_regex(pattern: str, where: str) -> None:
    try:
        re.compile(pattern)
    except re.error as err:
        raise ConfigError(f"{where}: {pattern!r} is not a valid regex ({err})") from None


def _coerce(value: Any, default: Any, key: str, source: str) -> Any:
    """Check a value against its default's type; lists become tuples of strings."""
    if is_dataclass(default):
        # A nested table such as [auth.form], checked key by key like a section.
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: [{key}] must be a table")
        return _table(value, type(default), key, source)
    if isinstance(default, tuple):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{source}: {key} must be a list of strings")
        return tuple(value)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{source}: {key} must be true or false")
        return value
    if isinstance(default, int | float) and not isinstance(default, bool):
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ConfigError(f"{source}: {key} must be a number")
        if isinstance(default, int) and not (isinstance(value, int) or value.is_integer()):
            raise ConfigError(f"{source}: {key} must be a whole number, not {value!r}")
        return type(default)(value)
    if not isinstance(value, str):
        raise ConfigError(f"{source}: {key} must be a string")
    return value


def _list(raw: dict[str, Any], key: str, source: str) -> list[Any]:
    value = raw.get(key, [])
    if not isinstance(value, list):
        raise ConfigError(f"{source}: {key} must be an array of tables ([[{key}]])")
    return value


def _team(item: Any, index: int, source: str) -> Team:
    where = f"{source}: teams[{index}]"
    if not isinstance(item, dict):
        raise ConfigError(f"{where} must be a table with name and paths")
    _reject_unknown(item, list(TEAM_KEYS), source, f"teams[{index}].")
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}.name is missing; give each team a name")
    paths = item.get("paths", [])
    if not isinstance(paths, list) or not all(
        isinstance(p, str) and p.startswith("/") for p in paths
    ):
        raise ConfigError(f'{where}.paths must be a list of paths starting with "/"')
    patterns = item.get("patterns", [])
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise ConfigError(f"{where}.patterns must be a list of regular expressions")
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as err:
            raise ConfigError(
                f"{where}.patterns: {pattern!r} is not a valid regex ({err})"
            ) from None
    email = item.get("email")
    if email is not None and not isinstance(email, str):
        raise ConfigError(f"{where}.email must be a string")
    return Team(name=name.strip(), paths=tuple(paths), patterns=tuple(patterns), email=email)


def _reject_unknown(values: dict[str, Any], known: list[str], source: str, prefix: str) -> None:
    for key in values:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = (
                f"; did you mean {prefix}{close[0]}?"
                if close
                else (f"; known keys: {', '.join(prefix + k for k in known)}")
            )
            raise ConfigError(f"{source}: unknown key {prefix}{key}{hint}")
