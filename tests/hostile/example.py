"""An ordinary page, so the hostile site has one page every scan can audit."""

from __future__ import annotations

from urllib.parse import SplitResult

from tests.hostile import Handler, HostileHandler, send_page


def ordinary(h: HostileHandler, url: SplitResult) -> None:
    send_page(h, "An ordinary page", "<p>Nothing is wrong with this page.</p>")


ROUTES: dict[str, Handler] = {"/example/ordinary.html": ordinary}
INDEX = ["/example/ordinary.html"]
