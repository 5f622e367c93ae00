"""Pictures of the elements axe-core found, taken in the session that audited the page.

Right after axe-core has finished, one pass in an isolated world (the page's scripts cannot
reach it) reads where each element is: its box, whether it can be seen at all, and where it
is in words (the nearest heading above it, and its place among elements of its kind). Then,
for each visible element that violates a rule, an outline is drawn around it and Chromium
takes two pictures through DevTools: the element with some of the page around it, and a
small picture of the window with the element marked. Nothing is loaded again.

An element already pictured earlier in the scan (the same axe target, HTML and box in the
same window, as a site's header or footer is on every page) gets the pictures it had then,
from a cache the scan's browser sessions share, without new screenshots.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import time
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from browser.picture_cache import PictureCache, element_key

WORLD = "siteaudit-pictures"
# Elements pictured on one page; the rest get a note.
MAX_PICTURED = 50
# CSS pixels of the page shown around an element, and the most of a tall element shown.
CONTEXT = 48
MAX_CLIP_HEIGHT = 420
# The outline: a gap, then a magenta ring between two white ones (on any background).
GAP, RING, WHITE = 2, 3, 2
PAGE_RING = 10  # thicker in the small page picture, which is a quarter of the size
MAX_WIDTH = 600  # pixels of the element's picture
PAGE_WIDTH = 320  # pixels of the page's picture
MAX_BYTES = 40_000
# WebP qualities tried in turn until a picture fits MAX_BYTES, then smaller scales.
QUALITIES = (70, 45)
SHRINK = (1.0, 0.7, 0.5)

NO_SCREENSHOTS = "pictures turned off (--no-screenshots)"
IN_FRAME = "inside a frame: no picture"
TOO_MANY = "not pictured: more than {} on this page"
OUT_OF_TIME = "not pictured: the page's time ran out first"
LEFT_PAGE = "not pictured: the page tried to go elsewhere while it was pictured"
NOT_FOUND = "not pictured: the element was no longer on the page"
TOO_LARGE = "not pictured: the picture would be too large"


class PictureError(Exception):
    """The pictures of this page could not be taken; the audit stands without them."""


class Connection(Protocol):
    def call(
        self, method: str, params: dict[str, Any] | None = None, timeout: float = 10
    ) -> Any: ...


@dataclass(frozen=True)
class Picture:
    """One stored picture: its id is the SHA-256 of its bytes, so equal pictures are one."""

    format: str
    width: int
    height: int
    image: bytes

    @property
    def id(self) -> str:
        return hashlib.sha256(self.image).hexdigest()

    def row(self) -> dict[str, Any]:
        """The pictures table's row."""
        return {
            "id": self.id,
            "format": self.format,
            "width": self.width,
            "height": self.height,
            "bytes": len(self.image),
            "image": self.image,
        }


@dataclass(frozen=True)
class ElementView:
    """What a finding learns of its element: findings.location, element_box, picture,
    page_picture and picture_note."""

    location: str | None = None
    box: dict[str, int] | None = None
    picture: str | None = None
    page_picture: str | None = None
    note: str | None = None

    def columns(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "element_box": json.dumps(self.box) if self.box else None,
            "picture": self.picture,
            "page_picture": self.page_picture,
            "picture_note": self.note,
        }


@dataclass
class PageViews:
    """One view per element found, violations first, in axe's order (the order of
    audits.accessibility.findings_from_axe), and the pictures they point to."""

    views: list[ElementView] = field(default_factory=list)
    pictures: dict[str, Picture] = field(default_factory=dict)


def node_targets(violations: list[dict[str, Any]], incomplete: list[dict[str, Any]]) -> list[Any]:
    """axe's target of every element, violations then needs-review, in findings order."""
    return [
        n.get("target") for rules in (violations, incomplete) for r in rules for n in r["nodes"]
    ]


