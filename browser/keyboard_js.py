"""The JavaScript of the keyboard checks (browser/keyboard_checks.py), run in the checks' world.

Each constant is a function for CheckPage.js. State between calls lives in the world's own
globals (`siteauditKeyboard`, `siteauditHover`; the Tab walk's, browser/focus_js.py, keeps
`siteauditFocus` and `siteauditTemplate`), which the page's scripts cannot reach; every
list they keep is capped, so a hostile page cannot make them grow without bound.
"""

from __future__ import annotations

# Shared helpers, prefixed to each function below: how an element looks (the properties a
# focus indicator can change), whether it is shown, whether it takes focus by itself.
_HELPERS = r"""
const LOOK = ['outline-style', 'outline-width', 'outline-color', 'outline-offset', 'box-shadow',
  'border-top', 'border-right', 'border-bottom', 'border-left', 'background-color',
  'background-image', 'color', 'text-decoration-line', 'text-decoration-color',
  'text-decoration-style', 'text-decoration-thickness', 'font-weight', 'opacity', 'transform',
  'filter', 'fill', 'stroke', 'visibility', 'position', 'left', 'top', 'width', 'height',
  'clip', 'clip-path', 'z-index'];
// How an element (or its ::before or ::after) looks. Given `was`, its unfocused look,
// reading stops at the first property that differs (focus shows: the rest would cost a
// read each for nothing), so a focused look may be partial; the outline's four
// properties are read together, as `none` or a width of 0 makes the others moot.
const lookOf = (el, pseudo, was) => {
  const cs = getComputedStyle(el, pseudo || null);
  // A ::before or ::after with no content is not drawn: whatever else it has shows nothing.
  if (pseudo) {
    const content = cs.getPropertyValue('content');
    if (content === 'none' || content === 'normal') return {content: 'none'};
  }
  const out = {};
  for (let i = 0; i < 4; i++) out[LOOK[i]] = cs.getPropertyValue(LOOK[i]);
  if (out['outline-style'] === 'none' || out['outline-width'] === '0px') {
    out['outline-style'] = 'none'; out['outline-width'] = out['outline-color'] = '';
    out['outline-offset'] = '';
  }
  if (was) for (let i = 0; i < 4; i++) if (was[LOOK[i]] !== out[LOOK[i]]) return out;
  for (let i = 4; i < LOOK.length; i++) {
    const p = LOOK[i];
    out[p] = cs.getPropertyValue(p);
    if (was && was[p] !== out[p]) return out;
  }
  if (pseudo) out.content = cs.getPropertyValue('content');
  return out;
};
// The parts whose look focus may change, by name: the element, its ::before and ::after,
// three ancestors (for :focus-within styling), and for a form field hidden for a styled
// stand-in, its label and next element (`input:focus + label::before`).
const partsOf = (el) => {
  const parts = [['self', el, null], ['before', el, '::before'], ['after', el, '::after']];
  let a = el.parentElement;
  for (let i = 1; i <= 3 && a && a !== document.body; i++, a = a.parentElement) {
    parts.push(['ancestor' + i, a, null]);
  }
  if (el.matches('input,select,textarea')) {
    const others = [['next', el.nextElementSibling], ['label', el.labels && el.labels[0]]];
    for (const [name, o] of others) {
      if (!o) continue;
      parts.push([name, o, null], [name + ' ::before', o, '::before'],
        [name + ' ::after', o, '::after']);
    }
  }
  return parts;
};
const differs = (was, now) => {
  if (!was) return true;
  for (const p of Object.keys(now)) if (was[p] !== now[p]) return true;
  return Object.keys(was).length !== Object.keys(now).length;
};
// The looks of an element's parts. `cache` keeps ancestors' looks (many elements share
// them). Given `was`, its unfocused looks, reading stops at the first part that looks
// different: focus shows, and the rest would cost a style read each for nothing.
const looksOf = (el, cache, was) => {
  const looks = {};
  for (const [name, part, pseudo] of partsOf(el)) {
    const shared = cache && name.startsWith('ancestor');
    if (shared && cache.has(part)) looks[name] = cache.get(part);
    else looks[name] = lookOf(part, pseudo, was && was[name]);
    if (shared) cache.set(part, looks[name]);
    if (was && differs(was[name], looks[name])) break;
  }
  return looks;
};
const changes = (was, now) => {
  const out = [];
  for (const part of Object.keys(now)) {
    const w = was[part] || {}, n = now[part];
    for (const p of new Set([...Object.keys(w), ...Object.keys(n)])) {
      if (w[p] !== n[p]) out.push((part === 'self' ? '' : part + ' ') + p + ': ' +
        String(w[p]).slice(0, 60) + ' -> ' + String(n[p]).slice(0, 60));
    }
  }
  return out;
};
const shown = (el) => {
  if (!el || !el.isConnected) return false;
  const r = el.getBoundingClientRect();
  if (r.width < 1 || r.height < 1) return false;
  return el.checkVisibility ? el.checkVisibility({checkOpacity: true, visibilityProperty: true})
    : getComputedStyle(el).visibility !== 'hidden';
};
const NATIVE = 'a[href],area[href],button,input:not([type=hidden]),select,textarea,iframe,' +
  'frame,object,embed,summary,audio[controls],video[controls],[contenteditable=""],' +
  '[contenteditable=true]';
const FOCUSABLE = NATIVE + ',[tabindex]';
const takesFocus = (el) => el.matches(NATIVE) && !el.disabled ||
  el.hasAttribute('tabindex') && Number(el.getAttribute('tabindex')) >= 0;
"""

