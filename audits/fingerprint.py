"""Fingerprints that identify the same problem on the same element from scan to scan."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from html.parser import HTMLParser

# Structural position changes whenever an editor adds a paragraph above: drop it.
NTH = re.compile(r":nth-(?:child|of-type|last-child|last-of-type)\([^)]*\)")
# CMSs number ids and classes (#block-1234, .views-row-7): digit runs are noise.
DIGITS = re.compile(r"\d+")
# Attributes whose values change on every build or request.
VOLATILE_ATTRIBUTES = {"id", "nonce", "integrity", "data-token", "csrf", "token", "value"}
VOLATILE_PATTERN = re.compile(r"(^|[-_])(token|nonce|csrf|session|sid)([-_]|$)")


def normalise_selector(selector: str) -> str:
    """A selector without positional pseudo-classes or digit runs."""
    return DIGITS.sub("", NTH.sub("", selector))


def normalise_target(target: list) -> list:
    """axe's target (a list of selectors, one per frame, or nested for shadow DOM)."""
    return [normalise_target(t) if isinstance(t, list) else normalise_selector(t) for t in target]


class _StartTag(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tag: tuple[str, list[tuple[str, str | None]]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.tag is None:
            self.tag = (tag, attrs)


def normalise_start_tag(snippet: str) -> str:
    """The snippet's first start tag: sorted attributes, no id/nonce/token, no query values."""
    parser = _StartTag()
    parser.feed(snippet or "")
    if parser.tag is None:
        return ""
    name, attrs = parser.tag
    kept = []
    for key, value in sorted(attrs, key=lambda kv: kv[0]):
        if key in VOLATILE_ATTRIBUTES or VOLATILE_PATTERN.search(key):
            continue
        if value is not None and "?" in value:
            value = value.split("?", 1)[0]  # cache-busting ?v=123 changes every release
        kept.append(key if value is None else f'{key}="{value}"')
    return f"<{' '.join([name, *kept])}>"


def base_key(rule_id: str, target: list, snippet: str) -> str:
    """The part of a fingerprint that ignores the element's position among its twins."""
    return json.dumps([rule_id, normalise_target(target), normalise_start_tag(snippet)])


def fingerprints(nodes: list[tuple[str, list, str]]) -> list[str]:
    """Fingerprint (rule_id, target, snippet) triples from one page, in document order.

    Twins (two identical images without alt) share a base key, so each also gets its
    position among them: the first stays the first when a paragraph is added above.
    """
    seen: Counter[str] = Counter()
    result = []
    for rule_id, target, snippet in nodes:
        key = base_key(rule_id, target, snippet)
        position = seen[key]
        seen[key] += 1
        digest = hashlib.sha256(f"{key}#{position}".encode()).hexdigest()[:16]
        result.append(f"{rule_id}:{digest}")
    return result
