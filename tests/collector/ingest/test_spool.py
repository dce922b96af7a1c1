"""The durable spool on a real directory: framing, group commit, rotation, torn tails."""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from collector.ingest.rows import clickhouse_time, rows_json
from collector.ingest.spool import Spool
from collector.ingest.spool_format import (
    HEADER,
    Cursor,
    SpoolFormatError,
    check_header,
    encode,
    read_records,
)
from tests.support.event_loop import run_coroutine


def rows(count: int, tag: str = "r") -> list[list[Any]]:
    return [[f"{tag}{n}", {"k": "v"}, clickhouse_time(1_733_400_000_000 + n)] for n in range(count)]


@pytest.fixture
def spool(tmp_path: Path) -> Iterator[Spool]:
    opened = Spool(tmp_path / "spool")
    yield opened
    opened.close()


def append_all(spool: Spool, batches: list[list[list[Any]]]) -> None:
    async def run() -> None:
        await asyncio.gather(*(spool.append(batch) for batch in batches))

    run_coroutine(run())


def segment_bytes(spool: Spool, segment: int = 1) -> bytes:
    return spool.path(segment).read_bytes()


def test_a_record_holds_the_rows_as_json_rows_with_their_count() -> None:
    batch = rows(3)
    [record] = list(read_records(encode(batch)))
    assert record.count == 3
    assert record.rows == rows_json(batch)
    assert orjson.loads(b"[" + record.rows + b"]") == batch


def test_appended_records_are_on_disk_behind_the_header_when_append_resolves(
    spool: Spool,
) -> None:
    batches = [rows(2, "a"), rows(1, "b"), rows(5, "c")]
    append_all(spool, batches)
    data = segment_bytes(spool)
    assert data.startswith(HEADER)
    found = list(read_records(data[len(HEADER) :]))
    assert [r.count for r in found] == [2, 1, 5]
    assert b",".join(r.rows for r in found) == rows_json([row for b in batches for row in b])
    assert spool.durable() == {1: len(data)}


def test_many_concurrent_appends_share_fsync_rounds_and_all_land(spool: Spool) -> None:
    batches = [rows(1, f"x{n}_") for n in range(500)]
    append_all(spool, batches)
    found = list(read_records(segment_bytes(spool)[len(HEADER) :]))
    assert sorted(r.rows for r in found) == sorted(rows_json(b) for b in batches)


