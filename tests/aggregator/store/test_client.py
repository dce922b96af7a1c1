from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from clickhouse_connect.driver.exceptions import DatabaseError

from aggregator.errors import StoreError, StoreUnavailable
from aggregator.store.client import Store, _wrapped, open_store, parse_dsn


def test_parses_an_http_dsn_with_credentials_and_database() -> None:
    target = parse_dsn("https://analyst:s%3Dcret@ch.internal:9443/analytics")
    assert (target.host, target.port, target.secure) == ("ch.internal", 9443, True)
    assert (target.username, target.password, target.database) == ("analyst", "s=cret", "analytics")
    assert "s=cret" not in target.description


def test_parses_an_embedded_dsn() -> None:
    assert parse_dsn("chdb:///var/lib/clearsignal/clickhouse").embedded_path == (
        "/var/lib/clearsignal/clickhouse"
    )


@pytest.mark.parametrize("dsn", ["postgres://x", "chdb://", "http:///db"])
def test_refuses_a_dsn_it_cannot_use(dsn: str) -> None:
    with pytest.raises(StoreError):
        parse_dsn(dsn)


def test_round_trips_rows_with_maps_and_millisecond_times(store: Store) -> None:
    store.command(
        "CREATE TABLE visits (site LowCardinality(String), ts DateTime64(3, 'UTC'), "
        "props Map(String, String)) ENGINE = MergeTree ORDER BY (site, ts)"
    )
    when = datetime(2026, 3, 4, 10, 12, 0, 123000, tzinfo=UTC)
    store.insert("visits", [["shop", when, {"plan": "pro"}]], ["site", "ts", "props"])
    rows = store.rows(
        "SELECT site, ts, props FROM visits WHERE site = {site:String}", {"site": "shop"}
    )
    assert rows == [("shop", when, {"plan": "pro"})]
    assert store.dicts("SELECT count() AS n FROM visits") == [{"n": 1}]


def test_inserts_and_reads_arrow_tables(store: Store) -> None:
    import pyarrow as pa

    store.command("CREATE TABLE numbers_seen (n UInt64) ENGINE = MergeTree ORDER BY n")
    store.insert_arrow("numbers_seen", pa.table({"n": pa.array(range(1000), pa.uint64())}))
    assert (
        store.arrow("SELECT sum(n) AS total FROM numbers_seen").column("total")[0].as_py() == 499500
    )


def test_each_store_sees_only_its_own_database(store: Store, dsn: str) -> None:
    store.command("CREATE TABLE private_rows (n UInt8) ENGINE = MergeTree ORDER BY n")
    other = open_store(dsn, f"{store.database}_other")
    try:
        assert other.scalar("SELECT currentDatabase()") == f"{store.database}_other"
        assert (
            other.scalar("SELECT count() FROM system.tables WHERE database = currentDatabase()")
            == 0
        )
    finally:
        other.command(f"DROP DATABASE `{store.database}_other`")
        other.close()


def test_driver_errors_keep_the_server_error_code(store: Store) -> None:
    with pytest.raises(StoreError) as caught:
        store.rows("SELECT * FROM no_such_table")
    assert caught.value.code == 60
    with pytest.raises(StoreError) as caught:
        store.command("SELEC 1")
    assert caught.value.code == 62


def test_an_unreachable_server_is_reported_as_unavailable() -> None:
    # Port 9 (discard) on loopback: nothing listens there.
    with pytest.raises(StoreUnavailable, match="did not answer") as caught:
        open_store("http://analyst:hunter2-of-the-store@127.0.0.1:9/db")
    # The layers below the aggregator catch an outage by the built-in name.
    assert isinstance(caught.value, ConnectionError)
    assert "hunter2" not in str(caught.value)
    assert "analyst@127.0.0.1:9" in str(caught.value)


def test_no_store_error_repeats_the_dsns_password() -> None:
    secret = "pw-in-a-message-0451"
    with pytest.raises(StoreError) as caught, _wrapped("asking", secret):
        raise DatabaseError(f"Code: 516. the server says {secret} is wrong")
    assert secret not in str(caught.value)
    assert "***" in str(caught.value)
    assert caught.value.code == 516


def test_ping_answers_true_on_a_live_store(store: Store) -> None:
    assert store.ping() is True


def test_the_embedded_engine_gives_back_its_memory_and_a_server_is_left_alone(
    store: Store,
) -> None:
    store.release_memory()  # SYSTEM JEMALLOC PURGE embedded; nothing sent to a server
    assert store.has_setting("max_threads")
    assert not store.has_setting("no_such_setting_anywhere")
    assert int(store.setting("max_memory_usage") or "x") >= 0
    assert store.ping()


def test_a_lanes_statement_runs_beside_the_stores_not_behind_it(store: Store) -> None:
    """On main one connection carried every statement of the process, and the embedded
    engine runs one at a time per connection: a job's long statement held every
    dashboard answer behind it. The runtime now gives the jobs a lane."""
    lane = store.lane()
    finished: list[str] = []

    def slow() -> None:
        lane.scalar("SELECT sum(sleepEachRow(0.5)) FROM numbers(4) SETTINGS max_block_size = 4")
        finished.append("slow")

    running = threading.Thread(target=slow)
    running.start()
    time.sleep(0.3)  # the 2-second statement has begun
    assert store.scalar("SELECT 1") == 1
    finished.append("short")
    running.join()
    assert finished == ["short", "slow"]
    assert lane.scalar("SELECT currentDatabase()") == store.database
