"""Refuse webhook targets on internal networks (SSRF), unless the operator allows them.

Checked when a subscription is created or changed, and again before every delivery (a name
may resolve elsewhere later). Every address the host resolves to must be public.

At delivery the host is resolved once (`pin`) and the connection goes to one of exactly those
checked addresses (integrations/delivery.py): resolving again to connect would let a DNS
answer that changes between the check and the connection (DNS rebinding) reach an internal
address.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from integrations.errors import WebhookUrlRefused

#: host, port -> the addresses it resolves to (tests inject DNS answers here)
Resolver = Callable[[str, int], list[str]]


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to for TCP, in the resolver's order, without duplicates."""
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _is_internal(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            # `::ffff:a.b.c.d` *is* the IPv4 address a.b.c.d on a dual-stack socket.
            return _ip_internal(ip.ipv4_mapped)
        # 6to4 and Teredo addresses carry IPv4 addresses (relays route to them): judged by
        # those too, since `2002:7f00:1::1` is a way to write 127.0.0.1 to a naive check.
        embedded = [a for a in (ip.sixtofour, *(ip.teredo or ())) if a is not None]
        if any(_ip_internal(a) for a in embedded):
            return True
    return _ip_internal(ip)


def _ip_internal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return (
        ip.is_loopback
        or ip.is_link_local
        or ip.is_private
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
        or not ip.is_global
    )


@dataclass(frozen=True)
class Target:
    """Where a delivery connects: the URL's host and port, and the checked addresses."""

    scheme: str
    hostname: str
    port: int
    #: empty only when the operator allows private targets and the name does not resolve
    addresses: tuple[str, ...]


def _parse(url: str) -> tuple[SplitResult, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookUrlRefused("The URL must be http:// or https:// with a host.", field="url")
    if parts.username or parts.password:
        raise WebhookUrlRefused("The URL must not carry credentials.", field="url")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise WebhookUrlRefused("The URL's port is invalid.", field="url") from None
    return parts, port


def _checked(hostname: str, addresses: list[str]) -> None:
    for address in addresses:
        if _is_internal(address):
            raise WebhookUrlRefused(
                f"The host {hostname!r} resolves to an internal address ({address}); "
                "set WORKER_RUNS_WEBHOOK_ALLOW_PRIVATE=1 to allow internal targets.",
                field="url",
            )


def pin(url: str, *, allow_private: bool, resolver: Resolver = resolve) -> Target:
    """Resolve the URL's host once and check every address: the delivery connects only to these."""
    parts, port = _parse(url)
    hostname = str(parts.hostname)
    try:
        addresses = resolver(hostname, port)
    except (OSError, UnicodeError):
        if allow_private:
            # As before pinning: an unresolvable name is a (retryable) connection error then.
            return Target(parts.scheme, hostname, port, ())
        raise WebhookUrlRefused(f"The host {hostname!r} does not resolve.", field="url") from None
    if not allow_private:
        _checked(hostname, addresses)
    return Target(parts.scheme, hostname, port, tuple(addresses))


def check_url(url: str, *, allow_private: bool, resolver: Resolver = resolve) -> None:
    """Raise WebhookUrlRefused unless `url` is http(s) to a host that resolves to public addresses."""
    if allow_private:
        _parse(url)
        return
    pin(url, allow_private=False, resolver=resolver)
