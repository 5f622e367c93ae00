"""The gate's policy: which kinds of finding can fail `siteaudit check`, and from what impact.

`--fail-on-kinds` names the kinds, comma-separated (default: accessibility alone, as before
issue 17). Accessibility's level is `--fail-on`. A content kind named alone fails the gate on
any new violation of it; `KIND:IMPACT` (e.g. `broken-link:serious`) only on those of that
impact or worse. docs/ci.md gives the rules and the impacts each kind's findings carry.
"""

from __future__ import annotations

from dataclasses import dataclass

from vocabulary.impacts import IMPACTS, LEAST

ACCESSIBILITY = "accessibility"

# Every kind of finding the gate can judge (findings.kind), with what it is: SARIF's
# description of the kind, and the Error line's list of valid kinds.
GATE_KINDS: dict[str, str] = {
    ACCESSIBILITY: "Accessibility: axe-core's rules and siteaudit's own checks",
    "broken-link": "A link whose target answers an error or cannot be reached",
    "document": "A PDF or Office file failing its accessibility checks",
    "readability": "A page reading above its target reading age",
    "stale": "A page past its review date, not updated for too long, or undated",
    "spelling": "A misspelt word in a page's main content",
}

# What a content kind links to in SARIF when its finding gives no help page of its own.
KIND_HELP = {
    ACCESSIBILITY: "https://dequeuniversity.com/rules/axe/",
    "broken-link": "https://www.gov.uk/guidance/content-design/links",
    "document": "https://www.gov.uk/guidance/publishing-accessible-documents",
    "readability": "https://www.gov.uk/guidance/content-design/writing-for-gov-uk",
    "stale": "https://www.gov.uk/guidance/content-design/user-needs",
    "spelling": "https://www.gov.uk/guidance/style-guide/a-to-z-of-gov-uk-style",
}

DEFAULT_KINDS = ACCESSIBILITY


class PolicyError(ValueError):
    """A --fail-on-kinds that names no kind, an unknown kind or an unknown impact."""


@dataclass(frozen=True)
class GatePolicy:
    fail_on: str = "serious"
    fail_on_needs_review: bool = False
    fail_on_new_rules: bool = False
    # Each kind that can fail the gate, with the least impact that does; accessibility's
    # is None, as --fail-on gives it.
    kinds: tuple[tuple[str, str | None], ...] = ((ACCESSIBILITY, None),)

    def threshold(self, kind: str) -> str | None:
        """The least impact of this kind that fails the gate; None if the kind cannot."""
        for named, level in self.kinds:
            if named == kind:
                return self.fail_on if kind == ACCESSIBILITY else level or LEAST
        return None

    @property
    def kind_names(self) -> tuple[str, ...]:
        return tuple(kind for kind, _ in self.kinds)

    @property
    def only_accessibility(self) -> bool:
        """The policy before issue 17: its outputs read exactly as they did."""
        return self.kind_names == (ACCESSIBILITY,)

    def describe(self) -> str:
        """The policy in --fail-on-kinds form, each kind with its level (accessibility's
        from --fail-on)."""
        return ",".join(f"{kind}:{self.threshold(kind)}" for kind in self.kind_names)


def parse_fail_on_kinds(text: str) -> tuple[tuple[str, str | None], ...]:
    """--fail-on-kinds as (kind, impact or None) pairs, in the order given."""
    kinds: list[tuple[str, str | None]] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        kind, _, level = (part.strip() for part in item.partition(":"))
        if kind not in GATE_KINDS:
            raise PolicyError(f"unknown kind {kind!r}: {valid_kinds()}")
        if level and kind == ACCESSIBILITY:
            raise PolicyError(
                f"{item!r}: accessibility's level is --fail-on; write accessibility and "
                f"--fail-on {level}"
            )
        if level and level not in IMPACTS:
            raise PolicyError(
                f"{item!r}: unknown impact {level!r}; give one of {', '.join(IMPACTS[::-1])}"
            )
        if kind in (k for k, _ in kinds):
            raise PolicyError(f"{kind!r} is named twice: name each kind once")
        kinds.append((kind, level or None))
    if not kinds:
        raise PolicyError(f"names no kind: {valid_kinds()}")
    return tuple(kinds)


def valid_kinds() -> str:
    return (
        f"give a comma-separated list of {', '.join(GATE_KINDS)}, a content kind "
        "optionally as KIND:IMPACT (e.g. broken-link:serious)"
    )
