"""The pictures of elements a report shows: each finding's, and their files in the report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reports.files import write_atomic
from store.pictures import picture_formats, picture_image
from vocabulary.findings import Finding


@dataclass(frozen=True)
class ElementPictures:
    """Where a finding's element is, in words, and its pictures' ids (or why there are none).
    The location is the page's text (its headings): escape it wherever it is shown."""

    location: str = ""
    picture: str | None = None  # pictures.id of the element, outlined
    page_picture: str | None = None  # pictures.id of the window, the element outlined
    note: str = ""

    @classmethod
    def of(cls, finding: Finding) -> ElementPictures:
        location, note = finding.location or "", finding.picture_note or ""
        return cls(location, finding.picture, finding.page_picture, note)


class PictureFiles:
    """A scan's pictures as files of a report: each one named when a page or CSV shows it,
    written into the report's pictures/ folder afterwards."""

    def __init__(self, db: Any, scan_id: int) -> None:
        self.db = db
        self.formats = picture_formats(db, scan_id)  # only ids and formats fit for file names
        self.used: dict[str, str] = {}

    def path(self, picture_id: str | None) -> str:
        """The picture's file in the report folder ("pictures/<id>.webp"), "" if not stored."""
        if picture_id not in self.formats:
            return ""
        path = f"pictures/{picture_id}.{self.formats[picture_id]}"
        self.used[path] = picture_id
        return path

    def write(self, out: Path) -> list[Path]:
        """Every picture named so far, as a file. A symlink (or file) planted where the
        pictures/ folder goes is replaced by the folder, never followed."""
        if not self.used:
            return []
        folder = out / "pictures"
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            folder.unlink()
        folder.mkdir(exist_ok=True)
        written = []
        for path, picture_id in sorted(self.used.items()):
            image = picture_image(self.db, picture_id)
            if image is not None:
                written.append(write_atomic(out / path, image))
        return written