# Leave the page as found: nothing focused, no selection, scrolled to the top; and let go of
# the elements the checks held.
RESET_JS = r"""() => {
  const S = globalThis.siteauditFocus;
  if (S) S.stop();
  const H = globalThis.siteauditHover;
  if (H && H.observer) H.observer.disconnect();
  delete globalThis.siteauditFocus;
  delete globalThis.siteauditHover;
  delete globalThis.siteauditTemplate;
  const active = document.activeElement;
  if (active && active.blur && active !== document.body) active.blur();
  const sel = getSelection();
  if (sel) sel.removeAllRanges();
  scrollTo(0, 0);
  return true;
}"""

# Elements that respond to the mouse, inline handlers first: which take no focus, which have
# pointer-only handlers. Candidates for an event-listener look (cursor: pointer, a role) are
# returned as an array of elements (not by value) for DOMDebugger.getEventListeners.
KEYBOARD_SCAN_JS = (
    "(maxElements) => {"
    + _HELPERS
    + r"""
  const K = globalThis.siteauditKeyboard = {els: []};
  const inFocusable = (el) => { for (let a = el.parentElement; a; a = a.parentElement)
    if (takesFocus(a)) return true; return false; };
  const hasFocusableInside = (el) => Array.prototype.some.call(
    el.querySelectorAll(FOCUSABLE), (d) => takesFocus(d));
  const skip = (el) => el === document.body || el === document.documentElement ||
    el.localName === 'label' || el.localName === 'option' || !shown(el);
  const seen = new Set();
  const add = (el, why) => {
    if (seen.has(el) || K.els.length >= maxElements || skip(el)) return;
    seen.add(el);
    K.els.push({el, why, focus: takesFocus(el), inside: inFocusable(el),
      holds: hasFocusableInside(el), tabindex: el.getAttribute('tabindex')});
  };
  const HANDLERS = '[onclick],[onmousedown],[onmouseup],[ondblclick],[onmouseover],' +
    '[onmouseout],[onmouseenter],[onmouseleave],[onpointerdown],[onpointerup]';
  for (const el of document.querySelectorAll(HANDLERS)) add(el, 'inline');
  for (const el of document.querySelectorAll('[role=button],[role=link],[role=menuitem],' +
    '[role=tab],[role=checkbox],[role=switch],[role=option]')) add(el, 'role');
  // cursor: pointer is inherited: only where it starts.
  let looked = 0;
  for (const el of document.body ? document.body.querySelectorAll('*') : []) {
    if (++looked > 3000 || K.els.length >= maxElements) break;
    if (el.matches(NATIVE) || el.hasAttribute('tabindex')) continue;
    const p = el.parentElement;
    if (getComputedStyle(el).cursor === 'pointer' &&
        (!p || getComputedStyle(p).cursor !== 'pointer')) add(el, 'cursor');
  }
  return K.els.map((c) => c.el);
}"""
)

