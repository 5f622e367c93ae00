"""Checks of how a page's layout holds up: reflow at 320 px, text spacing, text at 200%.

Each runs on the page axe-core and the keyboard checks have audited, once its pictures are
taken, measures it in one JavaScript pass per state, and pictures the elements it found as
it sees them fail (CheckPage.picture). Text spacing takes its styles off again before it
returns; the other two lay the page out at smaller viewports, one after the other, and the
audit's viewport is put back once, as the page is left (CheckPage.restore_layout).
docs/checks.md says what each decides and where it stops.
"""

from __future__ import annotations

from typing import Any

from browser.own_checks import MAX_NODES, BrowserCheck, CheckPage, CheckResult, rule_result

# The most elements one pass looks at: a page of a million elements costs no more.
MAX_ELEMENTS = 5000
# 1.4.10: 1280 x 1024 at 400% zoom, W3C's own example of 320 CSS px wide, 256 high.
REFLOW_VIEWPORT = (320, 256)
# 1.4.4: the browser's zoom at 200% lays the page out in half the viewport, both ways.
RESIZE_ZOOM = 2

TEXT_SPACING = "text-spacing"
RESIZE_TEXT = "resize-text"
REFLOW = "reflow"


def check_text_spacing(page: CheckPage) -> CheckResult:
    """1.4.12: text newly cut off (or spilling out of its box) with WCAG's text spacing,
    pictured with the spacing on; the page's own styles are back when it returns."""
    spacing_on = True  # unless the pass took it off itself: nothing to picture with it
    try:
        found = page.js(CLIPPED_JS, "spacing", MAX_ELEMENTS, MAX_NODES)
        result = clip_result("siteaudit-text-spacing", found)
        spacing_on = result.found_elements()
        picture_found(page, result, look=TEXT_SPACING)
    finally:
        if spacing_on:
            page.js(SPACING_OFF_JS)
    return result


