"""WCAG levels to axe-core tags, and axe tags back to success-criterion numbers."""

from __future__ import annotations

import re

# axe tags each rule with the levels it belongs to; a level includes every lower one.
LEVEL_TAGS = {
    "2.0-A": ("wcag2a",),
    "2.0-AA": ("wcag2a", "wcag2aa"),
    "2.1-A": ("wcag2a", "wcag21a"),
    "2.1-AA": ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa"),
    "2.2-A": ("wcag2a", "wcag21a", "wcag22a"),
    "2.2-AA": ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"),
}

# A criterion tag is "wcag" + principle + guideline + criterion digits (wcag1410 is 1.4.10);
# level tags such as wcag21aa end in letters and never match.
CRITERION_TAG = re.compile(r"^wcag(\d)(\d)(\d+)$")


def run_only_tags(level: str, best_practices: bool = False) -> list[str]:
    """The axe `runOnly` tags for a WCAG level such as "2.1-AA"."""
    tags = list(LEVEL_TAGS[level])
    if best_practices:
        tags.append("best-practice")
    return tags


def criteria_from_tags(tags: list[str]) -> list[str]:
    """Success criteria such as "1.1.1" named by a rule's axe tags, in tag order."""
    criteria = []
    for tag in tags:
        match = CRITERION_TAG.match(tag)
        if match and (number := ".".join(match.groups())) not in criteria:
            criteria.append(number)
    return criteria


def level_of(tags: list[str]) -> str | None:
    """The WCAG conformance level ("A" or "AA") a rule's tags place it at, if any."""
    levels = {t for t in tags if t.startswith("wcag") and t.endswith("a") and t[4:5].isdigit()}
    if any(t.endswith("aa") for t in levels):
        return "AA"
    return "A" if levels else None


# WCAG 2.2 success criteria (2.0 and 2.1 included; 4.1.1 Parsing is obsolete in 2.2).
CRITERION_NAMES = {
    "1.1.1": "Non-text Content",
    "1.2.1": "Audio-only and Video-only (Prerecorded)",
    "1.2.2": "Captions (Prerecorded)",
    "1.2.3": "Audio Description or Media Alternative (Prerecorded)",
    "1.2.4": "Captions (Live)",
    "1.2.5": "Audio Description (Prerecorded)",
    "1.3.1": "Info and Relationships",
    "1.3.2": "Meaningful Sequence",
    "1.3.3": "Sensory Characteristics",
    "1.3.4": "Orientation",
    "1.3.5": "Identify Input Purpose",
    "1.4.1": "Use of Color",
    "1.4.2": "Audio Control",
    "1.4.3": "Contrast (Minimum)",
    "1.4.4": "Resize Text",
    "1.4.5": "Images of Text",
    "1.4.10": "Reflow",
    "1.4.11": "Non-text Contrast",
    "1.4.12": "Text Spacing",
    "1.4.13": "Content on Hover or Focus",
    "2.1.1": "Keyboard",
    "2.1.2": "No Keyboard Trap",
    "2.1.3": "Keyboard (No Exception)",
    "2.1.4": "Character Key Shortcuts",
    "2.2.1": "Timing Adjustable",
    "2.2.2": "Pause, Stop, Hide",
    "2.3.1": "Three Flashes or Below Threshold",
    "2.4.1": "Bypass Blocks",
    "2.4.2": "Page Titled",
    "2.4.3": "Focus Order",
    "2.4.4": "Link Purpose (In Context)",
    "2.4.5": "Multiple Ways",
    "2.4.6": "Headings and Labels",
    "2.4.7": "Focus Visible",
    "2.4.11": "Focus Not Obscured (Minimum)",
    "2.5.1": "Pointer Gestures",
    "2.5.2": "Pointer Cancellation",
    "2.5.3": "Label in Name",
    "2.5.4": "Motion Actuation",
    "2.5.7": "Dragging Movements",
    "2.5.8": "Target Size (Minimum)",
    "3.1.1": "Language of Page",
    "3.1.2": "Language of Parts",
    "3.2.1": "On Focus",
    "3.2.2": "On Input",
    "3.2.3": "Consistent Navigation",
    "3.2.4": "Consistent Identification",
    "3.2.6": "Consistent Help",
    "3.3.1": "Error Identification",
    "3.3.2": "Labels or Instructions",
    "3.3.3": "Error Suggestion",
    "3.3.4": "Error Prevention (Legal, Financial, Data)",
    "3.3.7": "Redundant Entry",
    "3.3.8": "Accessible Authentication (Minimum)",
    "4.1.1": "Parsing",
    "4.1.2": "Name, Role, Value",
    "4.1.3": "Status Messages",
}

# The conformance level of each criterion above ("AAA" for the few axe tags beyond AA).
CRITERION_LEVELS = {
    **dict.fromkeys(
        (
            "1.1.1", "1.2.1", "1.2.2", "1.2.3", "1.3.1", "1.3.2", "1.3.3", "1.4.1", "1.4.2",
            "2.1.1", "2.1.2", "2.1.4", "2.2.1", "2.2.2", "2.3.1", "2.4.1", "2.4.2", "2.4.3",
            "2.4.4", "2.5.1", "2.5.2", "2.5.3", "2.5.4", "3.1.1", "3.2.1", "3.2.2", "3.2.6",
            "3.3.1", "3.3.2", "3.3.7", "4.1.1", "4.1.2",
        ),
        "A",
    ),
    **dict.fromkeys(
        (
            "1.2.4", "1.2.5", "1.3.4", "1.3.5", "1.4.3", "1.4.4", "1.4.5", "1.4.10", "1.4.11",
            "1.4.12", "1.4.13", "2.4.5", "2.4.6", "2.4.7", "2.4.11", "2.5.7", "2.5.8", "3.1.2",
            "3.2.3", "3.2.4", "3.3.3", "3.3.4", "3.3.8", "4.1.3",
        ),
        "AA",
    ),
    "2.1.3": "AAA",
}  # fmt: skip


def describe_criteria(wcag: str | None) -> list[str]:
    """ "1.1.1,4.1.2" as ["1.1.1 Non-text Content", "4.1.2 Name, Role, Value"]."""
    numbers = [n for n in (wcag or "").split(",") if n]
    return [f"{n} {CRITERION_NAMES.get(n, '')}".strip() for n in numbers]


def understanding_url(number: str) -> str:
    """W3C's "Understanding WCAG 2.1" page of a criterion: its name, lower-cased and hyphenated
    ("1.4.10" is .../reflow.html, "2.4.4" .../link-purpose-in-context.html)."""
    slug = re.sub(r"[^a-z0-9]+", "-", CRITERION_NAMES[number].lower()).strip("-")
    return f"https://www.w3.org/WAI/WCAG21/Understanding/{slug}.html"
