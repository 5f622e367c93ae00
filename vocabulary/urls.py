"""URL normalisation and response classification, shared by discovery and storage."""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from w3lib.url import safe_url_string

DEFAULT_PORTS = {"http": 80, "https": 443}
HTML_TYPES = ("text/html", "application/xhtml+xml")
# Schemes that name no web page: recorded as links, never requested.
UNFETCHABLE_SCHEMES = ("javascript", "mailto", "tel", "file", "data", "ftp", "sms")
# An href that leads to the same place from every page of a site, as it names the path
# ("/path") or the host ("//host/...", "scheme://host/..."): resolved against the page's
# scheme and host alone, it can be worked out once a site. Not "//" or "scheme://" with no
# host, nor "/" then a tab or line break (urlsplit removes those, making "//..."): those
# resolve against the page's own path and query.
ROOTED_HREF = re.compile(r"/(?![/\t\r\n])|(?:[a-zA-Z][a-zA-Z0-9+.-]*:)?//[^/?#\t\r\n]")


def origin_of(url: str) -> str:
    """Where a ROOTED_HREF resolves from: the URL's scheme and host, and "/"."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def normalise_url(url: str, base: str | None = None, strip_params: tuple[str, ...] = ()) -> str:
    """An absolute URL without fragment or default port, minus tracking parameters.

    Scheme and host are lower-cased; path and remaining query are kept as written,
    because servers may treat them case-sensitively and in order.
    """
    absolute = urljoin(base, url.strip()) if base else url.strip()
    parts = urlsplit(safe_url_string(absolute))
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address keeps its brackets, or it reads as host:port
    port = parts.port
    netloc = host if port is None or DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"  # keep, so the link is recorded as written
    query = strip_query(parts.query, strip_params)
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def strip_query(query: str, patterns: tuple[str, ...]) -> str:
    """Remove query parameters whose names match any glob pattern (e.g. "utm_*")."""
    if not query or not patterns:
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not any(fnmatch.fnmatchcase(k, p) for p in patterns)]
    return urlencode(kept, doseq=True) if len(kept) != len(pairs) else query


def scheme_of(url: str) -> str:
    return urlsplit(url.strip()).scheme.lower()


def path_and_query(url: str) -> str:
    """The page's identity across hosts: its path plus query."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def media_type(content_type: str | None) -> str:
    """The bare media type of a Content-Type header, lower-cased."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_html(content_type: str | None) -> bool:
    return media_type(content_type) in HTML_TYPES


def host_allowed(url: str, allowed_domains: tuple[str, ...]) -> bool:
    """True if the URL's host is an allowed domain or a subdomain of one."""
    host = (urlsplit(url).hostname or "").lower()
    return any(host == d or host.endswith("." + d) for d in allowed_domains)


def is_private_address(address: str) -> bool:
    """True for an IP address off the public internet: loopback, private, link-local or
    reserved (an IPv6 zone such as "%eth0" aside). ValueError if it is not an address."""
    return not ipaddress.ip_address(address.split("%", 1)[0]).is_global
