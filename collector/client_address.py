"""Who is asking, as a rate limit sees it: the client's network address, never kept as such.

``address_key`` turns an address into a bucket name: IPv4 whole, IPv6 by its /64 prefix
(what one household or phone is given; a client picks any address inside it at will),
an IPv4-mapped IPv6 address as its IPv4 address. The name is a keyed BLAKE2b hash under a
key made at random when the process starts and never written anywhere, so the limiters'
memory holds no address, and the names mean nothing to another process or after a
restart. The address is the TCP peer's, or, when the peer is a trusted proxy
(``server.forwarded_allow_ips``), the one it names in ``X-Forwarded-For``: the server
resolves that before any request reaches the app.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from collections.abc import Mapping
from typing import Any

__all__ = ["address_key", "peer_address"]

_KEY = secrets.token_bytes(32)


def address_key(address: str) -> str:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        prefix = address.encode("utf-8", "replace")[:64]  # not an IP (a test client, a socket)
    else:
        if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
            parsed = parsed.ipv4_mapped
        prefix = parsed.packed[:8] if parsed.version == 6 else parsed.packed
    return hashlib.blake2b(prefix, key=_KEY, digest_size=12).hexdigest()


def peer_address(scope: Mapping[str, Any]) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""