def view_page(
    devtools: Connection,
    outcome: Any,
    deadline: float,
    screenshots: bool = True,
    cache: PictureCache | None = None,
    most: int | None = None,
    look: str = "",
) -> PageViews:
    """Where each element of axe's result is, and a picture of each (violations first):
    of `most` elements at most (MAX_PICTURED if not given). `look` names the styles a
    check has put on the page, if any, for the cache.

    Never raises for the page's sake: whatever goes wrong costs the pictures (a note says
    why), not the audit. Locations and boxes are read even without screenshots: they cost
    one call.
    """
    results = outcome.results()
    targets = node_targets(results["violations"], results["incomplete"])
    if not targets:
        return PageViews()
    # Needs-review elements too, after the violations: a person must look at them, and a
    # picture shows which one. MAX_PICTURED a page bounds the cost.
    pictured = len(targets)
    try:
        camera = Camera(devtools, deadline)
        views = camera.describe(targets)
    except PictureError as err:
        return PageViews([ElementView(note=str(err))] * len(targets))
    if not screenshots:
        return PageViews([v if v.note else replace(v, note=NO_SCREENSHOTS) for v in views])
    nodes = [
        n
        for rules in (results["violations"], results["incomplete"])
        for r in rules
        for n in r["nodes"]
    ]
    keys = [element_key(n, v.box, camera.viewport, look) for n, v in zip(nodes, views, strict=True)]
    return camera.picture_all(views, pictured, cache, keys, most)


def pictures_taken(views: PageViews) -> int:
    return sum(1 for v in views.views if v.picture)


def join_views(parts: list[tuple[PageViews, int]]) -> PageViews:
    """Several passes' views as one page's, in findings order: each pass (its views, and how
    many of them are its violations' elements) lists its violations' elements then its
    needs-review ones, and each pass's rules follow the one's before."""
    views = [v for pass_, violations in parts for v in pass_.views[:violations]]
    views += [v for pass_, violations in parts for v in pass_.views[violations:]]
    return PageViews(views, {k: p for pass_, _ in parts for k, p in pass_.pictures.items()})


