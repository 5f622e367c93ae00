"""The JavaScript of the Tab walk (browser/keyboard_checks.py check_focus), in the checks' world.

A walk records the focus order and how each stop looks focused and unfocused. A site's pages
share a template, its header and footer around the page's <main>: once one page's walk has
gone through it, a page whose template is the same in every respect the walk can see (its
HTML, the page's style sheets and scripts, the viewport) reuses that walk's stops and
verdicts for the template, and presses Tab only through its own <main>, from the template's
last stop before it (browser/focus_templates.py keeps them; docs/checks.md says when).
"""

from __future__ import annotations

from browser.keyboard_js import _HELPERS, RESET_JS

# The most characters a template's signature reads (its HTML, styles and scripts): past
# this, the page is walked whole.
MAX_SIGNATURE_CHARS = 4_000_000

# The template around the page's one <main>: everything outside it that the walk can see,
# as one hash, and its focusable elements in document order. None (walk the whole page)
# with no or several <main>, a positive tabindex anywhere (focus order is then not the
# document's), frames or custom elements in the template (stops these cannot see into),
# or style sheets the page adopted.
_TEMPLATE_FN = r"""() => {
  const body = document.body, mains = document.querySelectorAll('main,[role=main]');
  if (!body || mains.length !== 1 || mains[0] === body || !body.contains(mains[0])) return null;
  const main = mains[0];
  for (const el of document.querySelectorAll('[tabindex]')) if (el.tabIndex > 0) return null;
  if (document.adoptedStyleSheets && document.adoptedStyleSheets.length) return null;
  const tagOf = (el) => el.localName + ' ' + Array.from(el.attributes,
    (a) => a.name + '=' + a.value).join('\u0002');
  const parts = [location.origin, innerWidth, innerHeight, document.documentElement.clientWidth,
    tagOf(document.documentElement), tagOf(main)];
  const roots = [];
  for (let n = main, p = main.parentElement; n !== body; n = p, p = p.parentElement) {
    parts.push('\u0003' + tagOf(p));
    for (const c of p.childNodes) {
      if (c === n) parts.push('\u0004');
      else if (c.nodeType === 1) { parts.push(c.outerHTML); roots.push(c); }
      else if (c.nodeType === 3) parts.push(c.data);
    }
  }
  for (const r of roots) {
    for (const e of [r, ...r.getElementsByTagName('*')]) {
      if (e.localName.includes('-') || e.shadowRoot ||
          e.matches('iframe,frame,object,embed')) return null;
    }
  }
  for (const s of document.styleSheets) {
    const owner = s.ownerNode;
    parts.push('\u0005' + (s.href || (owner ? owner.textContent : '')) + '\u0002' +
      (s.media ? s.media.mediaText : '') + '\u0002' + s.disabled);
  }
  for (const s of document.scripts) parts.push('\u0006' + s.type + '\u0002' + (s.src || s.text));
  const text = parts.join('\u0001');
  if (text.length > MAX_CHARS) return null;
  // cyrb53, twice over with other seeds: 106 bits; and the length.
  const hash = (seed) => {
    let h1 = 0xdeadbeef ^ seed, h2 = 0x41c6ce57 ^ seed;
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ ch, 2654435761);
      h2 = Math.imul(h2 ^ ch, 1597334677);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    return (h2 >>> 0).toString(16) + (h1 >>> 0).toString(16);
  };
  const els = Array.prototype.filter.call(document.querySelectorAll(FOCUSABLE),
    (el) => !main.contains(el));
  return {main, els, sig: hash(0) + hash(0x9e3779b9) + ':' + text.length};
}""".replace("MAX_CHARS", str(MAX_SIGNATURE_CHARS))

# The page's template (kept in the world for FOCUS_START_JS); its signature, or null when it
# has none or no focusable element.
FOCUS_TEMPLATE_JS = (
    "() => {"
    + _HELPERS
    + "\n  const T = ("
    + _TEMPLATE_FN
    + r""")();
  globalThis.siteauditTemplate = T;
  return T && T.els.length ? T.sig : null;
}"""
)

