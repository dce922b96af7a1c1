"""Who may read what the collector tells its operators: /metrics (per-site counts) and
the details of /readyz (spool backlogs, the last store error).

A request may, when it carries ``Authorization: Bearer <server.metrics_token>`` or comes
from one of ``server.metrics_networks`` (loopback by default: a scraper on the same
host). Everyone else gets /readyz's status alone, and 403 for /metrics. The address is
the one the server resolved (``collector.client_address``).
"""

from __future__ import annotations

import hmac
from ipaddress import ip_address

from starlette.requests import HTTPConnection

from clearsignal.settings import ServerSettings

__all__ = ["operator_may_read"]


def operator_may_read(connection: HTTPConnection, server: ServerSettings) -> bool:
    if server.metrics_token is not None:
        scheme, _, token = connection.headers.get("authorization", "").partition(" ")
        expected = server.metrics_token.get_secret_value()
        if scheme.lower() == "bearer" and hmac.compare_digest(token.encode(), expected.encode()):
            return True
    try:
        address = ip_address(connection.client.host if connection.client else "")
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in server.metrics_networks)
