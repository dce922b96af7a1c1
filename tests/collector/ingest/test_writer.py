"""The spool writer against the real store (embedded engine and loopback HTTP endpoint):
what was spooled is stored exactly once, with its types, whatever the spool went through."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator.errors import StoreUnavailable
from aggregator.store.client import Store
from collector.ingest.metrics import CollectorMetrics
from collector.ingest.rows import EVENT_COLUMNS
from collector.ingest.spool import Spool
from collector.ingest.spool_format import HEADER, Cursor, SpoolBatch, encode
from collector.ingest.writer import SpoolWriter
from tests.support.spooled_events import NOW_MS, event_row, spool_rows


def stored_ids(store: Store) -> list[str]:
    return [row[0] for row in store.rows("SELECT event_id FROM events FINAL ORDER BY event_id")]


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    return Spool(tmp_path / "spool")


def test_spooled_rows_are_stored_with_their_types(migrated_store: Store, spool: Spool) -> None:
    spool_rows(spool, [event_row("a1"), event_row("a2", ts_ms=NOW_MS + 1)], [event_row("b1")])
    writer = SpoolWriter(spool, migrated_store, CollectorMetrics())
    assert writer.flush() == 3
    row = migrated_store.dicts("SELECT * FROM events FINAL WHERE event_id = 'a1'")[0]
    assert row["ts"] == datetime.fromtimestamp(NOW_MS / 1000, UTC)
    assert row["ts"].microsecond == 123_000
    assert row["props"] == {"n": "1"}
    assert row["element"] == {"tag": "button", "label": "Buy"}
    assert row["identity"] == "measurement"
    assert row["expires_at"] == datetime.fromtimestamp(NOW_MS // 1000 + 86_400, UTC)
    assert (row["os"], row["country"]) == ("Linux", "DE")
    assert stored_ids(migrated_store) == ["a1", "a2", "b1"]
    assert writer.backlog() == 0
    spool.close()


def test_rows_spooled_before_os_and_country_existed_are_stored_without_them(
    migrated_store: Store, spool: Spool
) -> None:
    """A spool written by the previous version, replayed after the upgrade: its rows end
    at ``expires_at``."""
    older = event_row("old")[: EVENT_COLUMNS.index("os")]
    spool_rows(spool, [older, event_row("new")])
    assert SpoolWriter(spool, migrated_store, CollectorMetrics()).flush() == 2
    assert migrated_store.rows(
        "SELECT event_id, os, country FROM events FINAL ORDER BY event_id"
    ) == [("new", "Linux", "DE"), ("old", "", "")]
    spool.close()


def test_a_range_replayed_after_a_crash_is_stored_once(migrated_store: Store, spool: Spool) -> None:
    spool_rows(spool, [event_row("c1"), event_row("c2")])
    writer = SpoolWriter(spool, migrated_store, CollectorMetrics())
    assert writer.flush() == 2
    # A crash between the insert and the cursor's move: the next writer starts over.
    Cursor(0, 0).save(spool.directory)
    replaying = SpoolWriter(spool, migrated_store, CollectorMetrics())
    assert replaying.flush() == 2
    assert stored_ids(migrated_store) == ["c1", "c2"]
    spool.close()


def test_a_torn_tail_is_skipped_and_later_segments_are_stored(
    tmp_path: Path, migrated_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    first = Spool(tmp_path / "spool")
    spool_rows(first, [event_row("d1")])
    first.close()
    # What a crash mid-write leaves: half a record after the last acknowledged one.
    with first.path(1).open("ab") as segment:
        segment.write(encode([event_row("torn")])[:40])
    second = Spool(tmp_path / "spool")
    spool_rows(second, [event_row("d2")])
    with caplog.at_level(logging.WARNING, logger="clearsignal.spool"):
        assert SpoolWriter(second, migrated_store, CollectorMetrics()).flush() == 2
    assert stored_ids(migrated_store) == ["d1", "d2"]
    assert "torn bytes" in caplog.text
    assert not first.path(1).exists()  # fully stored, then forgotten
    second.close()


def test_a_segment_in_another_format_is_set_aside_and_the_rest_stored(
    tmp_path: Path, migrated_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "spool"
    directory.mkdir()
    foreign = directory / "00000001.spool"
    foreign.write_bytes(b'0badc0de [["demo","k"]]\n')
    spool = Spool(directory)
    spool_rows(spool, [event_row("e1")])
    with caplog.at_level(logging.ERROR, logger="clearsignal.spool"):
        assert SpoolWriter(spool, migrated_store, CollectorMetrics()).flush() == 1
    assert stored_ids(migrated_store) == ["e1"]
    kept = directory / "00000001.spool.unreadable"
    assert kept.read_bytes() == b'0badc0de [["demo","k"]]\n'
    assert "cannot be read" in caplog.text
    spool.close()


def test_batches_stop_at_the_row_limit_and_the_rest_follows(
    migrated_store: Store, spool: Spool
) -> None:
    spool_rows(spool, *[[event_row(f"f{n:03d}")] for n in range(25)])
    writer = SpoolWriter(spool, migrated_store, CollectorMetrics(), batch_rows=10)
    assert [writer.drain_once() for _ in range(4)] == [10, 10, 5, 0]
    assert len(stored_ids(migrated_store)) == 25
    spool.close()


def test_only_fsynced_bytes_are_read(migrated_store: Store, spool: Spool) -> None:
    spool_rows(spool, [event_row("g1")])
    # Bytes past what the spool knows to be durable are not read (nobody was answered).
    with spool.path(spool.current_segment).open("ab") as segment:
        segment.write(encode([event_row("not-acknowledged")]))
    assert SpoolWriter(spool, migrated_store, CollectorMetrics()).flush() == 1
    assert stored_ids(migrated_store) == ["g1"]
    assert spool.durable()[spool.current_segment] > len(HEADER)
    spool.close()


def rows_stored(store: Store) -> list[str]:
    """Every row's event id, without ``FINAL``: a row stored twice shows twice."""
    return [row[0] for row in store.rows("SELECT event_id FROM events ORDER BY event_id")]


@pytest.mark.parametrize("then", ["tried again", "restarted"])
def test_a_range_whose_insert_was_not_acknowledged_is_tried_again_alone(
    migrated_store: Store, spool: Spool, then: str
) -> None:
    """The insert stored the rows but the writer never heard so (a lost answer, or a crash
    before the cursor moved), and more was spooled meanwhile: the same range is tried
    again, with its token, and what came later after it."""
    spool_rows(spool, [event_row("d1"), event_row("d2")])
    writer = SpoolWriter(spool, migrated_store, CollectorMetrics())
    store_batch = writer.store_batch

    def answer_lost(batch: SpoolBatch) -> bool:
        store_batch(batch)
        raise StoreUnavailable("the store's answer was lost")

    writer.store_batch = answer_lost  # type: ignore[method-assign]
    with pytest.raises(StoreUnavailable):
        writer.drain_once()
    spool_rows(spool, [event_row("d3")])
    if then == "restarted":
        writer = SpoolWriter(spool, migrated_store, CollectorMetrics())
    else:
        writer.store_batch = store_batch  # type: ignore[method-assign]
    assert writer.flush() == 3
    assert rows_stored(migrated_store) == ["d1", "d2", "d3"]
    spool.close()