# A stop's verdict from the walk's timeline: ['lost' | 'hidden' | 'review', why], or null
# when focus on it shows (or it is gone). `i` is its focus event's index in S.events.
_VERDICT_FN = r"""(S, i, id) => {
  const ev = S.events, el = S.els[id];
  // Lost: before the next key press, focus left it for nothing (body), and no other
  // element took it.
  let j = i + 1, blurred = false, other = false, active = null;
  for (; j < ev.length && ev[j].k !== 'key'; j++) {
    if (ev[j].k === 'blur' && ev[j].el === id) blurred = true;
    if (ev[j].k === 'focus' && ev[j].el !== id) other = true;
  }
  if (j < ev.length) active = ev[j].active;
  if (blurred && !other && active === -1) {
    if (!el.isConnected) return null;
    return ['lost', 'It lost keyboard focus as soon as it took it: ' +
      'focus went back to the page itself before the next key press' +
      (el.getAttribute('onfocus') ? ' (its onfocus: ' +
        el.getAttribute('onfocus').slice(0, 80) + ')' : '') + '.'];
  }
  const was = S.before[id], now = S.focusedLook[id];
  if (!now || !shown(el)) return null;
  if (!was) {
    return ['review', 'It took focus but was not on the page when the check began, so ' +
      'its unfocused look is unknown. Check by hand that focus on it shows.'];
  }
  if (changes(was, now).length) return null;  // something about it changes: focus shows
  const compared = 'Compared focused and unfocused: outline, box shadow, border, ' +
    'background, colour, text decoration, size and place of the element, its ::before ' +
    'and ::after, three ancestors, and for a form field its label and next element.';
  const box = el.getBoundingClientRect();
  const tiny = box.width < 4 || box.height < 4 || now.self.clip !== 'auto' ||
    now.self['clip-path'] !== 'none';
  if (now.self['outline-style'] === 'none' && !S.moving[id] && !tiny) {
    return ['hidden', 'Nothing changes when it has keyboard focus: its outline is ' +
      'removed (outline: none) and no other style takes its place. ' + compared];
  }
  return ['review', 'Nothing measured changes when it has keyboard focus' +
    (S.moving[id] ? ' (it has a transition or animation, which may show focus later)'
      : tiny ? ' (it is tiny or clipped: something else may stand in for it)'
      : ' (its outline is ' + now.self['outline-style'] + ')') + '. ' + compared +
    ' Check by hand that focus on it shows.'];
}"""

# What the walk found: the focus order, elements that lost focus as they took it, elements
# whose focus shows nothing, the element focus was stuck on; after a whole walk that came
# round, the template's part of it (`template`, for browser/focus_templates.py); in a walk
# that reused one, its stops and verdicts around the page's own, or `unexpected` when focus
# went somewhere the template did not say (the check then walks the whole page). Stops
# listening. FOCUS_START_JS keeps it as the walk's `report`, so its source is sent and
# compiled once a page.
_REPORT_FN = (
    r"""(maxStops, stuck, stuckBothWays) => {
  const S = globalThis.siteauditFocus;
  if (!S) return null;
  S.stop();
  const verdictOf = """
    + _VERDICT_FN
    + r""";
  const node = siteauditChecks.node, T = S.T, K = S.known, ev = S.events;
  const stops = [], verdicts = [], seen = new Set();
  let firstStop = -1, cycled = false;
  for (let i = 0; i < ev.length; i++) {
    const e = ev[i];
    if (e.k !== 'focus' || e.el < 0) continue;
    if (e.el === S.endId) { cycled = true; break; }
    if (K && !T.main.contains(S.els[e.el])) return {unexpected: true};
    if (firstStop < 0) firstStop = e.el;
    else if (e.el === firstStop) { cycled = true; break; }  // focus came round: complete
    if (seen.has(e.el)) continue;
    seen.add(e.el);
    stops.push(S.els[e.el]);
    verdicts.push(verdictOf(S, i, e.el));
  }
  const trapped = stuck >= 0 && S.els[stuck];
  if (K && !cycled && !trapped) return {unexpected: true};
  let walk = stops.map((el, k) => [el, verdicts[k]]);
  if (K) {
    const known = (ids) => ids.map((t) => [T.els[t], K.verdicts[t] || null]);
    walk = known(K.before).concat(walk, trapped ? [] : known(K.after));
  }
  const order = [], lost = [], hidden = [], review = [];
  const lists = {lost, hidden, review};
  for (const [el, verdict] of walk) {
    if (order.length < maxStops) order.push(siteauditChecks.selector(el));
    if (verdict) lists[verdict[0]].push(node(el, verdict[1]));
  }
  const trap = [];
  if (trapped) {
    trap.push(node(S.els[stuck], stuckBothWays
      ? 'Keyboard focus could not leave it: Tab and Shift+Tab, pressed three times each, ' +
        'left focus on it.'
      : 'Tab, pressed three times, left focus on it; Shift+Tab moved focus away. Check ' +
        'that a keyboard user can go on past it and is told how.'));
  }
  const found = {order, lost, hidden, review, trap, overflow: S.overflow,
    truncated: walk.length > maxStops};
  if (T && !K && cycled && !trapped && !S.overflow) found.template = templateOf(stops, verdicts);
  return found;
}"""
)

