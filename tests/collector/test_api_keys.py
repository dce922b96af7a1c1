"""API keys against a real ClickHouse endpoint that goes away: what was read of a key
stands while the store does not answer; a key never read cannot be checked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.errors import StoreError
from aggregator.store.client import open_store
from aggregator.store.migrations import migrate
from collector.api_keys import ApiKeys
from tests.conftest import serve_clickhouse_http
from tests.support.clickhouse_http import ClickHouseHttpServer


@pytest.fixture
def own_clickhouse(tmp_path: Path) -> Iterator[ClickHouseHttpServer]:
    yield from serve_clickhouse_http(tmp_path / "clickhouse-http")


def test_a_key_read_before_an_outage_is_still_accepted_and_an_unread_one_is_not(
    own_clickhouse: ClickHouseHttpServer,
) -> None:
    store = open_store(own_clickhouse.url, "keys")
    migrate(store)
    now = [0.0]
    keys = ApiKeys(store, cache_seconds=2, clock=lambda: now[0])
    known = keys.create("demo", "known", ["order"], "tests")
    unread = keys.create("demo", "unread", ["order"], "tests")
    revoked = keys.create("demo", "revoked", ["order"], "tests")
    assert keys.authenticate(known.token) == known.key
    keys.revoke("demo", revoked.key.key_id)
    assert keys.authenticate(revoked.token) is None
    own_clickhouse.stop()
    try:
        now[0] = 10.0  # past the cache: the store is asked, and does not answer
        assert keys.authenticate(known.token) == known.key
        assert keys.authenticate(revoked.token) is None
        with pytest.raises(StoreError):
            keys.authenticate(unread.token)
        assert keys.authenticate("cs_sk_nonsense") is None  # malformed: never asked
    finally:
        own_clickhouse.start()
        store.close()
