"""The crawler's name resolver: it refuses private answers where connections are made."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import attr
from scrapy.resolver import HostResolution
from scrapy.utils.datatypes import LocalCache
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IAddress, IHostnameResolver, IResolutionReceiver
from zope.interface import implementer, provider

from vocabulary.urls import is_private_address

log = logging.getLogger(__name__)


def private_ok_hosts(allowed_domains: Iterable[str], private_hosts: Iterable[str]) -> list[str]:
    """Hosts that may resolve to a private address: exactly as the user named them."""
    return sorted({h.strip().strip("[]").lower() for h in (*allowed_domains, *private_hosts)})


@provider(IResolutionReceiver)
class _Collector:
    """Collects one lookup's addresses, then fires `done` with them."""

    def __init__(self) -> None:
        self.addresses: list[IAddress] = []
        self.done: Deferred[list[IAddress]] = Deferred()

    def resolutionBegan(self, resolution: Any) -> None:
        pass

    def addressResolved(self, address: IAddress) -> None:
        self.addresses.append(address)

    def resolutionComplete(self) -> None:
        self.done.callback(self.addresses)


@implementer(IHostnameResolver)
class PrivateNetworkResolver:
    """Resolves names for every download (Scrapy's TWISTED_DNS_RESOLVER).

    A host whose answer includes a private, loopback, link-local or reserved address gets no
    address at all, so nothing connects to it, unless the host is one the user named (an
    allowed domain as written, or site.private_hosts): a subdomain of an allowed domain is
    not exempt. Because the connection uses only the addresses delivered here, a name cannot
    answer a public address to a check and a private one to the download (DNS rebinding). A
    lookup that fails delivers nothing, so nothing is fetched. Answers are cached for the
    scan, as Scrapy's own resolver caches them; failures are not.
    """

    def __init__(self, reactor: Any, private_ok: Iterable[str], cache_size: int = 10000) -> None:
        self.reactor = reactor
        self.system: IHostnameResolver = reactor.nameResolver
        self.private_ok = frozenset(private_ok)
        self.cache: LocalCache[str, tuple[IAddress, ...]] = LocalCache(cache_size)
        self.refused: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> PrivateNetworkResolver:
        settings = crawler.settings
        cache_size = settings.getint("DNSCACHE_SIZE") if settings.getbool("DNSCACHE_ENABLED") else 0
        return cls(reactor, settings.getlist("SITEAUDIT_PRIVATE_OK"), cache_size)

    def install_on_reactor(self) -> None:
        self.reactor.installNameResolver(self)

    def resolveHostName(
        self,
        resolutionReceiver: IResolutionReceiver,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Sequence[type[IAddress]] | None = None,
        transportSemantics: str = "TCP",
    ) -> HostResolution:
        resolution = HostResolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)
        cached = self.cache.get(hostName)
        if cached is not None:
            self.deliver(resolutionReceiver, hostName, cached, portNumber)
            return resolution
        collector = _Collector()
        collector.done.addCallback(self.answered, resolutionReceiver, hostName, portNumber)
        self.system.resolveHostName(collector, hostName, 0, addressTypes, transportSemantics)
        return resolution

    def answered(
        self, addresses: list[IAddress], receiver: IResolutionReceiver, host: str, port: int
    ) -> None:
        if addresses:
            self.cache[host] = tuple(addresses)
        self.deliver(receiver, host, addresses, port)

    def deliver(
        self, receiver: IResolutionReceiver, host: str, addresses: Sequence[IAddress], port: int
    ) -> None:
        if self.permits(host, addresses):
            for address in addresses:
                receiver.addressResolved(attr.evolve(address, port=port))
        elif host.lower() not in self.refused:
            self.refused.add(host.lower())
            log.info("%s resolves to a private network address: not fetched", host)
        receiver.resolutionComplete()

    def permits(self, host: str, addresses: Sequence[IAddress]) -> bool:
        """A named host may be anywhere; any other must resolve to public addresses only."""
        if host.lower() in self.private_ok:
            return True
        return not any(is_private_address(address.host) for address in addresses)

    def was_refused(self, host: str) -> bool:
        return host.lower() in self.refused
