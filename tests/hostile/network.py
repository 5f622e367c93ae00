"""Redirects and links that try to leak secrets, flood another site or reach private addresses."""

from __future__ import annotations

from html import escape
from urllib.parse import SplitResult

from tests.hostile import Handler, HostileHandler, link_list, send_page

# One page's links to another site: more than links.max_external_per_host allows.
MANY_EXTERNAL = 300
# A name under localhost: a subdomain of an allowed domain "localhost" that resolves to
# loopback where /etc/hosts (or systemd's resolver) says so; the test arranges that.
SUBDOMAIN = "evil.localhost"
# Reserved never to resolve (RFC 6761).
UNRESOLVABLE = "http://nowhere.invalid/page"


def port_of(h: HostileHandler) -> int:
    return h.server.server_port


def away(h: HostileHandler, url: SplitResult) -> None:
    """Redirects to another site, which records whether the staging secret came along."""
    h.redirect(h.server.peer_base + "/landed")


def refresh_away(h: HostileHandler, url: SplitResult) -> None:
    """The same by <meta http-equiv="refresh">, which Scrapy follows too."""
    target = escape(h.server.peer_base + "/refreshed")
    h.send_body(
        200,
        (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="refresh" content="0; url={target}">'
            "<title>Moved</title></head><body><p>Moved.</p></body></html>"
        ).encode(),
    )


def many_external(h: HostileHandler, url: SplitResult) -> None:
    """Hundreds of links to one other host: a link check must not become a flood."""
    peer = h.server.peer_base
    send_page(
        h, "Many external links", link_list([f"{peer}/external/{i}" for i in range(MANY_EXTERNAL)])
    )


def ipv6(h: HostileHandler, url: SplitResult) -> None:
    """A link to an IPv6 loopback address, whose brackets must survive normalisation."""
    send_page(h, "IPv6 link", link_list([f"http://[::1]:{port_of(h)}/network/secret"]))


def subdomain(h: HostileHandler, url: SplitResult) -> None:
    """Links to a subdomain that resolves to loopback, and to one that does not resolve."""
    port = port_of(h)
    send_page(
        h,
        "Subdomain links",
        link_list(
            [f"http://{SUBDOMAIN}:{port}/network/secret", f"http://missing.localhost:{port}/"]
        ),
    )


def unresolvable(h: HostileHandler, url: SplitResult) -> None:
    send_page(h, "Unresolvable link", link_list([UNRESOLVABLE]))


def secret(h: HostileHandler, url: SplitResult) -> None:
    """What an internal address would serve: it must never be fetched from a public page."""
    send_page(h, "Internal secret", "<p>internal-only: 7f3a9c</p>")


ROUTES: dict[str, Handler] = {
    "/network/away": away,
    "/network/refresh-away": refresh_away,
    "/network/many-external": many_external,
    "/network/ipv6": ipv6,
    "/network/subdomain": subdomain,
    "/network/unresolvable": unresolvable,
    "/network/secret": secret,
}
INDEX = [
    "/network/away",
    "/network/refresh-away",
    "/network/many-external",
    "/network/ipv6",
    "/network/subdomain",
    "/network/unresolvable",
]
