"""Refuse webhook targets on internal networks (SSRF), unless the operator allows them.

Checked when a subscription is created or changed, and again before every delivery (a name
may resolve elsewhere later). Every address the host resolves to must be public.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from integrations.errors import WebhookUrlRefused


def _is_internal(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_link_local
        or ip.is_private
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
        or not ip.is_global
    )


def check_url(url: str, *, allow_private: bool) -> None:
    """Raise WebhookUrlRefused unless `url` is http(s) to a host that resolves to public addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookUrlRefused("The URL must be http:// or https:// with a host.", field="url")
    if parts.username or parts.password:
        raise WebhookUrlRefused("The URL must not carry credentials.", field="url")
    if allow_private:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise WebhookUrlRefused("The URL's port is invalid.", field="url") from None
    try:
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise WebhookUrlRefused(f"The host {parts.hostname!r} does not resolve.", field="url") from None
    for info in infos:
        if _is_internal(str(info[4][0])):
            raise WebhookUrlRefused(
                f"The host {parts.hostname!r} resolves to an internal address ({info[4][0]}); "
                "set WORKER_RUNS_WEBHOOK_ALLOW_PRIVATE=1 to allow internal targets.",
                field="url",
            )
