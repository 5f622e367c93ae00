"""Headless Chromium: launching it, its DevTools connection, its proxy and the axe session."""
