"""Where simulated visitors come from: public /16 networks, each wholly in one country.

A visitor's address is ``<prefix>.<c>.<d>``, the prefix one of 256, so that as many
visitors share an address as when every visitor had a random ``10.a.c.d``. The prefixes
were chosen as /16 networks whose addresses (three in each /24) the GeoLite2 Country data shipped
with geoip2fast places in one country (checked in tests/simulator/test_addresses.py), in
the shares of a European shop's audience: Germany a quarter, the United States a fifth.
"""

from __future__ import annotations

__all__ = ["PREFIXES", "address"]

_BY_COUNTRY = {
    "DE": (
        "2.162 2.165 2.168 2.171 2.174 2.201 2.204 2.207 2.210 2.213 2.240 2.243 2.246 "
        "3.66 3.69 3.72 3.75 3.78 3.120 3.123 3.126 5.6 5.9 5.147 18.153 18.156 18.159 "
        "18.192 18.195 18.198 31.18 31.150 31.213 31.225 31.228 31.231 31.234 31.237 "
        "31.240 31.243 31.246 31.249 31.252 31.255 34.159 35.156 35.159 37.24 37.51 "
        "37.81 37.84 37.87 37.90 37.93 37.138 37.201 46.78 46.81 46.84 46.87 46.90 "
        "46.93 46.114 47.66"
    ),
    "US": (
        "3.3 3.12 3.15 3.18 3.21 3.30 3.42 3.45 3.48 3.51 3.54 3.57 3.60 3.63 3.81 3.84 "
        "3.87 3.90 3.93 3.102 3.117 3.129 3.132 3.135 3.138 3.141 3.144 3.147 3.150 "
        "3.153 3.156 3.159 3.162 3.165 3.168 3.171 3.174 3.177 3.180 3.183 3.186 3.189 "
        "3.192 3.195 3.198 3.201 3.204 3.207 3.210 3.213 3.216 3.219 3.222 3.225 3.228 "
        "3.231"
    ),
    "GB": (
        "2.24 2.27 2.30 2.96 2.99 2.102 2.120 2.123 2.126 2.216 2.219 2.222 3.9 4.159 "
        "4.234 5.66 5.69 5.81 9.141 9.234 13.42 13.117 13.123 18.132 18.135 18.168 "
        "18.171 20.0 20.90 20.108 20.117 20.162"
    ),
    "FR": (
        "2.3 2.6 2.9 2.12 2.15 5.48 5.51 13.36 13.39 15.237 31.33 31.36 31.39 35.180 "
        "37.66 37.69 37.165 37.168 37.171 37.174 46.192 51.159 62.39 62.147 77.84 "
        "77.129 77.132 77.135"
    ),
    "NL": (
        "4.180 13.81 20.126 24.132 31.21 31.138 31.201 34.90 35.204 46.129 46.144 "
        "51.144 52.174 57.153 62.45 62.126 62.186 62.195 62.207 77.60"
    ),
    "ES": (
        "2.138 2.141 2.153 5.225 37.12 37.15 37.132 37.135 37.222 40.213 46.6 46.24 "
        "46.27 46.222 47.60 47.63"
    ),
    "IT": (
        "2.33 2.36 2.39 2.42 2.45 2.114 2.117 2.156 2.159 2.192 2.195 2.198 2.225 2.228 2.231 2.234"
    ),
    "PL": ("31.0 31.60 31.63 31.174 31.183 37.30 37.108 37.225 37.249 46.171 46.204 77.252"),
    "SE": ("2.0 2.66 2.69 2.249 2.252 2.255 4.165 4.225 5.240 5.243 13.48 13.51"),
}
PREFIXES: tuple[tuple[str, str], ...] = tuple(
    (country, prefix) for country, text in _BY_COUNTRY.items() for prefix in text.split()
)
assert len(PREFIXES) == 256


def address(prefix: int, third: int, fourth: int) -> str:
    """The address of visitor ``prefix.third.fourth`` (each 0..255)."""
    return f"{PREFIXES[prefix][1]}.{third}.{fourth}"
