"""Checks of how a page's layout holds up: reflow at 320 px, text spacing, text at 200%."""

from __future__ import annotations

from browser.own_checks import BrowserCheck

# Filled in by issue 14's layout checks: "reflow", "text-spacing", "resize-text".
RUNNERS: dict[str, BrowserCheck] = {}
