"""Where a page's links point: resolved and normalised, with caches for menus that repeat."""

from __future__ import annotations

from functools import lru_cache

from vocabulary.urls import (
    ROOTED_HREF,
    UNFETCHABLE_SCHEMES,
    host_allowed,
    normalise_url,
    origin_of,
    scheme_of,
)


def link_target(href: str, base: str, strip_params: tuple[str, ...]) -> str | None:
    """The normalised URL a link points at; other schemes are kept as written. None for a
    link to this page, or one no URL parser can read (`http://[menu]`: a bracketed host
    that is no IP address), which was lost with the whole page before."""
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    try:
        if ROOTED_HREF.match(href):  # the same from every page: worth caching
            base = base_origin(base)  # the base's path and query cannot change where it points
        return resolved_link(href, base, strip_params)
    except ValueError:
        return None


# The base's origin (vocabulary.urls.origin_of), cached: a scan's pages share a few.
base_origin = lru_cache(maxsize=1024)(origin_of)


@lru_cache(maxsize=1 << 15)
def resolved_link(href: str, base: str, strip_params: tuple[str, ...]) -> str:
    """A link's target; cached, because a site's menus repeat the same links on every page."""
    if scheme_of(href) in UNFETCHABLE_SCHEMES:
        return href[:500]
    try:
        return normalise_url(href, base=base, strip_params=strip_params)
    except ValueError:
        return href[:500]


@lru_cache(maxsize=1 << 15)
def allowed_cached(url: str, allowed_domains: tuple[str, ...]) -> bool:
    return host_allowed(url, allowed_domains)
