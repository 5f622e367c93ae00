"""Checks of a page with the keyboard: focus visible, focus order and traps, keyboard use."""

from __future__ import annotations

from browser.own_checks import BrowserCheck

# Filled in by issue 14's keyboard checks: "focus", "keyboard", "hover".
RUNNERS: dict[str, BrowserCheck] = {}
