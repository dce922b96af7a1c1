"""A client's country, from its network address, at ingest: the address is never stored.

By default the country data that ships with geoip2fast (MaxMind's GeoLite2 Country,
IPv4 and IPv6) is read, loaded on the first lookup into compact arrays
(``collector.ingest.country_ranges``: about 14 MB private, where geoip2fast's own lists
hold 48). ``[ingest] country_database`` names a MaxMind-format file instead
(GeoLite2-Country, DB-IP's country lite, or a commercial one kept up to date by the
operator): it is memory-mapped, so it costs file-backed pages, not private memory. The
answer is an ISO 3166-1 alpha-2 code, or "" for a private, reserved or unknown address.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from collector.ingest.country_ranges import CountryRanges, bundled_data_file

__all__ = ["CountryLookup"]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _code(value: object) -> str:
    text = str(value or "")
    return text if len(text) == 2 and text.isascii() and text.isalpha() and text.isupper() else ""


class CountryLookup:
    def __init__(self, database: Path | None = None) -> None:
        self._database = database
        self._find: Callable[[Address], str] | None = None
        self._lock = threading.Lock()

    def country(self, address: str) -> str:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return ""
        if not ip.is_global:
            return ""
        find = self._find or self._load()
        return find(ip)

    def _load(self) -> Callable[[Address], str]:
        with self._lock:
            if self._find is None:
                self._find = self._open_file() if self._database else self._open_bundled()
            return self._find

    def _open_file(self) -> Callable[[Address], str]:
        import maxminddb

        assert self._database is not None
        reader = maxminddb.open_database(str(self._database), maxminddb.MODE_MMAP)

        def find(address: Address) -> str:
            record: Any = reader.get(address) or {}
            place = record.get("country") or record.get("registered_country") or {}
            return _code(place.get("iso_code"))

        return find

    @staticmethod
    def _open_bundled() -> Callable[[Address], str]:
        ranges = CountryRanges(bundled_data_file())
        return lambda address: _code(ranges.country(int(address)))
