"""An event's country, read from its client's address at ingest (the address is not stored):
from the GeoLite2 data geoip2fast ships, or from a MaxMind-format file the operator names."""

from __future__ import annotations

import gzip
import ipaddress
import pickle
import random
from pathlib import Path

import pytest
from geoip2fast import GeoIP2Fast
from mmdb_writer import MMDBWriter
from netaddr import IPSet
from starlette.testclient import TestClient

from clearsignal.settings import Settings
from collector.app import create_app
from collector.ingest.country import CountryLookup
from collector.ingest.country_ranges import CountryRanges, bundled_data_file
from tests.collector.ingest.test_endpoint import batch, event, stored
from tests.support.site_requests import HEADERS

GERMAN, AMERICAN_V6 = "5.9.12.34", "2001:4860:4860::8888"


def test_the_bundled_data_places_public_addresses_in_their_country() -> None:
    lookup = CountryLookup()
    assert lookup.country(GERMAN) == "DE"
    assert lookup.country(AMERICAN_V6) == "US"


def test_the_compact_ranges_answer_as_geoip2fast_itself_for_every_kind_of_address() -> None:
    """Random public addresses of both families, and the first address of networks and
    the one before it (where a network ends, or a gap begins), against geoip2fast's own
    lookup over the same file."""
    reference, ours = GeoIP2Fast(geoip2fast_data_file="geoip2fast-ipv6.dat.gz"), CountryLookup()
    with gzip.open(bundled_data_file(), "rb") as opened:
        firsts = [first for chunk in pickle.load(opened)[3][2] for first in chunk]
    rng = random.Random(18)
    edges = [first + step for first in rng.sample(firsts, 4000) for step in (-1, 0)]
    addresses = [
        *(ipaddress.IPv4Address(rng.getrandbits(32)) for _ in range(30_000)),
        *(ipaddress.IPv6Address((1 << 125) | rng.getrandbits(125)) for _ in range(10_000)),
        *(ipaddress.ip_address(edge) for edge in edges if 0 <= edge < 1 << 128),
    ]
    public = [str(a) for a in addresses if a.is_global]
    answers = {a: ours.country(a) for a in public}
    expected = {
        a: code if (code := reference.lookup(a).country_code).isalpha() else "" for a in public
    }
    assert answers == expected
    assert len(set(answers.values())) > 150  # the whole world, not a few countries


def test_a_file_of_another_layout_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.dat.gz"
    with gzip.open(other, "wb") as written:
        pickle.dump((120, {"country": False, "city": True, "asn": False}, 0, ()), written)
    with pytest.raises(ValueError, match="not geoip2fast's country-only data"):
        CountryRanges(other)


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.1.2.3", "192.168.0.9", "203.0.113.7", "::1", "fe80::1", "", "x"]
)
def test_private_reserved_and_malformed_addresses_have_no_country(address: str) -> None:
    assert CountryLookup().country(address) == ""


@pytest.fixture
def country_file(tmp_path: Path) -> Path:
    """A real MaxMind DB: 5.9.0.0/16 placed in France (the bundled data says Germany, so an
    answer of FR shows the file was read), one network with only a registered country, one
    with a code that is not a country code."""
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-Country")
    writer.insert_network(IPSet(["5.9.0.0/16"]), {"country": {"iso_code": "FR"}})
    writer.insert_network(IPSet(["81.2.0.0/16"]), {"registered_country": {"iso_code": "GB"}})
    writer.insert_network(IPSet(["37.24.0.0/16"]), {"country": {"iso_code": "<b>"}})
    path = tmp_path / "countries.mmdb"
    writer.to_db_file(str(path))
    return path


def test_a_maxmind_file_named_by_path_is_read_instead(country_file: Path) -> None:
    lookup = CountryLookup(country_file)
    assert lookup.country(GERMAN) == "FR"
    assert lookup.country("81.2.69.160") == "GB"
    assert lookup.country("37.24.1.1") == ""  # not a country code: not stored
    assert lookup.country("8.8.8.8") == ""  # not in the file


def _stored_place(settings: Settings, address: str) -> tuple[str, str, str, str]:
    with TestClient(create_app(settings), client=(address, 50000)) as client:
        response = client.post("/api/events", json=batch(event()), headers=HEADERS)
        assert response.status_code == 202, response.text
        found = stored(client, "SELECT tuple(country, os, browser, device) FROM events FINAL")
    return tuple(found)  # type: ignore[return-value]


def test_events_keep_the_country_and_os_and_never_the_address(settings: Settings) -> None:
    assert _stored_place(settings, GERMAN) == ("DE", "Linux", "Chrome", "desktop")


def test_the_operators_file_decides_the_stored_country(
    settings: Settings, country_file: Path
) -> None:
    configured = settings.model_copy(
        update={"ingest": settings.ingest.model_copy(update={"country_database": country_file})}
    )
    assert _stored_place(configured, GERMAN)[0] == "FR"


def test_a_missing_country_file_is_refused_when_settings_load(settings: Settings) -> None:
    with pytest.raises(ValueError, match="country_database"):
        Settings.model_validate(
            settings.model_dump() | {"ingest": {"country_database": "/nonexistent.mmdb"}}
        )