# The template's part of a whole walk: its stops before and after <main> (as indexes into
# the template's focusable elements) and their verdicts; null when the walk went in and out
# of <main> (the order is not the template's, then the page's), or took a stop the
# template did not have when the walk began.
_TEMPLATE_RECORD_FN = r"""(stops, verdicts) => {
  const index = new Map(T.els.map((el, k) => [el, k]));
  const before = [], after = [], kept = {};
  let phase = 0;
  for (let k = 0; k < stops.length; k++) {
    const el = stops[k];
    const inMain = T.main.contains(el);
    const now = inMain ? 1 : (T.main.compareDocumentPosition(el) &
      Node.DOCUMENT_POSITION_PRECEDING) ? 0 : 2;
    if (now < phase) return null;
    phase = now;
    if (inMain) continue;
    if (!index.has(el)) return null;
    const t = index.get(el);
    (now === 0 ? before : after).push(t);
    if (verdicts[k]) kept[t] = verdicts[k];
  }
  if (!before.length && !after.length) return null;
  return {sig: T.sig, count: T.els.length, before, after, verdicts: kept};
}"""

# Snapshot the unfocused look of the page's focusable elements, then listen (capturing, on
# window) to keydown, focus and blur, recording a timeline and the focused element's look.
# With `known`, a template walk of this page's template (FOCUS_TEMPLATE_JS's signature):
# only <main>'s elements are looked at, focus starts on the template's last stop before it
# (put there by script, before listening: the walk's own presses move it on), and the walk
# ends as focus reaches the template's first stop after it.
FOCUS_START_JS = (
    "(maxElements, maxEvents, known) => {"
    + _HELPERS
    + r"""
  const old = globalThis.siteauditFocus;
  if (old) old.stop();
  if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
  const sel = getSelection();
  if (sel) sel.removeAllRanges();
  // Tab starts from the top of the document: where focus last was is where the next Tab
  // starts from in Chromium, blurred or not (a walk given up, a page's own script), and a
  // focused <body> puts it back at the top. Before listening: the page's own handlers may
  // hear it, these do not.
  const body = document.body;
  if (body) {
    const had = body.hasAttribute('tabindex');
    if (!had) body.setAttribute('tabindex', '-1');
    body.focus({preventScroll: true});
    if (!had) body.removeAttribute('tabindex');
    if (document.activeElement === body) body.blur();
  }
  const T = globalThis.siteauditTemplate || null;
  const K = known && T && T.sig === known.sig && T.els.length === known.count &&
    known.before.concat(known.after).every((t) => T.els[t]) ? known : null;
  const S = {els: [], ids: new Map(), before: [], events: [], overflow: false, T, known: K};
  S.id = (el) => {
    if (!el || el === document.body || el === document.documentElement) return -1;
    if (!S.ids.has(el)) {
      if (S.els.length >= maxElements) return -2;
      S.ids.set(el, S.els.length); S.els.push(el);
    }
    return S.ids.get(el);
  };
  let tabbable = 0;
  const ancestors = new Map();
  for (const el of document.querySelectorAll(FOCUSABLE)) {
    if (S.els.length >= maxElements) break;
    if (K && !T.main.contains(el)) continue;  // the template's stops are known
    if (!shown(el)) continue;
    if (takesFocus(el)) tabbable++;
    S.before[S.id(el)] = looksOf(el, ancestors);
  }
  S.endId = -1;
  if (K) {
    const end = K.after.length ? K.after[0] : K.before[0];
    S.endId = S.id(T.els[end]);
    if (K.before.length) T.els[K.before[K.before.length - 1]].focus({preventScroll: true});
  }
  const record = (e) => {
    if (S.events.length < maxEvents) S.events.push(e); else S.overflow = true;
  };
  const moving = (el) => {
    const cs = getComputedStyle(el);
    return cs.transitionDuration.split(',').some((d) => parseFloat(d) > 0) ||
      (el.getAnimations ? el.getAnimations().length > 0 : false);
  };
  S.focusedLook = {}; S.moving = {}; S.taken = 0;
  // The focused element's look is taken at the next key press, before it moves focus on:
  // by then the page's own focus handlers (which run after these) have done their work.
  const onKey = (e) => {
    if (!e.isTrusted) return;
    const active = document.activeElement;
    const id = S.id(active);
    if (id >= 0 && S.focusedLook[id] === undefined && S.taken < maxElements &&
        (!K || T.main.contains(active))) {
      S.focusedLook[id] = looksOf(active, null, S.before[id]);
      S.moving[id] = moving(active); S.taken++;
    }
    record({k: 'key', shift: e.shiftKey, key: String(e.key).slice(0, 20), active: id});
  };
  const onFocus = (e) => {
    if (e.target === window || e.target === document) return;
    record({k: 'focus', el: S.id(e.target)});
  };
  const onBlur = (e) => {
    if (e.target === window || e.target === document) return;
    record({k: 'blur', el: S.id(e.target)});
  };
  addEventListener('keydown', onKey, true);
  addEventListener('focus', onFocus, true);
  addEventListener('blur', onBlur, true);
  S.stop = () => {
    removeEventListener('keydown', onKey, true);
    removeEventListener('focus', onFocus, true);
    removeEventListener('blur', onBlur, true);
  };
  const templateOf = """
    + _TEMPLATE_RECORD_FN
    + r""";
  S.report = """
    + _REPORT_FN
    + r""";
  globalThis.siteauditFocus = S;
  return {tabbable, reused: !!K};
}"""
)

