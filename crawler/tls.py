"""HTTPS certificates checked as a browser checks them, with a configured extra authority."""

from __future__ import annotations

import contextlib
import os
import ssl
import tempfile
from collections.abc import Iterator
from pathlib import Path

import certifi

from browser.launch import pem_certificates
from settings.loader import ConfigError


def system_bundle() -> Path:
    """The system's trusted authorities (Debian's ca-certificates), else certifi's."""
    cafile = ssl.get_default_verify_paths().cafile
    return Path(cafile) if cafile and Path(cafile).is_file() else Path(certifi.where())


def read_ca_file(ca_file: str) -> list[bytes]:
    """The PEM certificates in site.ca_file; a clear error if there are none."""
    try:
        data = Path(ca_file).read_bytes()
    except OSError as err:
        raise ConfigError(
            f"site.ca_file: cannot read {ca_file} ({err.strerror}); give the path of a PEM file"
        ) from None
    blocks = pem_certificates(data)
    if not blocks:
        raise ConfigError(
            f"site.ca_file: {ca_file} holds no PEM certificate "
            "(-----BEGIN CERTIFICATE-----); export the authority's certificate as PEM"
        )
    return blocks


@contextlib.contextmanager
def trusting(ca_file: str) -> Iterator[None]:
    """While inside, this process trusts the system's authorities plus ca_file's.

    Scrapy (through Twisted and pyOpenSSL) and Python's ssl module both take their default
    authorities from SSL_CERT_FILE, so one bundle serves the crawl and any login request.
    """
    if not ca_file:
        yield
        return
    blocks = read_ca_file(ca_file)
    with tempfile.TemporaryDirectory(prefix="siteaudit-ca-") as directory:
        bundle = Path(directory) / "trusted.pem"
        bundle.write_bytes(system_bundle().read_bytes() + b"\n" + b"\n".join(blocks) + b"\n")
        before = os.environ.get("SSL_CERT_FILE")
        os.environ["SSL_CERT_FILE"] = str(bundle)
        try:
            yield
        finally:
            if before is None:
                os.environ.pop("SSL_CERT_FILE", None)
            else:
                os.environ["SSL_CERT_FILE"] = before
