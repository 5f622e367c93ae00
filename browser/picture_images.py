"""Both pictures of an element cut from one screenshot of the window, with Pillow.

Chromium spends most of a screenshot's time waiting for a fresh frame, so one screenshot
of the window (the element outlined in the page) is taken, and the close-up and the small
page picture are made from it here: cropped, scaled and encoded as WebP, the page
picture's thicker ring drawn over the page's own outline.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass

from PIL import Image, ImageDraw

MAGENTA, WHITE_RGB = (255, 0, 255), (255, 255, 255)
# Chromium's screenshot of the window is its viewport's size: far below this; a larger one
# is refused before it is decoded.
MAX_PIXELS = 40_000_000
# Pillow's WebP effort: 0 is fastest, 6 smallest; 2 costs a few ms for these sizes.
WEBP_METHOD = 2


@dataclass(frozen=True)
class Encoded:
    """A WebP file and its size in pixels."""

    image: bytes
    width: int
    height: int


def open_window(data: bytes) -> Image.Image | None:
    """The window's screenshot (PNG, one pixel to a CSS pixel), or None if it is not one."""
    try:
        picture = Image.open(io.BytesIO(data))
        if picture.width * picture.height > MAX_PIXELS:
            return None
        return picture.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def close_up(
    window: Image.Image,
    box: tuple[float, float, float, float],
    scale: float,
    qualities: Iterable[int],
    shrinks: Iterable[float],
    max_bytes: int,
) -> Encoded | None:
    """The box (left, top, right, bottom, in the window) scaled by `scale`, as a WebP at
    the highest quality, then the largest size, that fits max_bytes."""
    left, top, right, bottom = (round(v) for v in box)
    crop = window.crop((left, top, right, bottom))
    for shrink in shrinks:
        scaled = resized(crop, scale * shrink)
        for quality in qualities:
            image = webp(scaled, quality)
            if len(image) <= max_bytes:
                return Encoded(image, scaled.width, scaled.height)
    return None


def page_picture(
    window: Image.Image,
    element: tuple[float, float, float, float],
    width: int,
    rings: list[tuple[float, float, tuple[int, int, int]]],
    quality: int,
) -> Encoded:
    """The window scaled to `width` pixels wide, with rings around the element (left, top,
    width, height in the window): each ring is (its outer edge's distance from the
    element, its thickness, its colour), in CSS pixels."""
    scale = width / max(1, window.width)
    small = resized(window, scale)
    draw = ImageDraw.Draw(small)
    x, y, w, h = element
    for out, thick, colour in rings:
        draw.rectangle(
            (
                round((x - out) * scale),
                round((y - out) * scale),
                round((x + w + out) * scale) - 1,
                round((y + h + out) * scale) - 1,
            ),
            outline=colour,
            width=max(1, round(thick * scale)),
        )
    return Encoded(webp(small, quality), small.width, small.height)


def resized(picture: Image.Image, scale: float) -> Image.Image:
    if scale >= 1:
        return picture
    size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    return picture.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)


def webp(picture: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    picture.save(out, "WEBP", quality=quality, method=WEBP_METHOD)
    return out.getvalue()