# How far the Tab walk has got: has focus come back to its first stop (or, reusing a
# template, reached its first stop after <main>, or left <main> at all), is it stuck on one
# element (the same one active at `stuckKeys` key presses in a row, with no focus moving).
_STATE_FN = r"""(stuckKeys) => {
  const S = globalThis.siteauditFocus;
  if (!S) return {cycled: false, stuck: -1};
  const focuses = S.events.filter((e) => e.k === 'focus' && e.el >= 0);
  const first = focuses.length ? focuses[0].el : -1;
  const cycled = S.known
    ? focuses.some((e) => e.el === S.endId || !S.T.main.contains(S.els[e.el]))
    : focuses.length > 1 && focuses.slice(1).some((e) => e.el === first);
  const keys = [];
  for (let i = S.events.length - 1; i >= 0 && keys.length < stuckKeys; i--) {
    const e = S.events[i];
    if (e.k === 'key') keys.push(e); else if (e.k === 'focus' || e.k === 'blur') break;
  }
  let stuck = -1;
  if (keys.length >= stuckKeys && keys.every((e) => e.active === keys[0].active) &&
      keys[0].active >= 0) {
    const el = S.els[keys[0].active];
    // Inside a frame or a shadow root, focus moves where these listeners cannot see it.
    if (!el.matches('iframe,frame,object,embed') && !el.shadowRoot) stuck = keys[0].active;
  }
  return {cycled, stuck, overflow: S.overflow};
}"""

# The walk's state; once focus has come round (or the record is full), with `report` set,
# also the walk's report and the page left as found (RESET_JS): one call, not three.
FOCUS_STATE_JS = (
    "(stuckKeys, maxStops) => {\n  const state = ("
    + _STATE_FN
    + """)(stuckKeys);
  if (maxStops >= 0 && (state.cycled || state.overflow)) {
    const S = globalThis.siteauditFocus;
    state.report = S ? S.report(maxStops, -1, false) : null;
    ("""
    + RESET_JS
    + """)();
  }
  return state;
}"""
)

# The walk's report (the element it stuck on, whether Shift+Tab could not move it either),
# and the page left as found.
FOCUS_REPORT_JS = (
    "(maxStops, stuck, stuckBothWays) => {\n  const S = globalThis.siteauditFocus;\n"
    + "  const found = S ? S.report(maxStops, stuck, stuckBothWays) : null;\n  ("
    + RESET_JS
    + ")();\n  return found;\n}"
)
