"""Pages whose titles, team names and elements try to break the reports and the terminal.

Each page names its team in ``<meta name="dcterms.creator">`` (scan them with
``[ownership] meta_tag = "dcterms.creator"``): a name with escape sequences, one of 300
characters, and two names (``revenues-and-benefits``, ``Revenues and Benefits``) whose
obvious file names are the same. The element page has an image without alt text (an axe
violation) whose id holds backticks, a pipe, ``<script>``, ``]]>`` and a formula.
"""

from __future__ import annotations

from html import escape
from urllib.parse import SplitResult

from tests.hostile import HTML, Handler, HostileHandler

META_TAG = "dcterms.creator"
# An OSC 8 hyperlink to another site, a screen clear, a bell, a backspace and a C1 CSI.
ANSI = "\x1b]8;;http://evil.example/\x07Pay here\x1b]8;;\x07\x1b[2J\x07\x08\x9b31m"
ANSI_TITLE = f"Council tax {ANSI} bills"
CONTROL_TEAM = f"Parking {ANSI}\r\nServices\x7f"
LONG_TEAM = "Long team name " * 20  # 300 characters
SAME_SLUG_TEAMS = ("revenues-and-benefits", "Revenues and Benefits")
FORMULA = '=HYPERLINK("http://evil.example/","click")'
ELEMENT_ID = "a``b`|c|<script>alert(1)</script>]]>" + FORMULA
PIXEL = "data:image/gif;base64,R0lGODlhAQABAAAAACw="


def hostile_page(title: str, body: str, team: str | None = None) -> bytes:
    """Like tests.hostile.page, but the title goes in as written (controls and all)."""
    meta = f'<meta name="{META_TAG}" content="{escape(team)}">\n' if team is not None else ""
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n{meta}</head>\n"
        f"<body>\n<main>\n<h1>Hostile outputs</h1>\n{body}\n</main>\n</body>\n</html>\n"
    ).encode()


def _serve(title: str, body: str, team: str | None = None) -> Handler:
    def handler(h: HostileHandler, url: SplitResult) -> None:
        h.send_body(200, hostile_page(title, body, team), HTML)

    return handler


ELEMENT_BODY = (
    f'<p>An image with a hostile id and no alt text:</p>\n<img src="{PIXEL}" '
    f'id="{escape(ELEMENT_ID)}" width="1" height="1">\n'
    f'<p>An image whose alt text is a formula:</p>\n<img src="{PIXEL}" '
    f'alt="{escape(FORMULA)}" width="1" height="1">'
)

ROUTES: dict[str, Handler] = {
    "/outputs/ansi-title.html": _serve(ANSI_TITLE, "<p>A title with escape sequences.</p>"),
    "/outputs/team-controls.html": _serve("Controls", "<p>A team with controls.</p>", CONTROL_TEAM),
    "/outputs/team-long.html": _serve("Long team", "<p>A 300-character team.</p>", LONG_TEAM),
    "/outputs/revenues-1.html": _serve("Revenues one", "<p>One.</p>", SAME_SLUG_TEAMS[0]),
    "/outputs/revenues-2.html": _serve("Revenues two", "<p>Two.</p>", SAME_SLUG_TEAMS[1]),
    "/outputs/element.html": _serve(FORMULA, ELEMENT_BODY),
}
INDEX = list(ROUTES)
