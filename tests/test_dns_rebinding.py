"""DNS rebinding: a name that answers a public address, then a private one, never gets the
crawler to connect to the private one (crawler/resolver.py)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from twisted.internet.address import IPv4Address

from crawler.resolver import PrivateNetworkResolver

PUBLIC, METADATA = "93.184.216.34", "169.254.169.254"


class RebindingDNS:
    """A name server that answers each lookup of a name with the next address in turn."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.lookups = 0

    def resolveHostName(self, receiver: Any, host: str, port: int = 0, *args: Any) -> None:
        self.lookups += 1
        receiver.resolutionBegan(None)
        receiver.addressResolved(IPv4Address("TCP", self.answers.pop(0), 0))
        receiver.resolutionComplete()


class Receiver:
    """What a connection gets: the addresses it may connect to."""

    def __init__(self) -> None:
        self.addresses: list[str] = []
        self.complete = False

    def resolutionBegan(self, resolution: Any) -> None:
        pass

    def addressResolved(self, address: Any) -> None:
        self.addresses.append(address.host)

    def resolutionComplete(self) -> None:
        self.complete = True


def connect_addresses(resolver: PrivateNetworkResolver, host: str) -> list[str]:
    receiver = Receiver()
    resolver.resolveHostName(receiver, host, 443)
    assert receiver.complete
    return receiver.addresses


def resolver_over(dns: RebindingDNS) -> PrivateNetworkResolver:
    return PrivateNetworkResolver(SimpleNamespace(nameResolver=dns), private_ok=["council.test"])


def test_a_cached_public_answer_is_what_the_connection_uses() -> None:
    dns = RebindingDNS(PUBLIC, METADATA)
    resolver = resolver_over(dns)
    assert connect_addresses(resolver, "rebind.council.test") == [PUBLIC]
    # The second connection uses the answer that was checked, not a fresh one.
    assert connect_addresses(resolver, "rebind.council.test") == [PUBLIC]
    assert dns.lookups == 1


def test_a_fresh_private_answer_is_refused_at_connect_time() -> None:
    dns = RebindingDNS(PUBLIC, METADATA)
    resolver = resolver_over(dns)
    assert connect_addresses(resolver, "rebind.council.test") == [PUBLIC]
    resolver.cache.clear()  # the answer expired: the name is looked up again
    assert connect_addresses(resolver, "rebind.council.test") == []
    assert resolver.was_refused("rebind.council.test")


def test_a_subdomain_of_an_allowed_domain_is_not_exempt() -> None:
    # council.test may be private (the user named it); a subdomain it does not control may not.
    assert connect_addresses(resolver_over(RebindingDNS(METADATA)), "council.test") == [METADATA]
    assert connect_addresses(resolver_over(RebindingDNS(METADATA)), "x.council.test") == []