# Decide each candidate from its inline handlers and the listeners DevTools found on it.
KEYBOARD_REPORT_JS = r"""(listeners) => {
  const K = globalThis.siteauditKeyboard;
  if (!K) return null;
  const node = siteauditChecks.node;
  const CLICK = ['click', 'mousedown', 'mouseup', 'pointerdown', 'pointerup', 'dblclick'];
  const HOVER = ['mouseover', 'mouseout', 'mouseenter', 'mouseleave', 'pointerover',
    'pointerenter'];
  const KEYS = ['keydown', 'keyup', 'keypress', 'click'];
  const FOCUSES = ['focus', 'blur', 'focusin', 'focusout'];
  const noKeyboard = [], noKeyboardReview = [], mouseOnly = [], mouseOnlyReview = [];
  K.els.forEach((c, i) => {
    const el = c.el;
    const inline = new Set();
    for (const a of el.getAttributeNames()) if (a.startsWith('on')) inline.add(a.slice(2));
    const heard = new Set(listeners[i] || []);
    const all = new Set([...inline, ...heard]);
    const clicks = CLICK.filter((t) => all.has(t));
    const list = (ts) => ts.map((t) => (inline.has(t) ? 'on' + t : t + ' listener')).join(', ');
    if (!c.focus && !c.inside && !c.holds) {
      const role = el.getAttribute('role');
      if (clicks.length && c.tabindex === null) {
        noKeyboard.push(node(el, 'It responds to the mouse (' + list(clicks) + ') but ' +
          'cannot take keyboard focus: it is not a link, button or form field and has no ' +
          'tabindex, and nothing inside it takes focus.'));
        return;
      }
      if (clicks.length || role) {
        noKeyboardReview.push(node(el, (clicks.length ? 'It responds to the mouse (' +
          list(clicks) + ')' : 'It has role="' + String(role).slice(0, 20) + '"') +
          ' but is not in the Tab order (' + (c.tabindex === null ? 'no tabindex'
            : 'tabindex="' + String(c.tabindex).slice(0, 10) + '"') + '). Check that a ' +
          'keyboard user can reach and use it.'));
        return;
      }
    }
    const pointerOnly = ['dblclick', 'mousedown', 'mouseup', 'pointerdown', 'pointerup']
      .filter((t) => all.has(t));
    if (pointerOnly.length && !KEYS.some((t) => all.has(t))) {
      const certain = pointerOnly.every((t) => inline.has(t));
      (certain ? mouseOnly : mouseOnlyReview).push(node(el, 'It does something on ' +
        list(pointerOnly) + ', and has no click or key handler a keyboard could set off.'));
      return;
    }
    const hover = HOVER.filter((t) => all.has(t));
    if (hover.length && !FOCUSES.some((t) => all.has(t))) {
      mouseOnlyReview.push(node(el, 'It changes when the mouse is over it (' + list(hover) +
        ') but has no focus or blur handler to do the same for the keyboard. Check that a ' +
        'keyboard user gets the same.'));
    }
  });
  delete globalThis.siteauditKeyboard;
  return {noKeyboard, noKeyboardReview, mouseOnly, mouseOnlyReview};
}"""