class Camera:
    """The DevTools calls that read and picture one page's elements, within its deadline."""

    def __init__(self, devtools: Connection, deadline: float) -> None:
        self.devtools, self.deadline = devtools, deadline
        self.pictures: dict[str, Picture] = {}
        self.viewport: Any = None  # the window's width and height, read by describe
        tree = self._send("Page.getFrameTree", {})["frameTree"]["frame"]
        self.loader_id = tree.get("loaderId")
        params = {"frameId": tree["id"], "worldName": WORLD}
        self.context_id = self._send("Page.createIsolatedWorld", params)["executionContextId"]
        reply = self._send(
            "Runtime.evaluate", {"expression": LIB_JS, "contextId": self.context_id, "silent": True}
        )
        if "exceptionDetails" in reply:
            raise PictureError("not pictured: the picture script could not be loaded")

    def describe(self, targets: list[Any]) -> list[ElementView]:
        reply = self._js("(targets) => siteaudit.describe(targets)", targets)
        found = reply.get("elements") if isinstance(reply, dict) else None
        if not isinstance(found, list) or len(found) != len(targets):
            raise PictureError("not pictured: the elements could not be read")
        self.viewport = reply.get("viewport")
        return [view_from(item) for item in found]

    def picture_all(
        self,
        views: list[ElementView],
        pictured: int,
        cache: PictureCache | None = None,
        keys: list[str | None] | None = None,
        most: int | None = None,
    ) -> PageViews:
        """Pictures of the first `pictured` views' elements, those with no note yet; if
        that fails part way, none at all, each of those with the reason as its note. An
        element in the cache (by its key, in the same order) gets its pictures from there."""
        views = list(views)
        keys = keys or []
        most = MAX_PICTURED if most is None else most
        taken: list[tuple[str, ElementView]] = []  # for the cache once the page is checked
        try:
            shown = 0
            for index, view in enumerate(views[:pictured]):
                if view.note:
                    continue
                if shown >= most:
                    views[index] = replace(view, note=TOO_MANY.format(MAX_PICTURED))
                    continue
                key = keys[index] if cache and index < len(keys) else None
                found = self.from_cache(view, cache, key)
                views[index] = found or self.picture_one(index, view)
                if key and not found and views[index].picture:
                    taken.append((key, views[index]))
                shown += 1
            self._js("() => siteaudit.done()")
            self._check_still_here()
        except PictureError as err:
            return PageViews(
                [without_pictures(v, str(err)) if i < pictured else v for i, v in enumerate(views)]
            )
        # Only now: pictures of a page that left while pictured must never be reused.
        for key, view in taken:
            assert cache is not None and view.picture
            cache.put(key, self.pictures[view.picture], self.pictures.get(view.page_picture or ""))
        return PageViews(views, self.pictures)

    def from_cache(
        self, view: ElementView, cache: PictureCache | None, key: str | None
    ) -> ElementView | None:
        """The element with the pictures it had earlier in the scan, if it was pictured; they
        go to the store again with this page's rows (stored once)."""
        found = cache.get(key) if cache and key else None
        if found is None:
            return None
        element, page = found
        self.pictures.update({p.id: p for p in (element, page) if p})
        return replace(view, picture=element.id, page_picture=page.id if page else None)

    def picture_one(self, index: int, view: ElementView) -> ElementView:
        shown = self._js("(i, c) => siteaudit.show(i, c)", index, CONTEXT)
        if not isinstance(shown, dict):
            return replace(view, note=NOT_FOUND)
        clip = element_clip(shown)
        if clip is None:
            return replace(view, note="not pictured: the element could not be scrolled into view")
        element = self._capture(clip)
        if element is None:
            return replace(view, note=TOO_LARGE)
        self._js("(r) => siteaudit.mark(r)", PAGE_RING)
        page = self._capture(window_clip(shown))
        return replace(view, picture=element.id, page_picture=page.id if page else None)

    def _capture(self, clip: dict[str, float]) -> Picture | None:
        """A WebP of the clip, at the highest quality and scale that fits MAX_BYTES."""
        for shrink in SHRINK:
            for quality in QUALITIES:
                params = {
                    "format": "webp",
                    "quality": quality,
                    "clip": {**clip, "scale": clip["scale"] * shrink},
                    "captureBeyondViewport": False,
                    # Chromium's faster WebP encoding: the same bytes for pictures this small.
                    "optimizeForSpeed": True,
                }
                image = base64.b64decode(self._send("Page.captureScreenshot", params)["data"])
                if len(image) <= MAX_BYTES:
                    picture = Picture("webp", *webp_size(image), image)
                    self.pictures[picture.id] = picture
                    return picture
        return None

    def _check_still_here(self) -> None:
        """The page must still be the audited document: a page that navigates when it is
        scrolled could otherwise have another document pictured as its own."""
        frame = self._send("Page.getFrameTree", {})["frameTree"]["frame"]
        if frame.get("loaderId") != self.loader_id:
            raise PictureError(LEFT_PAGE)

    def _js(self, function: str, *args: Any) -> Any:
        params = {
            "functionDeclaration": function,
            "executionContextId": self.context_id,
            "arguments": [{"value": a} for a in args],
            "returnByValue": True,
            "silent": True,
        }
        reply = self._send("Runtime.callFunctionOn", params)
        if "exceptionDetails" in reply:
            raise PictureError("not pictured: the picture script failed on this page")
        return reply["result"].get("value")

    def _send(self, method: str, params: dict[str, Any]) -> Any:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise PictureError(OUT_OF_TIME)
        try:
            return self.devtools.call(method, params, left)
        except Exception as err:  # DevTools and websocket errors alike
            if time.monotonic() >= self.deadline:
                raise PictureError(OUT_OF_TIME) from None
            raise PictureError(f"not pictured: the browser could not take it ({method})") from err


def without_pictures(view: ElementView, note: str) -> ElementView:
    return replace(view, picture=None, page_picture=None, note=view.note or note)


