"""The JavaScript of the Tab walk (browser/keyboard_checks.py check_focus), in the checks' world.

A walk records the focus order and how each stop looks focused and unfocused. A site's pages
share a template around the page's <main>: a header, a footer, the blocks beside <main> (a
phase banner, breadcrumbs). Once a page's walk has gone through a block, a later page with
the same block (its HTML, in the same page context: the elements around <main>, the style
sheets and scripts, the viewport) reuses that walk's stops and verdicts for it, and presses
Tab only through the blocks it has not seen and its own <main>, from the last known stop
before them (browser/focus_templates.py keeps the blocks; docs/checks.md says when).
"""

from __future__ import annotations

from browser.keyboard_js import _HELPERS, RESET_JS

# The most characters the blocks' signatures read (their HTML, the styles and scripts), and
# the most elements outside <main> looked at: past these, the page is walked whole.
MAX_SIGNATURE_CHARS = 4_000_000
MAX_TEMPLATE_ELEMENTS = 20_000

# The template around the page's one <main>: the blocks beside the elements that hold it (each
# element sibling of <main> and of its ancestors up to <body>), in document order with
# <main> among them, each with its signature (the hash of its HTML and of the page's
# context: the attributes of <html>, <main> and the elements between, every style sheet and
# script, the viewport) and its focusable elements. None (walk the whole page) with no or
# several <main>, a positive tabindex anywhere (focus order is then not the document's),
# frames or custom elements outside <main> (stops these cannot see into), or style sheets
# the page adopted.
_TEMPLATE_FN = r"""() => {
  const body = document.body, mains = document.querySelectorAll('main,[role=main]');
  if (!body || mains.length !== 1 || mains[0] === body || !body.contains(mains[0])) return null;
  const main = mains[0];
  for (const el of document.querySelectorAll('[tabindex]')) if (el.tabIndex > 0) return null;
  if (document.adoptedStyleSheets && document.adoptedStyleSheets.length) return null;
  const tagOf = (el) => el.localName + ' ' + Array.from(el.attributes,
    (a) => a.name + '=' + a.value).join('\u0002');
  const context = [location.origin, innerWidth, innerHeight,
    document.documentElement.clientWidth, tagOf(document.documentElement), tagOf(main)];
  const blocks = [{el: main, main: true}];
  for (let n = main, p = main.parentElement; n !== body; n = p, p = p.parentElement) {
    context.push('\u0003' + tagOf(p));
    for (let c = p.firstElementChild; c; c = c.nextElementSibling) {
      if (c !== n) blocks.push({el: c});
    }
  }
  blocks.sort((a, b) =>
    a.el.compareDocumentPosition(b.el) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1);
  for (const s of document.styleSheets) {
    const owner = s.ownerNode;
    context.push('\u0005' + (s.href || (owner ? owner.textContent : '')) + '\u0002' +
      (s.media ? s.media.mediaText : '') + '\u0002' + s.disabled);
  }
  for (const s of document.scripts) context.push('\u0006' + s.type + '\u0002' + (s.src || s.text));
  let chars = 0;
  // cyrb53, twice over with other seeds (106 bits), and the length.
  const hash = (text) => {
    chars += text.length;
    const one = (seed) => {
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
    return one(0) + one(0x9e3779b9) + ':' + text.length;
  };
  const page = hash(context.join('\u0001'));
  let looked = 0;
  for (const b of blocks) {
    if (b.main) continue;
    const all = b.el.getElementsByTagName('*');
    looked += all.length + 1;
    if (looked > MAX_LOOKED) return null;
    for (const e of [b.el, ...all]) {
      if (e.localName.includes('-') || e.shadowRoot ||
          e.matches('iframe,frame,object,embed')) return null;
    }
    b.sig = page + '/' + hash(b.el.outerHTML);
    b.els = [b.el, ...b.el.querySelectorAll(FOCUSABLE)].filter((e) => e.matches(FOCUSABLE));
    if (chars > MAX_CHARS) return null;
  }
  return {main, blocks};
}"""
_TEMPLATE_FN = _TEMPLATE_FN.replace("MAX_CHARS", str(MAX_SIGNATURE_CHARS)).replace(
    "MAX_LOOKED", str(MAX_TEMPLATE_ELEMENTS)
)