def test_reading_stops_at_a_torn_or_damaged_line() -> None:
    good, second = encode(rows(2)), encode(rows(1, "z"))
    torn = good + second[: len(second) // 2]
    assert [r.count for r in read_records(torn)] == [2]
    flipped = bytearray(good + second)
    flipped[len(good) + 20] ^= 0x01  # one bit inside the second record's JSON
    assert [r.count for r in read_records(bytes(flipped))] == [2]
    zeros = good + b"\0" * 64 + b"\n"  # a block the file system allocated, never written
    assert [r.count for r in read_records(zeros)] == [2]


def test_reading_refuses_a_line_whose_count_is_not_covered_by_its_checksum() -> None:
    line = encode(rows(2))
    forged = line.replace(b" 2 [", b" 9 [", 1)
    assert list(read_records(forged)) == []
    body = forged[9:-1]
    rechecked = b"%08x %s\n" % (zlib.crc32(body), body)
    assert [r.count for r in read_records(rechecked)] == [9]


def test_segments_rotate_when_full_and_each_starts_with_the_header(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool", segment_bytes=400)
    try:
        for n in range(6):
            append_all(spool, [rows(3, f"s{n}_")])
        durable, current = spool.snapshot()
        assert current > 1
        counts = 0
        for segment in sorted(durable):
            data = segment_bytes(spool, segment)
            assert data.startswith(HEADER)
            assert durable[segment] == len(data)
            counts += sum(r.count for r in read_records(data[len(HEADER) :]))
        assert counts == 18
    finally:
        spool.close()


def test_backlog_counts_record_bytes_after_the_cursor_not_headers(spool: Spool) -> None:
    assert spool.backlog(Cursor(0, 0)) == 0
    append_all(spool, [rows(2)])
    size = spool.durable()[1]
    assert spool.backlog(Cursor(0, 0)) == size - len(HEADER)
    assert spool.backlog(Cursor(1, size)) == 0


def test_a_new_spool_starts_a_new_segment_and_keeps_the_old_ones(tmp_path: Path) -> None:
    first = Spool(tmp_path / "spool")
    append_all(first, [rows(2)])
    first.close()
    second = Spool(tmp_path / "spool")
    try:
        durable, current = second.snapshot()
        assert current == 2
        assert durable[1] == len(HEADER) + len(encode(rows(2)))
    finally:
        second.close()


def test_append_after_close_fails_with_an_os_error(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    spool.close()

    async def run() -> None:
        await spool.append(rows(1))

    with pytest.raises(OSError, match="closed"):
        run_coroutine(run())


def test_the_header_check_accepts_a_header_torn_by_a_crash_and_refuses_other_formats() -> None:
    check_header(HEADER)
    check_header(HEADER + b"anything after it")
    check_header(HEADER[:5])
    check_header(b"")
    with pytest.raises(SpoolFormatError):
        check_header(b'4f2a1c0b [["demo"')


def test_reading_gives_whole_records_after_the_cursor_up_to_the_row_limit(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool", segment_bytes=400)
    try:
        for n in range(6):
            append_all(spool, [rows(3, f"s{n}_")])
        cursor, seen = Cursor(0, 0), []
        while (batch := spool.read(cursor, max_rows=4, max_bytes=1 << 20)).count:
            # At least one whole record, and no more once the limit is reached.
            assert 3 <= batch.count <= 6
            assert batch.start == cursor
            assert batch.token == (
                f"spool:{cursor.segment}:{cursor.offset}:{batch.end.segment}:{batch.end.offset}"
            )
            seen += [row[0] for row in orjson.loads(b"[" + batch.rows + b"]")]
            cursor = batch.end
        assert seen == [f"s{n}_{i}" for n in range(6) for i in range(3)]
        assert spool.read(cursor, 4, 1 << 20).count == 0
    finally:
        spool.close()


def test_committing_a_cursor_saves_it_and_deletes_the_segments_wholly_before_it(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "spool"
    spool = Spool(directory, segment_bytes=400)
    try:
        for n in range(6):
            append_all(spool, [rows(3, f"s{n}_")])
        durable, current = spool.snapshot()
        batch = spool.read(Cursor(0, 0), max_rows=1_000, max_bytes=1 << 20)
        assert batch.count == 18
        spool.commit(batch.end)
        assert Cursor.load(directory) == batch.end
        assert sorted(int(p.stem) for p in directory.glob("*.spool")) == [
            s for s in sorted(durable) if s >= batch.end.segment
        ]
        assert batch.end.segment == current
    finally:
        spool.close()


def test_on_a_quiet_site_a_segment_is_sealed_after_its_time_and_deleted_once_stored(
    tmp_path: Path,
) -> None:
    """On main a segment was sealed only when full (64 MiB): on a quiet site the rows of
    erased visitors, and rows past retention, stayed on disk for weeks after they were
    stored. A segment that has held records for ``segment_seconds`` is sealed too."""
    directory = tmp_path / "spool"
    spool = Spool(directory, segment_seconds=0.4)
    try:
        append_all(spool, [rows(2, "quiet")])
        stored = spool.read(Cursor(0, 0), max_rows=1_000, max_bytes=1 << 20)
        assert stored.count == 2
        spool.commit(stored.end)  # the writer stored them
        first = stored.end.segment
        assert spool.path(first).exists()  # still the segment being written
        deadline = time.monotonic() + 10
        while spool.current_segment == first and time.monotonic() < deadline:
            time.sleep(0.05)
        assert spool.current_segment == first + 1, "the segment was never sealed"
        after = spool.read(stored.end, max_rows=1_000, max_bytes=1 << 20)
        assert after.count == 0
        spool.commit(after.end)  # the writer's next round, with nothing new
        assert not spool.path(first).exists()
        assert b"quiet" not in b"".join(p.read_bytes() for p in directory.glob("*.spool"))
    finally:
        spool.close()


def test_a_segment_without_records_is_never_sealed_for_its_age(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool", segment_seconds=0.1)
    try:
        first = spool.current_segment
        time.sleep(0.5)
        assert spool.current_segment == first
        assert len(list((tmp_path / "spool").glob("*.spool"))) == 1
    finally:
        spool.close()
