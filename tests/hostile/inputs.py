"""Pages for the CI gate: one links to a site whose name does not resolve."""

from __future__ import annotations

from urllib.parse import SplitResult

from tests.hostile import Handler, HostileHandler, send_page

DEAD_SITE = "http://does-not-exist.invalid/"


def with_dead_link(h: HostileHandler, url: SplitResult) -> None:
    send_page(
        h,
        "Bin collections",
        f'<p>Report a missed bin on <a href="{DEAD_SITE}">our contractor\'s site</a>.</p>',
    )


def plain_page(title: str) -> Handler:
    def handler(h: HostileHandler, url: SplitResult) -> None:
        send_page(h, title, f"<p>{title} are explained on this page.</p>")

    return handler


ROUTES: dict[str, Handler] = {
    "/inputs/bins.html": with_dead_link,
    "/inputs/parking.html": plain_page("Parking permits"),
    "/inputs/libraries.html": plain_page("Library opening hours"),
}
INDEX = list(ROUTES)
