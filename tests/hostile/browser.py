"""Pages that try to take the browser elsewhere: internal pages, private addresses, secrets.

Each navigating page loads a slow image, so its navigation starts before the page has
finished loading, whatever the machine's speed. `/browser/internal.html` stands for an
internal page: a browser that follows the navigation would audit it and store its HTML
(`internal-only-secret`) as a finding of the public page. The "other host" (localhost, a
loopback address not in site.private_hosts) stands for an internal service.
"""

from __future__ import annotations

import time
from html import escape
from urllib.parse import SplitResult

from tests.hostile import Handler, HostileHandler, send_page

INTERNAL = "/browser/internal.html"
SECRET_MARK = "internal-only-secret"  # in the internal page's HTML, never to be stored
SLOW = '<img alt="A slow picture" src="/browser/slow.png">'
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def internal(h: HostileHandler, url: SplitResult) -> None:
    body = f'<p>Internal only.</p>\n<img src="/browser/{SECRET_MARK}.png">'
    send_page(h, "Internal page", body)


def slow_image(h: HostileHandler, url: SplitResult) -> None:
    time.sleep(0.8)  # holds the load event until the navigation has started
    h.send_body(200, PIXEL, "image/png")


def pixel(h: HostileHandler, url: SplitResult) -> None:
    h.send_body(200, PIXEL, "image/png")


def on_load(h: HostileHandler, url: SplitResult) -> None:
    script = f'<script>location.href = "{INTERNAL}?via=script";</script>'
    send_page(h, "Leaves as it loads", f"<p>Goes elsewhere.</p>\n{SLOW}\n{script}")


def on_timer(h: HostileHandler, url: SplitResult) -> None:
    script = f'<script>setTimeout(() => location.assign("{INTERNAL}?via=timer"), 100);</script>'
    send_page(h, "Leaves after a moment", f"<p>Goes elsewhere soon.</p>\n{SLOW}\n{script}")


def meta_refresh(h: HostileHandler, url: SplitResult) -> None:
    # Written by a script: the crawler (Scrapy follows a meta refresh in the HTML itself)
    # must not see it, only the browser.
    script = (
        "<script>const m = document.createElement('meta'); m.httpEquiv = 'refresh';\n"
        f"m.content = '0; url={INTERNAL}?via=refresh'; document.head.append(m);</script>"
    )
    send_page(h, "Leaves by meta refresh", f"<p>Refreshes elsewhere.</p>\n{SLOW}\n{script}")


def form_submit(h: HostileHandler, url: SplitResult) -> None:
    form = (
        f'<form method="post" action="{INTERNAL}?via=form">'
        '<button type="submit">Continue</button></form>\n'
        "<script>document.forms[0].submit();</script>"
    )
    send_page(h, "Leaves by a form", f"<p>Submits itself.</p>\n{SLOW}\n{form}")


def private_subresources(h: HostileHandler, url: SplitResult) -> None:
    """A frame, an image, a fetch and a websocket to a loopback host that is not allowed."""
    peer = h.server.peer_base
    socket_url = peer.replace("http://", "ws://", 1)
    body = (
        f'<iframe title="Internal frame" src="{escape(peer)}/internal/frame"></iframe>\n'
        f'<img alt="Internal picture" src="{escape(peer)}/internal/img">\n'
        "<script>\n"
        f'fetch("{peer}/internal/fetch", {{mode: "no-cors"}}).catch(() => null);\n'
        f'try {{ new WebSocket("{socket_url}/internal/ws"); }} catch (e) {{}}\n'
        "</script>"
    )
    send_page(h, "Reaches for internal addresses", body)


def credential_redirect(h: HostileHandler, url: SplitResult) -> None:
    """Requests to the site's own host (which get its credentials) redirected elsewhere."""
    body = (
        '<img alt="Map" src="/browser/to-other?via=img">\n'
        '<link rel="stylesheet" href="/browser/to-other?via=css">\n'
        '<script>fetch("/browser/to-other?via=fetch").catch(() => null);</script>'
    )
    send_page(h, "Redirects its pictures", body)


def to_other(h: HostileHandler, url: SplitResult) -> None:
    h.redirect(f"{h.server.peer_base}/leak?{url.query}")


ROUTES: dict[str, Handler] = {
    "/browser/navigate-on-load.html": on_load,
    "/browser/navigate-on-timer.html": on_timer,
    "/browser/navigate-meta-refresh.html": meta_refresh,
    "/browser/navigate-form.html": form_submit,
    "/browser/private-subresources.html": private_subresources,
    "/browser/credential-redirect.html": credential_redirect,
    "/browser/to-other": to_other,
    INTERNAL: internal,
    "/browser/slow.png": slow_image,
    f"/browser/{SECRET_MARK}.png": pixel,
}
NAVIGATING = [
    "/browser/navigate-on-load.html",
    "/browser/navigate-on-timer.html",
    "/browser/navigate-meta-refresh.html",
    "/browser/navigate-form.html",
]
INDEX = [*NAVIGATING, "/browser/private-subresources.html", "/browser/credential-redirect.html"]
