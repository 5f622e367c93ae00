"""The decisions file: [[decision]] tables, and the CI gate's older [[waiver]] ones, checked.

One reviewed TOML file serves scan, report and check (--decisions; check's --waivers is the
same file), so a problem accepted once is accepted everywhere. Every bad entry is one
ConfigError line naming the file, the entry and the fix. docs/ci.md describes the format.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from settings.loader import ConfigError, array_of_tables, read_toml
from vocabulary.decisions import DECISIONS, Decision
from vocabulary.urls import path_and_query

DECISION_KEYS = ("fingerprint", "page", "decision", "reason", "expires", "decided_by")
WAIVER_KEYS = ("fingerprint", "rule", "url", "reason", "approved_by", "expires")


def load_decisions(path: str, option: str = "--decisions") -> list[Decision]:
    """A decisions file's entries, each checked; a ConfigError names the first bad one."""
    if not Path(path).exists():
        raise ConfigError(f"{path}: no such decisions file; check the {option} path")
    return decisions_from(read_toml(path, option), path)


def decisions_from(data: dict[str, Any], path: str) -> list[Decision]:
    """The [[decision]] tables, then the [[waiver]] tables (read as accepted decisions)."""
    unknown = set(data) - {"decision", "waiver"}
    if unknown:
        raise ConfigError(
            f"{path}: unknown table {sorted(unknown)[0]}; decisions are [[decision]] tables "
            "(older files' [[waiver]] tables are read too)"
        )
    decisions = [
        decision_from(item, f"{path}: decision[{i}]")
        for i, item in enumerate(array_of_tables(data, "decision", path))
    ]
    decisions += [
        waiver_from(item, f"{path}: waiver[{i}]")
        for i, item in enumerate(array_of_tables(data, "waiver", path))
    ]
    check_repeats(decisions)
    return decisions


def check_keys(item: Any, where: str, allowed: tuple[str, ...]) -> None:
    if not isinstance(item, dict):
        raise ConfigError(f"{where} must be a table")
    if extra := set(item) - set(allowed):
        raise ConfigError(
            f"{where}: unknown key {sorted(extra)[0]}; use {', '.join(sorted(allowed))}"
        )
    for key in ("fingerprint", "page", "rule", "url", "decision", "decided_by"):
        if key in item and not isinstance(item[key], str):
            raise ConfigError(f'{where}.{key} must be a string in quotes, e.g. {key} = "..."')


def text(item: dict[str, Any], key: str, where: str, fix: str) -> str:
    """A required key's text, stripped; a ConfigError with the fix when it is missing."""
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}.{key} is missing: {fix}")
    return value.strip()


def expiry(item: dict[str, Any], where: str, required: bool) -> date | None:
    value = item.get("expires")
    if value is None and not required:
        return None
    if value is None:
        raise ConfigError(
            f"{where}.expires is missing: give the last day it holds, "
            "e.g. expires = 2027-03-31 (no quotes)"
        )
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ConfigError(f"{where}.expires must be a date such as 2026-12-31 (no quotes)")
    return value


def page_of(value: str | None, where: str) -> str | None:
    """The page a decision is on: its path and query, as the gate names pages."""
    if value is None:
        return None
    if not value.startswith("/"):
        example = path_and_query(value) if "://" in value else "/bins/collection-days"
        raise ConfigError(
            f"{where}.page must be the page's path and query without the host, e.g. page = \""
            f'{example or "/"}" (leave page out for a problem in the shared template)'
        )
    return value


def decision_from(item: Any, where: str) -> Decision:
    """A [[decision]] table: fingerprint, optional page, decision, reason, and expires
    (required for accepted, optional otherwise), optional decided_by."""
    check_keys(item, where, DECISION_KEYS)
    fingerprint = text(item, "fingerprint", where, "copy it from the report's CSV or the check")
    kind = item.get("decision")
    if kind not in DECISIONS:
        shown = f'"{kind}"' if isinstance(kind, str) else "missing"
        raise ConfigError(f"{where}.decision is {shown}: use one of {', '.join(DECISIONS)}")
    reason = text(item, "reason", where, "say why, in a sentence")
    expires = expiry(item, where, required=kind == "accepted")
    return Decision(
        decision=kind,
        reason=reason,
        expires=expires,
        decided_by=(item.get("decided_by") or "").strip() or None,
        fingerprint=fingerprint,
        page=page_of(item.get("page"), where),
        entry=where,
    )


def waiver_from(item: Any, where: str) -> Decision:
    """An old [[waiver]] table: fingerprint, or rule with an optional url glob; reason,
    approved_by and expires required. It is an accepted decision."""
    check_keys(item, where, WAIVER_KEYS)
    if not item.get("fingerprint") and not item.get("rule"):
        raise ConfigError(f"{where} needs a fingerprint, or a rule (with a url pattern)")
    reason = text(item, "reason", where, "say why, and who approved it")
    approved_by = text(item, "approved_by", where, "say why, and who approved it")
    return Decision(
        decision="accepted",
        reason=reason,
        expires=expiry(item, where, required=True),
        decided_by=approved_by,
        fingerprint=item.get("fingerprint") or None,
        rule=item.get("rule") or None,
        url=item.get("url") or None,
        entry=where,
    )


def check_repeats(decisions: list[Decision]) -> None:
    """Two decisions on the same finding would leave which one holds to their order."""
    seen: dict[tuple[str | None, str | None, str | None, str | None], str] = {}
    for decision in decisions:
        key = (decision.fingerprint, decision.page, decision.rule, decision.url)
        if key in seen:
            raise ConfigError(
                f"{decision.entry} is about the same finding as {seen[key].rsplit(': ', 1)[-1]}; "
                "keep one of them"
            )
        seen[key] = decision.entry