# The page's template (kept in the world for FOCUS_START_JS); its blocks' signatures (null
# for <main>), or null when it has none.
FOCUS_TEMPLATE_JS = (
    "() => {"
    + _HELPERS
    + "\n  const T = ("
    + _TEMPLATE_FN
    + r""")();
  globalThis.siteauditTemplate = T;
  return T ? T.blocks.map((b) => b.sig || null) : null;
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
# round, a record of each block beside <main> (`template`, for browser/focus_templates.py);
# in a walk that reused known blocks, their stops and verdicts around the region's, or
# `unexpected` when focus went somewhere the records did not say (the check then walks the
# whole page). Stops listening. FOCUS_START_JS keeps it as the walk's `report` (T and K are
# its), so its source is sent and compiled once a page.
_REPORT_FN = (
    r"""(maxStops, stuck, stuckBothWays) => {
  const S = globalThis.siteauditFocus;
  if (!S) return null;
  S.stop();
  const verdictOf = """
    + _VERDICT_FN
    + r""";
  const node = siteauditChecks.node, ev = S.events;
  const stops = [], verdicts = [], seen = new Set();
  let firstStop = -1, cycled = false;
  for (let i = 0; i < ev.length; i++) {
    const e = ev[i];
    if (e.k !== 'focus' || e.el < 0) continue;
    if (e.el === S.endId) { cycled = true; break; }
    if (K && !S.inRegion(S.els[e.el])) return {unexpected: true};
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
  if (K) walk = K.prefix.concat(walk, trapped ? [] : K.suffix);
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
    truncated: walk.length > maxStops, reused: !!K};
  if (T && !K && cycled && !trapped && !S.overflow) found.template = templateOf(stops, verdicts);
  return found;
}"""
)

# The template's part of a whole walk: for each block beside <main>, its stops (as indexes
# into its focusable elements) and their verdicts; null when the walk went back to a block
# it had left (the order is not the blocks', then), or took a stop outside every block or
# one a block did not have when the walk began.
_TEMPLATE_RECORD_FN = r"""(stops, verdicts) => {
  const blockOf = (el) => T.blocks.findIndex((b) => b.el === el || b.el.contains(el));
  const records = T.blocks.map((b) => b.main ? null
    : {sig: b.sig, count: b.els.length, stops: [], verdicts: {}});
  let phase = 0;
  for (let k = 0; k < stops.length; k++) {
    const at = blockOf(stops[k]);
    if (at < phase) return null;
    phase = at;
    const record = records[at];
    if (!record) continue;  // <main>'s
    const i = T.blocks[at].els.indexOf(stops[k]);
    if (i < 0) return null;
    record.stops.push(i);
    if (verdicts[k]) record.verdicts[i] = verdicts[k];
  }
  return records.filter(Boolean);
}"""

# The walk's region given the known blocks' records: the known stops before it and after it
# (element and verdict), and the region's blocks; null when no known block has a stop
# before or after the region (a whole walk costs no more).
_REGION_FN = r"""(T, known) => {
  const recordOf = (b) => {
    const r = !b.main && known[b.sig];
    return r && r.count === b.els.length && r.stops.every((i) => b.els[i]) ? r : null;
  };
  const records = T.blocks.map(recordOf);
  const first = records.findIndex((r) => !r);
  let last = records.length - 1;
  while (records[last]) last--;
  const stopsOf = (from, to) => {
    const out = [];
    for (let k = from; k < to; k++) {
      for (const i of records[k].stops) {
        out.push([T.blocks[k].els[i], records[k].verdicts[i] || null]);
      }
    }
    return out;
  };
  const prefix = stopsOf(0, first), suffix = stopsOf(last + 1, records.length);
  if (!prefix.length && !suffix.length) return null;
  return {prefix, suffix, region: T.blocks.slice(first, last + 1).map((b) => b.el)};
}"""

# Snapshot the unfocused look of the page's focusable elements, then listen (capturing, on
# window) to keydown, focus and blur, recording a timeline and the focused element's look.
# With `known`, the records of blocks of this page's template (FOCUS_TEMPLATE_JS's
# signatures) seen before: the walk's region is from the first block not known (<main> at
# the latest) to the last; only its elements are looked at, focus starts on the last known
# stop before it (put there by script, before listening: the walk's own presses move it
# on), and the walk ends as focus reaches the first known stop after it.
FOCUS_START_JS = (
    "(maxElements, maxEvents, known) => {"
    + _HELPERS
    + "\n  const regionOf = "
    + _REGION_FN
    + r""";
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
  const K = T && known ? regionOf(T, known) : null;
  const S = {els: [], ids: new Map(), before: [], events: [], overflow: false, known: K};
  S.inRegion = (el) => K.region.some((r) => r === el || r.contains(el));
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
    if (K && !S.inRegion(el)) continue;  // the known blocks' stops are known
    if (!shown(el)) continue;
    if (takesFocus(el)) tabbable++;
    S.before[S.id(el)] = looksOf(el, ancestors);
  }
  S.endId = -1;
  if (K) {
    S.endId = S.id((K.suffix.length ? K.suffix[0] : K.prefix[0])[0]);
    if (K.prefix.length) K.prefix[K.prefix.length - 1][0].focus({preventScroll: true});
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
        (!K || S.inRegion(active))) {
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

# How far the Tab walk has got: has focus come back to its first stop (or, reusing known
# blocks, reached the first known stop after the walk's region, or left the region at all),
# is it stuck on one element (the same one active at `stuckKeys` key presses in a row, with
# no focus moving).
_STATE_FN = r"""(stuckKeys) => {
  const S = globalThis.siteauditFocus;
  if (!S) return {cycled: false, stuck: -1};
  const focuses = S.events.filter((e) => e.k === 'focus' && e.el >= 0);
  const first = focuses.length ? focuses[0].el : -1;
  const cycled = S.known
    ? focuses.some((e) => e.el === S.endId || !S.inRegion(S.els[e.el]))
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
