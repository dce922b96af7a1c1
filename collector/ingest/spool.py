"""The durable spool: accepted events are on disk before the browser hears 202.

Records are appended to numbered segment files (``00000001.spool`` ...) in the format of
``collector.ingest.spool_format``: a header line, then one checksummed line per request's
accepted rows. The rows are already in the stored shape (``collector.ingest.rows``), so
the writer passes them to ClickHouse as they are.
``append`` gives a future that is done once the record is fsynced. Many appends share
one write and one fsync (group commit): a single thread writes whatever was queued since
its last round, fsyncs it and then wakes every waiter at once.

``read`` gives the writer (``collector.ingest.writer``) only fsynced records after its
cursor, and ``commit`` records how far it has written to ClickHouse in ``cursor``
(replaced atomically) and deletes the segments wholly before it. After a crash the
segments are read again from the cursor; a torn last line fails its CRC and is skipped
(it was never acknowledged).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from collector.ingest.spool_format import (
    HEADER,
    SUFFIX,
    Cursor,
    SpoolBatch,
    SpoolFormatError,
    check_header,
    encode,
    fsync_directory,
    read_records,
)

__all__ = ["SEGMENT_SECONDS", "Spool"]

log = logging.getLogger("clearsignal.spool")

# A segment that has held records this long is sealed, so the writer can delete it.
SEGMENT_SECONDS = 300.0


class Spool:
    """Append-only segments with group commit.

    ``append`` (on the event loop) only encodes the record and queues it; the
    ``spool-fsync`` thread writes everything queued since its last round in one
    ``write``, fdatasyncs once, and then resolves every waiter of that round. The event
    loop never blocks on the disk, and any number of requests share one fsync. The
    same thread owns the segment files: it rotates to a new segment when the current
    one is full, after the old one's last fsync, and when it has held records for
    ``segment_seconds``, so that on a quiet site too the writer's commit deletes what it
    stored within minutes (rows of erased visitors and rows past retention included).
    """

    def __init__(
        self,
        directory: Path,
        segment_bytes: int = 64 * 1024 * 1024,
        segment_seconds: float = SEGMENT_SECONDS,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.segment_bytes = segment_bytes
        self.segment_seconds = segment_seconds
        self._lock = threading.Lock()
        # Segments from an earlier run are complete: new records go to a new segment.
        self._durable: dict[int, int] = {n: p.stat().st_size for n, p in self._segment_files()}
        self._segment = max(self._durable, default=0) + 1
        self._fd = self._open(self._segment)
        self._durable[self._segment] = self._written = len(HEADER)
        self._first_record_at: float | None = None  # monotonic time, in the current segment
        self._pending: list[bytes] = []
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._wake = threading.Event()
        self._closing = False
        self._closed = False
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._sync_loop, name="spool-fsync", daemon=True)
        self._thread.start()

    def _segment_files(self) -> list[tuple[int, Path]]:
        return sorted(
            (int(p.stem), p) for p in self.directory.glob(f"*{SUFFIX}") if p.stem.isdigit()
        )

    def path(self, segment: int) -> Path:
        return self.directory / f"{segment:08d}{SUFFIX}"

    def _open(self, segment: int) -> int:
        """A new segment, its header on disk."""
        fd = os.open(self.path(segment), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.write(fd, HEADER)
        os.fdatasync(fd)
        fsync_directory(self.directory)
        return fd

    def append(self, rows: Sequence[Sequence[Any]]) -> asyncio.Future[None]:
        """Queue one request's rows; the future is done once they are on disk (or holds the
        OSError that kept them off it).

        The rows are encoded at once, so the caller need not keep them while it waits: an
        ingest request holds only bytes, which the garbage collector never visits, while its
        fsync is under way.
        """
        data = encode(rows)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._lock:
            error = self._error or (OSError("the spool is closed") if self._closing else None)
            # The thread takes everything pending at once: it needs waking only for the
            # first record of its next round.
            first = not self._pending
            if error is None:
                self._pending.append(data)
                self._waiters.append((future.get_loop(), future))
        if error is not None:
            future.set_exception(error)
        elif first:
            self._wake.set()
        return future

    def _sync_loop(self) -> None:
        while True:
            self._wake.wait(timeout=self.segment_seconds / 4)
            self._wake.clear()
            with self._lock:
                pending, self._pending = self._pending, []
                waiters, self._waiters = self._waiters, []
                closing = self._closing
            error: OSError | None = None
            try:
                if pending:
                    self._write(b"".join(pending))
                    os.fdatasync(self._fd)
                elif self._is_old():
                    self._rotate()
            except OSError as exc:
                error = exc
            with self._lock:
                if error is None:
                    self._durable[self._segment] = self._written
                elif self._error is None:
                    self._error = error
            by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
            for loop, future in waiters:
                by_loop.setdefault(loop, []).append(future)
            for loop, futures in by_loop.items():
                loop.call_soon_threadsafe(_settle, futures, error)
            if closing:
                return

    def _is_old(self) -> bool:
        started = self._first_record_at
        return started is not None and time.monotonic() - started >= self.segment_seconds

    def _rotate(self) -> None:
        """Seal the current segment (after its last fsync) and start the next."""
        os.fsync(self._fd)
        os.close(self._fd)
        sealed, size = self._segment, self._written
        fd = self._open(sealed + 1)
        with self._lock:
            # One step for readers: the sealed segment's final size and the new current.
            self._durable[sealed] = size
            self._durable[sealed + 1] = len(HEADER)
            self._segment, self._fd, self._written = sealed + 1, fd, len(HEADER)
        self._first_record_at = None

    def _write(self, data: bytes) -> None:
        """Append data to the current segment, first sealing it if data would overfill it
        or it has held records for ``segment_seconds``."""
        if self._written > len(HEADER) and (
            self._written + len(data) > self.segment_bytes or self._is_old()
        ):
            self._rotate()
        if self._first_record_at is None:
            self._first_record_at = time.monotonic()
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
            self._written += written

    def durable(self) -> dict[int, int]:
        """Segment number -> bytes known to be on disk."""
        with self._lock:
            return dict(self._durable)

    def snapshot(self) -> tuple[dict[int, int], int]:
        """``durable()`` and the segment being written, taken together.

        Every segment below the current one is sealed, with its final size.
        """
        with self._lock:
            return dict(self._durable), self._segment

    @property
    def current_segment(self) -> int:
        return self._segment

    def backlog(self, cursor: Cursor) -> int:
        """Durable bytes of records after the cursor."""
        total = 0
        for segment, size in self.durable().items():
            if segment > cursor.segment:
                total += max(0, size - len(HEADER))
            elif segment == cursor.segment:
                total += max(0, size - max(cursor.offset, len(HEADER)))
        return total

    def read(
        self, cursor: Cursor, max_rows: int, max_bytes: int, until: Cursor | None = None
    ) -> SpoolBatch:
        """The durable records after ``cursor``: at least one whole record when there is
        one, then more up to ``max_rows`` rows and ``max_bytes`` bytes read per segment,
        and none that ends after ``until``.

        Only fsynced bytes are read. A torn last line of a sealed segment (a crash before
        its fsync: never acknowledged) is skipped; a segment in another format is set
        aside as ``.unreadable``, for an operator, and skipped.
        """
        durable, current = self.snapshot()
        records: list[bytes] = []
        rows = 0
        start = cursor
        for segment in sorted(s for s in durable if s >= cursor.segment):
            if until is not None and Cursor(segment, 0) >= until:
                break
            offset = cursor.offset if segment == cursor.segment else 0
            size = durable[segment]
            end, read_all = max(offset, len(HEADER)), True
            if size > offset:
                length = min(size - offset, max_bytes)
                read_all = length == size - offset
                with self.path(segment).open("rb") as fh:
                    fh.seek(offset)
                    data = fh.read(length)
                if offset < len(HEADER):
                    try:
                        check_header(data[: len(HEADER) - offset])
                    except SpoolFormatError as exc:
                        kept = self.set_aside(segment)
                        log.error(
                            "spool segment %d cannot be read (%s); kept as %s", segment, exc, kept
                        )
                        cursor = Cursor(segment + 1, 0)
                        continue
                    data, offset = data[len(HEADER) - offset :], len(HEADER)
                for record in read_records(data):
                    if until is not None and Cursor(segment, offset + record.end) > until:
                        read_all = False
                        break
                    records.append(record.rows)
                    rows += record.count
                    end = offset + record.end
                    if rows >= max_rows:
                        read_all = False
                        break
            cursor = Cursor(segment, end)
            if not read_all or segment >= current:
                break
            if end < size:
                log.warning(
                    "skipping %d torn bytes at the end of spool segment %d", size - end, segment
                )
            cursor = Cursor(segment + 1, 0)
        return SpoolBatch(start, cursor, rows, b",".join(records))

    def commit(self, cursor: Cursor) -> None:
        """Record that everything before ``cursor`` is stored, and delete the segments
        wholly before it."""
        cursor.save(self.directory)
        for segment in [s for s in self.durable() if s < cursor.segment]:
            self.forget(segment)

    def forget(self, segment: int) -> None:
        """Delete a segment the writer has fully stored (never the one being written)."""
        with self._lock:
            if segment >= self._segment:
                return
            self._durable.pop(segment, None)
        self.path(segment).unlink(missing_ok=True)

    def set_aside(self, segment: int) -> Path:
        """Rename a segment the writer cannot read to ``<name>.unreadable``, for an operator."""
        with self._lock:
            if segment >= self._segment:
                raise ValueError(f"segment {segment} is being written")
            self._durable.pop(segment, None)
        kept = self.path(segment).with_name(f"{self.path(segment).name}.unreadable")
        self.path(segment).replace(kept)
        return kept

    def close(self) -> None:
        """Write and fsync what is queued, then stop; later appends raise OSError."""
        with self._lock:
            if self._closed:
                return
            self._closing = self._closed = True
        self._wake.set()
        self._thread.join()
        os.close(self._fd)


def _settle(futures: list[asyncio.Future[None]], error: OSError | None) -> None:
    for future in futures:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