def view_from(item: Any) -> ElementView:
    """An ElementView from the describe pass's answer (read in our own world, but the
    text in it is the page's: bounded here, escaped wherever it is shown)."""
    if not isinstance(item, dict):
        return ElementView(note=NOT_FOUND)
    box = item.get("box")
    if isinstance(box, dict):
        box = {k: int(box.get(k) or 0) for k in ("x", "y", "width", "height")}
    location = item.get("location")
    note = item.get("note")
    return ElementView(
        location=str(location)[:200] if location else None,
        box=box if isinstance(box, dict) else None,
        note=str(note)[:200] if note else None,
    )


def element_clip(shown: dict[str, Any]) -> dict[str, float] | None:
    """The element's outline and CONTEXT around it, within the window, in page coordinates
    (what Page.captureScreenshot's clip takes), no taller than MAX_CLIP_HEIGHT."""
    ring = GAP + WHITE + RING + WHITE  # the white ring outside the magenta one too
    left = max(0.0, shown["x"] - ring - CONTEXT)
    top = max(0.0, shown["y"] - ring - CONTEXT)
    right = min(shown["viewWidth"], shown["x"] + shown["width"] + ring + CONTEXT)
    bottom = min(shown["viewHeight"], shown["y"] + shown["height"] + ring + CONTEXT)
    bottom = min(bottom, top + MAX_CLIP_HEIGHT)
    width, height = right - left, bottom - top
    if width < 1 or height < 1:
        return None
    return {
        "x": left + shown["scrollX"],
        "y": top + shown["scrollY"],
        "width": width,
        "height": height,
        "scale": min(1.0, MAX_WIDTH / width) / (shown.get("ratio") or 1),
    }


def window_clip(shown: dict[str, Any]) -> dict[str, float]:
    """The whole window, scaled down to PAGE_WIDTH pixels wide."""
    return {
        "x": shown["scrollX"],
        "y": shown["scrollY"],
        "width": shown["viewWidth"],
        "height": shown["viewHeight"],
        "scale": PAGE_WIDTH / max(1, shown["viewWidth"]) / (shown.get("ratio") or 1),
    }


def webp_size(image: bytes) -> tuple[int, int]:
    """Width and height from a WebP file's header (lossy, lossless or extended)."""
    chunk = image[12:16]
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", image[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        (bits,) = struct.unpack("<I", image[21:25])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return (
            int.from_bytes(image[24:27], "little") + 1,
            int.from_bytes(image[27:30], "little") + 1,
        )
    raise PictureError("not pictured: Chromium's picture was not a WebP file")


