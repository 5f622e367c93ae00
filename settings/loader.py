"""The settings loader: TOML files and command-line values, checked into the settings model."""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from dataclasses import is_dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from settings.model import (
    SECTIONS,
    VIEWPORT_HEIGHTS,
    VIEWPORT_WIDTHS,
    WCAG_LEVELS,
    Config,
    FormLoginConfig,
    PolicyRule,
    Team,
    viewport_size,
)
from vocabulary.checks import CHECKS

# Characters that would split or corrupt an HTTP header.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ConfigError(Exception):
    """A configuration problem, phrased as one line naming the file, key and fix."""


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
    config = with_words_file(config, Path(path).parent)
    # A scheduled scan runs from anywhere: a relative path is the configuration's.
    for section in ("site", "email"):
        ca_file = getattr(config, section).ca_file
        if ca_file and not Path(ca_file).is_absolute():
            values = replace(getattr(config, section), ca_file=str(Path(path).parent / ca_file))
            config = replace(config, **{section: values})
    return config


def with_words_file(config: Config, folder: Path) -> Config:
    """spelling.words_file's words added to spelling.words (a relative path is from folder)."""
    spelling = config.spelling
    if not spelling.words_file:
        return config
    path = Path(spelling.words_file)
    path = path if path.is_absolute() else folder / path
    text = read_text_file(path, "spelling.words_file")
    lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    where = f"{path}: line"
    words = [check_word(word, f"{where} {n}") for n, word in enumerate(lines, 1) if word]
    changed = replace(spelling, words=spelling.words + tuple(words), words_file=str(path))
    return replace(config, spelling=changed)


def check_word(word: str, where: str) -> str:
    """One word of the council's list: letters, with apostrophes and hyphens inside."""
    if not WORD.fullmatch(word):
        raise ConfigError(
            f"{where}: {word[:60]!r} is not one word; give one word a line or entry "
            "(letters, with an apostrophe or hyphen inside), such as Pontypridd"
        )
    return word


WORD = re.compile(r"\w+(?:['\-\u2019]\w+)*")


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
    teams = tuple(
        _team(item, i, source) for i, item in enumerate(array_of_tables(raw, "teams", source))
    )
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
    if config.statement.url:
        check_start_url(config.statement.url, f"{src}: statement.url")
    check_numbers(config)
    if CONTROL.search(config.site.user_agent):
        raise ConfigError(USER_AGENT_ON_ONE_LINE.format(where=f"{src}: site.user_agent"))
    if CONTROL.search(config.site.name) or len(config.site.name) > 200:
        # It goes into an email subject and every report page's header.
        raise ConfigError(f"{src}: site.name must be one line of at most 200 characters")
    if config.audit.wcag not in WCAG_LEVELS:
        choices = ", ".join(WCAG_LEVELS)
        raise ConfigError(f"{src}: audit.wcag must be one of {choices}, not {config.audit.wcag!r}")
    if viewport_size(config.audit.viewport) is None:
        raise ConfigError(
            f"{src}: audit.viewport must be WIDTHxHEIGHT in CSS pixels (width "
            f"{VIEWPORT_WIDTHS[0]} to {VIEWPORT_WIDTHS[1]}, height {VIEWPORT_HEIGHTS[0]} to "
            f'{VIEWPORT_HEIGHTS[1]}), such as "1280x1024" or "390x844", '
            f"not {config.audit.viewport!r}"
        )
    if unknown := [c for c in config.audit.checks if c not in CHECKS] or (
        [] if config.audit.checks else ["(none)"]
    ):
        raise ConfigError(
            f"{src}: audit.checks names {unknown[0]!r}: give some of {', '.join(CHECKS)}"
        )
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
    for index, word in enumerate(config.spelling.words):
        check_word(word, f"{src}: spelling.words[{index}]")


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
    "spelling.site_word_pages": (2, "a number of pages, at least 2"),
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


def array_of_tables(raw: dict[str, Any], key: str, source: str) -> list[Any]:
    """A TOML array of tables ([[key]]), or an empty list if there is none."""
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