def check_resize_text(page: CheckPage) -> CheckResult:
    """1.4.4: text newly cut off (or spilling out of its box) at the browser's 200% zoom,
    pictured there."""
    width, height = page.viewport
    # The page's own boxes at the audit's size: text spacing, just before, kept them.
    page.js(CLIPPED_JS, "before", MAX_ELEMENTS, MAX_NODES)
    page.lay_out_at(width // RESIZE_ZOOM, height // RESIZE_ZOOM)
    found = page.js(CLIPPED_JS, "zoomed", MAX_ELEMENTS, MAX_NODES)
    result = clip_result("siteaudit-resize-text", found)
    picture_found(page, result)
    return result


def check_reflow(page: CheckPage) -> CheckResult:
    """1.4.10: at 320 CSS px wide, the elements that make the page scroll sideways,
    pictured there."""
    # A zoomed browser's scrollbar is a few CSS px at 400%; headless Chromium's would take
    # 15 of the 320, and fail pages that fit exactly: measured without it.
    page.lay_out_at(*REFLOW_VIEWPORT, hide_scrollbars=True)
    found = page.js(REFLOW_JS, MAX_ELEMENTS, MAX_NODES)
    result = CheckResult()
    if found.get("violations"):
        result.violations.append(rule_result("siteaudit-reflow", found["violations"]))
    if found.get("incomplete"):
        result.incomplete.append(rule_result("siteaudit-reflow", found["incomplete"]))
    picture_found(page, result)
    return result


def picture_found(page: CheckPage, result: CheckResult, look: str = "") -> None:
    """The elements found, pictured as the check sees them fail: an editor sees the text
    cut off or the page too wide, not the page as it is at the audit's size. `look` names
    the styles the check has put on the page (the viewport is in the pictures' key)."""
    if result.found_elements():
        page.picture(result, look)


def clip_result(rule_id: str, found: dict[str, Any] | None) -> CheckResult:
    """The clipping pass's elements as the rule's violations and results to review."""
    result = CheckResult()
    found = found or {}
    if found.get("clipped"):
        result.violations.append(rule_result(rule_id, found["clipped"]))
    if found.get("spilled"):
        result.incomplete.append(rule_result(rule_id, found["spilled"], impact="moderate"))
    return result


# Takes WCAG's text spacing off again, if CLIPPED_JS left it on; whether it did.
SPACING_OFF_JS = r"""
() => {
  const store = globalThis.__siteauditLayout;
  if (!store || !store.sheet) return false;
  document.adoptedStyleSheets = document.adoptedStyleSheets.filter((s) => s !== store.sheet);
  store.sheet = null;
  return true;
}
"""

# Which boxes cut off (overflow hidden or clip) or spill (overflow visible) their text, and
# by how much. `before` keeps the page's own in this world; `zoomed` compares with it;
# `spacing` measures, applies WCAG's text spacing and measures again, in one pass, and
# removes it unless it found text to report (which the check pictures with it on, then takes
# it off). A box is reported only when its text goes beyond it now and did not before, so
# the page's own carousels, image replacement and screen-reader text are never counted.
CLIPPED_JS = r"""
async (mode, maxElements, maxNodes) => {
  const SLACK = 2;  // px: rounding, and the half pixel a glyph's ink may take
  const TEXT_NODES = 200, CANDIDATES = 300;
  const store = globalThis.__siteauditLayout || (globalThis.__siteauditLayout = {});
  const spacingOff = SPACING_OFF;
  const axis = (value) => (value === 'hidden' || value === 'clip') ? 'clip'
    : value === 'visible' ? 'spill' : 'scroll';
  const hiddenCache = new Map();
  const srOnly = (e) => {
    // Screen-reader text: a box of a pixel or two, or clipped to nothing.
    if (hiddenCache.has(e)) return hiddenCache.get(e);
    const cs = getComputedStyle(e);
    const hidden = (cs.clip && cs.clip !== 'auto') || (cs.clipPath && cs.clipPath !== 'none')
      || (cs.display !== 'inline' && (e.clientWidth <= SLACK || e.clientHeight <= SLACK));
    hiddenCache.set(e, hidden);
    return hidden;
  };
  const shown = (text, el) => {
    let depth = 0;
    for (let e = text.parentElement; e && e !== el && depth < 6; e = e.parentElement, depth++) {
      if (srOnly(e)) return false;
    }
    const parent = text.parentElement;
    return !(parent && parent.checkVisibility &&
      !parent.checkVisibility({visibilityProperty: true, opacityProperty: true}));
  };
  const beyond = (el) => {
    // How far the element's text reaches past its padding box, each way: text a reader
    // can see, not screen-reader text nor text moved off the page's top or left.
    const r = el.getBoundingClientRect();
    const left = r.left + el.clientLeft, top = r.top + el.clientTop;
    const right = left + el.clientWidth, bottom = top + el.clientHeight;
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    let x = 0, y = 0, n = 0;
    for (let t = walker.nextNode(); t && n < TEXT_NODES; t = walker.nextNode()) {
      if (!t.data.trim()) continue;
      n++;
      if (!shown(t, el)) continue;
      range.selectNodeContents(t);
      const b = range.getBoundingClientRect();
      if (b.width < 1 || b.height < 1) continue;
      if (b.right + scrollX <= 0 || b.bottom + scrollY <= 0) continue;
      x = Math.max(x, left - b.left, b.right - right);
      y = Math.max(y, top - b.top, b.bottom - bottom);
    }
    return {x: Math.round(x), y: Math.round(y)};
  };
  const measure = () => {
    const boxes = new Map();
    const all = document.body ? document.body.getElementsByTagName('*') : [];
    let candidates = 0;
    for (let i = 0; i < all.length && i < maxElements && candidates < CANDIDATES; i++) {
      const el = all[i];
      const overX = el.scrollWidth - el.clientWidth, overY = el.scrollHeight - el.clientHeight;
      if (overX <= SLACK && overY <= SLACK) continue;
      // 1px screen-reader text, collapsed panels: nothing a reader sees is cut off.
      if (el.clientWidth <= SLACK || el.clientHeight <= SLACK) continue;
      const cs = getComputedStyle(el);
      if (cs.display === 'inline' || cs.visibility !== 'visible') continue;
      if ((cs.clip && cs.clip !== 'auto') || (cs.clipPath && cs.clipPath !== 'none')) continue;
      const ax = axis(cs.overflowX), ay = axis(cs.overflowY);
      if (ax === 'scroll' && ay === 'scroll') continue;  // its reader can scroll to it
      candidates++;
      const b = beyond(el);
      // Cut off either way; spilling only below (or above) its box, over what follows:
      // text that spills sideways makes the page wider, which 1.4.4 and 1.4.12 allow.
      const clip = (ax === 'clip' && b.x > SLACK) || (ay === 'clip' && b.y > SLACK);
      const spill = ay === 'spill' && b.y > SLACK;
      if (clip || spill) {
        boxes.set(el, {clip, spill, x: b.x, y: b.y, ax, ay, w: el.clientWidth, h: el.clientHeight});
      }
    }
    return boxes;
  };
  const spacing = () => {
    // WCAG's text spacing (Understanding 1.4.12's bookmarklet), as a sheet of its own:
    // no <style> element, so a page's Content-Security-Policy cannot refuse it. It stays
    // on (store.sheet) for the pictures of what it cuts off; the check takes it off.
    const sheet = new CSSStyleSheet();
    sheet.replaceSync('* { line-height: 1.5 !important; letter-spacing: 0.12em !important;'
      + ' word-spacing: 0.16em !important; } p { margin-bottom: 2em !important; }');
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
    store.sheet = sheet;
    return measure();
  };
  if (mode === 'before') {
    // Text spacing's pass keeps the page's own boxes: measured once for both.
    if (!store.before) store.before = measure();
    return null;
  }
  if (mode === 'zoomed') {
    await new Promise((done) => {  // the page's resize handlers run at its next frame
      const timer = setTimeout(done, 100);
      requestAnimationFrame(() => { clearTimeout(timer); done(); });
    });
  }
  let before, after;
  if (mode === 'spacing') {
    before = store.before = measure();  // for the 200% zoom's pass, next
    try {
      after = spacing();
    } catch (e) {
      spacingOff();
      throw e;
    }
  } else {
    before = store.before || new Map();
    after = measure();
    store.before = null;
  }
  const clipped = [], spilled = [];
  for (const [el, box] of after) {
    const was = before.get(el);
    if (box.clip && !(was && was.clip)) clipped.push(el);
    else if (box.spill && !(was && (was.spill || was.clip))) spilled.push(el);
  }
  // The innermost box is the one to fix; a box spilling into one that cuts it off is cut.
  const innermost = (els) => els.filter((a) => !els.some((b) => b !== a && a.contains(b)));
  const keptClipped = innermost(clipped);
  const keptSpilled = innermost(spilled).filter(
    (a) => !keptClipped.some((b) => a.contains(b) || b.contains(a)));
  const how = mode === 'spacing' ? "with WCAG's text spacing" : 'at 200% zoom';
  const said = (el, cut) => {
    const box = after.get(el);
    const edge = [];
    if (cut && box.x > SLACK && box.ax === 'clip') edge.push(box.x + ' px past its side');
    if (box.y > SLACK && box.ay === (cut ? 'clip' : 'spill'))
      edge.push(box.y + ' px past its top or bottom');
    const size = box.w + ' x ' + box.h + ' px';
    return cut
      ? how + ', text in this box (' + size + ', overflow hidden) reaches ' + edge.join(' and ')
        + ' and is cut off; before, none of it was.'
      : how + ', text in this box (' + size + ') reaches ' + edge.join(' and ')
        + ' and may overlap what is next to it; before, it fitted. Look at the page.';
  };
  if (mode === 'spacing' && !keptClipped.length && !keptSpilled.length) spacingOff();
  return {
    clipped: keptClipped.slice(0, maxNodes).map((el) => siteauditChecks.node(el, said(el, true))),
    spilled: keptSpilled.slice(0, maxNodes).map((el) => siteauditChecks.node(el, said(el, false))),
  };
}
""".replace("SPACING_OFF", SPACING_OFF_JS.strip())

# The elements that make the page wider than 320 CSS px: the outermost box that is wider,
# or the innermost whose own content (a long word, an address) reaches past the edge.
# Content 1.4.10 allows to scroll both ways, and content in a box of its own that fits
# and scrolls (or clips) sideways, is left out; pictures and embedded pages are for review.
REFLOW_JS = r"""
async (maxElements, maxNodes) => {
  await new Promise((done) => {
    const timer = setTimeout(done, 100);
    requestAnimationFrame(() => { clearTimeout(timer); done(); });
  });
  scrollTo({left: 0, top: 0, behavior: 'instant'});
  const root = document.documentElement, body = document.body;
  const viewport = root.clientWidth;
  const none = {violations: [], incomplete: []};
  if (!body) return none;
  // The body's own width too: `overflow-x: hidden` on both html and body makes the body
  // a box of its own that cuts off what the page would scroll to.
  const scrolls = (document.scrollingElement || root).scrollWidth;
  const pageWidth = Math.max(scrolls, body.scrollWidth);
  if (pageWidth <= viewport + 1) return none;
  const rootStyle = getComputedStyle(root), bodyStyle = getComputedStyle(body);
  const sideways = rootStyle.overflowX === 'visible' ? bodyStyle.overflowX : rootStyle.overflowX;
  const cutOff = sideways === 'hidden' || sideways === 'clip' || scrolls <= viewport + 1;
  const ALLOWED = new Set(['pre', 'code', 'video', 'canvas', 'svg', 'math']);
  const ALLOWED_ROLES = new Set(['toolbar', 'grid', 'treegrid', 'application', 'math']);
  const EMBEDDED = new Set(['img', 'picture', 'iframe', 'object', 'embed']);
  const dataTable = (el) => {
    const role = (el.getAttribute('role') || '').trim().toLowerCase();
    if (role === 'presentation' || role === 'none') return false;
    // Its own headings: a layout table holding a data table is still a layout table.
    const heads = el.querySelectorAll('caption, th, [scope], [headers]');
    for (let i = 0; i < heads.length && i < 200; i++) {
      if (heads[i].closest('table') === el) return true;
    }
    return false;
  };
  const allowed = (el) => ALLOWED.has(el.localName) || (el.localName === 'table' && dataTable(el))
    || ALLOWED_ROLES.has((el.getAttribute('role') || '').trim().toLowerCase())
    || (el.localName === 'img' && el.hasAttribute('usemap'));
  const offenders = [], reachers = [], explained = new Set();
  const explain = (el) => {
    for (let e = el.parentElement; e && !explained.has(e); e = e.parentElement) explained.add(e);
  };
  const stack = [body];
  let examined = 0;
  while (stack.length && examined < maxElements) {
    const el = stack.pop();
    examined++;
    const cs = getComputedStyle(el);
    if (cs.display === 'none' || cs.position === 'fixed') continue;  // fixed: never scrolls
    const r = el.getBoundingClientRect();
    const tiny = r.width <= 1 && r.height <= 1;
    const reach = cs.display === 'inline' || el.scrollWidth === 0 ? r.right
      : Math.max(r.right, r.left + el.clientLeft + el.scrollWidth);
    const boxPast = r.right > viewport + 1 && !tiny, reachPast = reach > viewport + 1 && !tiny;
    if (boxPast || reachPast) explain(el);
    if ((boxPast || reachPast) && allowed(el)) continue;
    if (boxPast) { offenders.push([el, r]); continue; }
    // Scrolls or clips in a box of its own (the body's overflow is the page's).
    if (reachPast && el !== body && cs.overflowX !== 'visible') continue;
    if (reachPast && el !== body) reachers.push([el, r, reach]);
    for (let c = el.lastElementChild; c; c = c.previousElementSibling) stack.push(c);
  }
  const at = 'at 320 CSS px wide the page is ' + Math.round(pageWidth) + ' px wide';
  const page = cutOff
    ? at + ' but cannot scroll sideways, so what is past ' + viewport + ' px is cut off; '
    : at + ', so it scrolls sideways; ';
  const found = [];
  for (const [el, r] of offenders) {
    found.push([el, page + 'this element is ' + Math.round(r.width) + ' px wide and reaches '
      + Math.round(r.right) + ' px.']);
  }
  for (const [el, r, reach] of reachers) {
    if (explained.has(el)) continue;
    found.push([el, page + 'this element is ' + Math.round(r.width)
      + ' px wide but its content (a long word or line) reaches ' + Math.round(reach) + ' px.']);
  }
  const result = {violations: [], incomplete: []};
  for (const [el, summary] of found.slice(0, maxNodes)) {
    const review = cutOff || EMBEDDED.has(el.localName);
    const note = EMBEDDED.has(el.localName)
      ? ' It is a picture or embedded content: a map or diagram may scroll both ways.' : '';
    result[review ? 'incomplete' : 'violations'].push(siteauditChecks.node(el, summary + note));
  }
  if (!found.length && !cutOff && !explained.size) {
    result.incomplete.push(siteauditChecks.node(root, at
      + ' and scrolls sideways, but no element was found that makes it so.'));
  }
  return result;
}
"""

RUNNERS: dict[str, BrowserCheck] = {
    TEXT_SPACING: check_text_spacing,
    RESIZE_TEXT: check_resize_text,
    REFLOW: check_reflow,
}