# The functions the DevTools calls use, loaded once into the page's isolated world. Text
# read from the page is bounded here and escaped wherever it is shown.
LIB_JS = r"""
var siteaudit = (() => {
  const KINDS = [
    ['image', 'img, svg, picture, area, input[type="image"], [role="img"]'],
    ['link', 'a[href], [role="link"]'],
    ['button', 'button, input[type="button"], input[type="submit"], input[type="reset"], '
      + '[role="button"]'],
    ['form field', 'input:not([type="hidden"]), select, textarea, [role="textbox"], '
      + '[role="combobox"], [role="checkbox"], [role="radio"], [role="listbox"]'],
    ['heading', 'h1, h2, h3, h4, h5, h6, [role="heading"]'],
    ['frame', 'iframe, frame'],
    ['table', 'table'],
    ['list', 'ul, ol, dl'],
    ['list item', 'li'],
    ['paragraph', 'p'],
  ];
  const HEADING = 'h1, h2, h3, h4, h5, h6, [role="heading"]';
  const MAIN = 'main, [role="main"]';
  const LANDMARKS = [
    ['header, [role="banner"]', 'in the page header'],
    ['footer, [role="contentinfo"]', 'in the page footer'],
    ['nav, [role="navigation"]', 'in the navigation'],
    ['aside, [role="complementary"]', 'in a sidebar'],
  ];
  const OUTLINE = OUTLINE_SIZES;
  const NOTES = NOTES_TEXT;
  let elements = [];
  let outline = null;
  let shown = null;

  const clean = (text, max) => {
    const t = String(text || '').replace(/\s+/g, ' ').trim();
    return t.length > max ? t.slice(0, max - 1) + '\u2026' : t;
  };
  const ordinal = (n) => {
    const tens = n % 100, units = n % 10;
    const end = tens >= 11 && tens <= 13 ? 'th'
      : units === 1 ? 'st' : units === 2 ? 'nd' : units === 3 ? 'rd' : 'th';
    return n + end;
  };
  const kindOf = (el) => {
    for (const [name, selector] of KINDS) if (el.matches(selector)) return name;
    return '"' + clean(el.localName, 30) + '" element';
  };
  const headingText = (el) => clean(el.getAttribute('aria-label') || el.textContent
    || (el.querySelector('img[alt]') || {}).alt, 80);
  const find = (selector) => {
    try {
      if (typeof selector === 'string') return document.querySelector(selector);
      let root = document, el = null;
      for (const part of selector) {
        if (!root) return null;
        el = root.querySelector(part);
        root = el && el.shadowRoot;
      }
      return el;
    } catch (e) { return null; }
  };
  // The nearest heading before each anchor (or the start of the main content, when no
  // heading comes between), and its place among elements of its kind since then: one walk
  // through the document for all of them.
  const places = (anchors) => {
    const wanted = new Set(anchors.filter(Boolean));
    const kinds = new Map([...wanted].map((el) => [el, kindOf(el)]));
    const counted = new Set(kinds.values());
    // Only elements of the kinds asked about are counted: one match per element first.
    const any = [...new Set([...wanted].map((el) => {
      const known = KINDS.find(([name]) => name === kinds.get(el));
      return known ? known[1] : CSS.escape(el.localName);
    }))].join(', ');
    const found = new Map();
    let since = '', counts = new Map();
    for (const el of document.body ? document.body.querySelectorAll('*') : []) {
      if (el.matches(MAIN)) { since = 'at the start of the main content'; counts = new Map(); }
      const kind = any && el.matches(any) ? (kinds.get(el) || kindOf(el)) : null;
      if (kind && counted.has(kind)) {
        counts.set(kind, (counts.get(kind) || 0) + 1);
        if (wanted.has(el)) found.set(el, {since, kind, n: counts.get(kind)});
      }
      const text = el.matches(HEADING) ? headingText(el) : '';
      if (text) { since = 'under "' + text + '"'; counts = new Map(); }
    }
    return found;
  };
  const where = (el, place) => {
    if (place && place.since) return place.since;
    for (const [selector, text] of LANDMARKS) if (el.closest(selector)) return text;
    return 'near the top of the page';
  };
  const sentence = (el, place, inside) => {
    if (el.closest('head')) return "in the page's head";
    if (el === document.documentElement || el === document.body) return 'the whole page';
    const what = place ? 'the ' + ordinal(place.n) + ' ' + place.kind : 'a ' + kindOf(el);
    return where(el, place) + ', ' + (inside ? 'inside ' : '') + what;
  };
  const hidden = (el, r) => {
    if (el.closest('head')) return "not shown on the page: it is in the page's head";
    if (el === document.documentElement || el === document.body)
      return 'the whole page, not one element: no picture';
    if (!el.getClientRects().length) return 'hidden on the page (not displayed): no picture';
    if (el.checkVisibility && !el.checkVisibility({visibilityProperty: true}))
      return 'hidden on the page (visibility: hidden): no picture';
    if (el.checkVisibility && !el.checkVisibility({opacityProperty: true}))
      return 'invisible on the page (fully transparent): no picture';
    if (r.width < 1 || r.height < 1) return 'zero-sized: nothing to picture';
    if (r.width <= 2 && r.height <= 2)
      return 'too small to see (' + Math.round(r.width) + ' by ' + Math.round(r.height)
        + ' pixels): no picture';
    const page = document.documentElement;
    const x = r.left + scrollX, y = r.top + scrollY;
    if (x + r.width <= 0 || y + r.height <= 0 || x >= page.scrollWidth || y >= page.scrollHeight)
      return 'outside the page (moved off it, as hidden text often is): no picture';
    return null;
  };
  const box = (r) => ({x: Math.round(r.left + scrollX), y: Math.round(r.top + scrollY),
    width: Math.round(r.width), height: Math.round(r.height)});

  // The element in the page (a frame's selector: the frame element in it), and the
  // element of the page's own document it is in (its shadow host, or itself).
  const resolve = (target) => {
    const list = Array.isArray(target) ? target : [];
    if (!list.length) return {};
    const first = list[0];
    const anchor = find(Array.isArray(first) ? first[0] : first);
    return {el: list.length === 1 ? find(first) : null, anchor, inFrame: list.length > 1};
  };
  const describe = (targets) => {
    const found = targets.map(resolve);
    const placed = places(found.map((f) => f.anchor));
    elements = found.map((f) => f.el);
    return {viewport: [innerWidth, innerHeight], elements: found.map((f) => {
      if (!f.anchor || !(f.el || f.inFrame))
        return {note: NOTES.notFound};
      const location = sentence(f.anchor, placed.get(f.anchor), f.anchor !== f.el);
      if (f.inFrame) return {location, note: NOTES.inFrame};
      const r = f.el.getBoundingClientRect();
      return {location, box: box(r), note: hidden(f.el, r)};
    })};
  };

  const done = () => {
    if (outline) outline.remove();
    outline = null;
    scrollTo({left: 0, top: 0, behavior: 'instant'});
  };
  // From the element out: a transparent gap, a white ring, a magenta ring, a white ring,
  // so the outline shows on any background.
  const ringStyle = (r, gap, ring, white) => {
    const out = gap + white + ring;
    return 'all: initial !important; display: block !important; position: fixed !important; '
      + 'z-index: 2147483647 !important; pointer-events: none !important; '
      + 'box-sizing: border-box !important; background: transparent !important; '
      + 'left: ' + (r.left - out) + 'px !important; top: ' + (r.top - out) + 'px !important; '
      + 'width: ' + (r.width + 2 * out) + 'px !important; '
      + 'height: ' + (r.height + 2 * out) + 'px !important; '
      + 'border: ' + ring + 'px solid #f0f !important; '
      + 'box-shadow: inset 0 0 0 ' + white + 'px #fff !important; '
      + 'outline: ' + white + 'px solid #fff !important; outline-offset: 0 !important;';
  };
  // Scroll the element into the window, outline it, and say where it now is.
  const show = (index, context) => {
    if (outline) outline.remove();
    const el = elements[index];
    if (!el || !el.isConnected) return null;
    let r = el.getBoundingClientRect();
    const fits = r.height + 2 * context <= innerHeight;
    el.scrollIntoView({block: fits ? 'center' : 'start', inline: 'nearest', behavior: 'instant'});
    r = el.getBoundingClientRect();
    outline = document.createElement('siteaudit-outline');
    outline.setAttribute('aria-hidden', 'true');
    outline.style.cssText = ringStyle(r, OUTLINE.gap, OUTLINE.ring, OUTLINE.white);
    document.documentElement.appendChild(outline);
    shown = r;
    return {x: r.left, y: r.top, width: r.width, height: r.height, scrollX, scrollY,
      viewWidth: innerWidth, viewHeight: innerHeight, ratio: devicePixelRatio};
  };
  const mark = (ring) => {
    if (outline && shown) outline.style.cssText = ringStyle(shown, OUTLINE.gap, ring, ring);
  };
  return {describe, show, mark, done};
})();
""".replace("OUTLINE_SIZES", json.dumps({"gap": GAP, "ring": RING, "white": WHITE})).replace(
    "NOTES_TEXT", json.dumps({"inFrame": IN_FRAME, "notFound": NOT_FOUND})
)