# Elements that may show more content on hover: inline mouseover handlers, the targets of
# CSS :hover rules that change display, visibility or the like (same-origin sheets).
HOVER_CANDIDATES_JS = (
    "(maxCandidates, maxRules) => {"
    + _HELPERS
    + r"""
  const found = [], seen = new Set();
  const add = (el) => {
    if (found.length < maxCandidates && !seen.has(el) && el !== document.body &&
        el !== document.documentElement && shown(el)) { seen.add(el); found.push(el); }
  };
  for (const el of document.querySelectorAll('[onmouseover],[onmouseenter]')) add(el);
  const SHOWS = ['display', 'visibility', 'opacity', 'left', 'top', 'right', 'transform',
    'clip', 'clip-path', 'max-height', 'height'];
  let rules = 0;
  const walk = (list) => {
    for (const rule of list) {
      if (++rules > maxRules || found.length >= maxCandidates) return;
      if (rule.cssRules && !rule.selectorText) { walk(rule.cssRules); continue; }
      const text = rule.selectorText || '';
      if (!text.includes(':hover') || !SHOWS.some((p) => rule.style.getPropertyValue(p))) continue;
      for (const part of text.split(',')) {
        const at = part.indexOf(':hover');
        const rest = part.slice(at + 6).trim();
        if (at < 0 || !rest) continue;  // the hovered element itself changes, nothing new
        const prefix = part.slice(0, at).trim();
        if (!prefix || /[>+~]$/.test(prefix)) continue;
        try { for (const el of document.querySelectorAll(prefix)) add(el); } catch (e) {}
      }
    }
  };
  for (const sheet of document.styleSheets) {
    let list = null;
    try { list = sheet.cssRules; } catch (e) { continue; }  // another origin's
    if (list) walk(list);
  }
  globalThis.siteauditHover = {candidates: found};
  return found.length;
}"""
)

# Before hovering candidate i: scroll it into view, note what near it is hidden, watch for
# new elements; the point to move the mouse to, or null when it is not what is there.
HOVER_PREPARE_JS = (
    "(i, maxHidden) => {"
    + _HELPERS
    + r"""
  const H = globalThis.siteauditHover;
  const el = H && H.candidates[i];
  if (!el || !el.isConnected) return null;
  el.scrollIntoView({block: 'center', inline: 'nearest'});
  const r = el.getBoundingClientRect();
  const x = r.left + Math.min(r.width / 2, 20), y = r.top + r.height / 2;
  const at = document.elementFromPoint(x, y);
  if (!at || !(at === el || el.contains(at))) return null;
  const near = [el, el.parentElement].filter(Boolean);
  const ids = (el.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
  H.hidden = [];
  for (const id of ids) {
    const t = document.getElementById(id);
    if (t && !shown(t)) H.hidden.push(t);
  }
  let looked = 0;
  for (const root of near) {
    for (const d of root.querySelectorAll('*')) {
      if (H.hidden.length >= maxHidden || ++looked > 10 * maxHidden) break;
      if (!shown(d)) H.hidden.push(d);
    }
  }
  H.added = [];
  if (H.observer) H.observer.disconnect();
  H.observer = new MutationObserver((records) => {
    for (const rec of records) for (const n of rec.addedNodes)
      if (n.nodeType === 1 && H.added.length < maxHidden) H.added.push(n);
  });
  H.observer.observe(document.body || document.documentElement, {childList: true, subtree: true});
  return [x, y];
}"""
)

# What hovering showed (elements hidden before, or added, now shown and not title tooltips);
# after Escape, with `afterEscape`, which of those still show.
HOVER_SHOWN_JS = (
    "(afterEscape) => {"
    + _HELPERS
    + r"""
  const H = globalThis.siteauditHover;
  if (!H || !H.hidden) return 0;
  if (!afterEscape) {
    const appeared = H.hidden.concat(H.added).filter(shown);
    // Keep the outermost: a menu, not each of its items.
    H.appeared = appeared.filter((e) => !appeared.some((o) => o !== e && o.contains(e)));
    return H.appeared.length;
  }
  H.observer.disconnect();
  return H.appeared.filter(shown).length;
}"""
)

# The candidate's finding when what hovering showed stayed after Escape.
HOVER_NODE_JS = r"""(i) => {
  const H = globalThis.siteauditHover;
  const el = H.candidates[i];
  const shownOne = H.appeared.find((e) => e.isConnected) || el;
  const what = siteauditChecks.snippet(shownOne).slice(0, 200);
  return siteauditChecks.node(el, 'Moving the mouse over it shows more content (' + what +
    '), and pressing Escape did not hide it. Check that the content can be closed without ' +
    'moving the mouse, or that it covers nothing.');
}"""
