"""Where axe-core's script is: the axe.min.js that npm ci installs from package-lock.json."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def axe_source_path() -> Path:
    """axe-core's axe.min.js in the project's node_modules."""
    return PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
