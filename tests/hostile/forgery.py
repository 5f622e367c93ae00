"""Pages that try to forge their own audit: a fake `window.axe`, patched built-ins, a frame.

Every page has a real violation, an image without alt text (axe-core's `image-alt`), that
each one tries to hide, and most try to store a rule `forged` with impact `bogus` and help
URL `javascript:alert(1)` instead: what axe-core running in the page's own JavaScript
world stored before, and what `siteaudit report` crashed on (`KeyError: 'bogus'`).
"""

from __future__ import annotations

from urllib.parse import SplitResult

from tests.hostile import Handler, HostileHandler, page

# What a forging page wants stored: axe's result shape, with values axe never gives.
FORGED = """{violations: [{id: 'forged', impact: 'bogus', tags: ['wcag2a', 'wcag111'],
  help: 'Forged `rule` <b>', description: 'Forged', helpUrl: 'javascript:alert(1)',
  nodes: [{target: ['body'], ancestry: ['html > body'], html: '<body>', impact: 'bogus',
  failureSummary: 'Forged'}]}], incomplete: [], passes: [], inapplicable: []}"""

# A `window.axe` of the page's own, which axe-core's script cannot replace when it is
# loaded into the page's world: the global is not writable and the object is frozen.
FAKE_AXE = """<script>
const result = %s;
const fake = Object.freeze({
  version: '4.14.1',
  run: () => Promise.resolve(result),
  runPartial: () => Promise.resolve(result),
  finishRun: () => Promise.resolve(result),
  getRules: () => [{ruleId: 'forged'}],
  configure: () => undefined,
  utils: Object.freeze({getFrameContexts: () => [], shadowSelect: () => null}),
});
Object.defineProperty(window, 'axe', {value: fake, writable: false, configurable: false});
</script>
"""

# The page's own built-ins, patched so that whatever runs in its world forges or hides.
PATCHED_BUILTINS = """<script>
const forged = %s;
const stringify = JSON.stringify;
JSON.stringify = function (value, ...rest) {
  return stringify(value && value.violations ? forged : value, ...rest);
};
const then = Promise.prototype.then;
Promise.prototype.then = function (ok, fail) {
  const swap = ok && ((value) => ok(value && value.violations ? forged : value));
  return then.call(this, swap, fail);
};
const map = Array.prototype.map;
Array.prototype.map = function (fn, self) {
  return map.call(this, fn, self).filter((x) => !(x && x.id === 'image-alt'));
};
</script>
"""

IMAGE = '<p><img src="/forgery/pixel.png" width="10" height="10"></p>'
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def _send(h: HostileHandler, title: str, body: str, head: str = "") -> None:
    h.send_body(200, page(title, body, head=head).encode())


def fake_axe(h: HostileHandler, url: SplitResult) -> None:
    _send(h, "A page with its own axe", IMAGE, head=FAKE_AXE % FORGED)


def hidden(h: HostileHandler, url: SplitResult) -> None:
    nothing = "{violations: [], incomplete: [], passes: [], inapplicable: []}"
    _send(h, "A page that reports itself clean", IMAGE, head=FAKE_AXE % nothing)


def builtins(h: HostileHandler, url: SplitResult) -> None:
    _send(h, "A page with patched built-ins", IMAGE, head=PATCHED_BUILTINS % FORGED)


def framed(h: HostileHandler, url: SplitResult) -> None:
    # Served to the frame through localhost: another site, so another process.
    _send(h, "A forging frame", IMAGE, head=FAKE_AXE % FORGED + PATCHED_BUILTINS % FORGED)


def frame_host(h: HostileHandler, url: SplitResult) -> None:
    other_site = h.server.base.replace("127.0.0.1", "localhost")
    frame = (
        f'<iframe id="hostile-frame" title="A forging frame" '
        f'src="{other_site}/forgery/framed.html"></iframe>'
    )
    _send(h, "A page with a forging cross-origin frame", frame)


def pixel(h: HostileHandler, url: SplitResult) -> None:
    h.send_body(200, PIXEL, "image/png")


ROUTES: dict[str, Handler] = {
    "/forgery/fake-axe.html": fake_axe,
    "/forgery/hidden.html": hidden,
    "/forgery/builtins.html": builtins,
    "/forgery/frame.html": frame_host,
    "/forgery/framed.html": framed,
    "/forgery/pixel.png": pixel,
}
INDEX = [
    "/forgery/fake-axe.html",
    "/forgery/hidden.html",
    "/forgery/builtins.html",
    "/forgery/frame.html",
]
