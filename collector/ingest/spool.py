"""The durable spool: accepted events are on disk before the browser hears 202.

Records are appended to numbered segment files (``00000001.spool`` ...). A segment
starts with the line ``clearsignal-spool 2``; each record after it is one request's
accepted rows, on one line::

    <crc32, 8 hex digits> <row count> <rows as a JSON array>\n

the CRC covering everything after its own space. The rows are already in the stored
shape (``collector.ingest.rows``), so the writer passes them to ClickHouse as they are.
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
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

__all__ = [
    "HEADER",
    "Cursor",
    "Record",
    "Spool",
    "SpoolBatch",
    "SpoolFormatError",
    "check_header",
    "read_records",
]

log = logging.getLogger("clearsignal.spool")

SUFFIX = ".spool"
HEADER = b"clearsignal-spool 2\n"
"""The first line of every segment: the format's name and version."""


@dataclass(frozen=True, order=True)
class Cursor:
    """A position in the spool: everything before it is in ClickHouse."""

    segment: int
    offset: int

    @classmethod
    def load(cls, directory: Path) -> Cursor:
        try:
            segment, offset = (directory / "cursor").read_text().split()
            return cls(int(segment), int(offset))
        except FileNotFoundError:
            return cls(0, 0)

    def save(self, directory: Path) -> None:
        tmp = directory / "cursor.tmp"
        with tmp.open("w") as fh:
            fh.write(f"{self.segment} {self.offset}\n")
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(directory / "cursor")
        _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SpoolFormatError(Exception):
    """A segment that does not start with ``HEADER``: not written by this spool version."""


def encode(rows: Sequence[Sequence[Any]]) -> bytes:
    """One record: the rows of one request, framed and checksummed."""
    body = b"%d %s" % (len(rows), orjson.dumps(rows))
    return b"%08x %s\n" % (zlib.crc32(body), body)


@dataclass(frozen=True, slots=True)
class Record:
    end: int
    """Offset just past the record's line, within the data read."""
    count: int
    rows: bytes
    """The rows as ``JSONCompactEachRow`` input (``collector.ingest.rows.rows_json``)."""


def read_records(data: bytes) -> Iterator[Record]:
    """Each intact record of ``data``, in order; stops at a torn or damaged line."""
    position = 0
    while True:
        end = data.find(b"\n", position)
        if end < 0:
            return
        line = data[position:end]
        count_end = line.find(b" ", 9)
        if (
            count_end < 0
            or line[8:9] != b" "
            or not line[9:count_end].isdigit()
            or _hex(line[:8]) != zlib.crc32(line[9:])
            or line[count_end + 1 : count_end + 2] != b"["
            or line[-1:] != b"]"
        ):
            return
        # The JSON array without its brackets: rows separated by commas.
        yield Record(end + 1, int(line[9:count_end]), line[count_end + 2 : -1])
        position = end + 1


@dataclass(frozen=True)
class SpoolBatch:
    """Durable records after a cursor, ready to insert: their rows and where they end."""

    start: Cursor
    end: Cursor
    """Everything before it has been read; the cursor to save once the rows are stored."""
    count: int
    rows: bytes
    """The records' rows joined, as ``JSONCompactEachRow`` input."""

    @property
    def token(self) -> str:
        """Names the spool range: the same range inserted twice is stored once."""
        return (
            f"spool:{self.start.segment}:{self.start.offset}:{self.end.segment}:{self.end.offset}"
        )


def _hex(text: bytes) -> int:
    try:
        return int(text, 16)
    except ValueError:
        return -1


def check_header(head: bytes) -> None:
    """Accept the start of a segment: ``HEADER``, or a prefix of it torn by a crash."""
    if not (head.startswith(HEADER) or HEADER.startswith(head)):
        raise SpoolFormatError(f"the segment starts with {head[: len(HEADER)]!r}, not {HEADER!r}")


class Spool:
    """Append-only segments with group commit.

    ``append`` (on the event loop) only encodes the record and queues it; the
    ``spool-fsync`` thread writes everything queued since its last round in one
    ``write``, fdatasyncs once, and then resolves every waiter of that round. The event
    loop never blocks on the disk, and any number of requests share one fsync. The
    same thread owns the segment files: it rotates to a new segment when the current
    one is full, after the old one's last fsync.
    """

    def __init__(self, directory: Path, segment_bytes: int = 64 * 1024 * 1024) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.segment_bytes = segment_bytes
        self._lock = threading.Lock()
        # Segments from an earlier run are complete: new records go to a new segment.
        self._durable: dict[int, int] = {n: p.stat().st_size for n, p in self._segment_files()}
        self._segment = max(self._durable, default=0) + 1
        self._fd = self._open(self._segment)
        self._durable[self._segment] = self._written = len(HEADER)
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
        _fsync_directory(self.directory)
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
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                pending, self._pending = self._pending, []
                waiters, self._waiters = self._waiters, []
                closing = self._closing
            error: OSError | None = None
            if pending:
                try:
                    self._write(b"".join(pending))
                    os.fdatasync(self._fd)
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

    def _write(self, data: bytes) -> None:
        """Append data to the current segment, first sealing it if data would overfill it."""
        if self._written > len(HEADER) and self._written + len(data) > self.segment_bytes:
            os.fsync(self._fd)
            os.close(self._fd)
            sealed, size = self._segment, self._written
            fd = self._open(sealed + 1)
            with self._lock:
                # One step for readers: the sealed segment's final size and the new current.
                self._durable[sealed] = size
                self._durable[sealed + 1] = len(HEADER)
                self._segment, self._fd, self._written = sealed + 1, fd, len(HEADER)
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

    def read(self, cursor: Cursor, max_rows: int, max_bytes: int) -> SpoolBatch:
        """The durable records after ``cursor``: at least one whole record when there is
        one, then more up to ``max_rows`` rows and ``max_bytes`` bytes read per segment.

        Only fsynced bytes are read. A torn last line of a sealed segment (a crash before
        its fsync: never acknowledged) is skipped; a segment in another format is set
        aside as ``.unreadable``, for an operator, and skipped.
        """
        durable, current = self.snapshot()
        records: list[bytes] = []
        rows = 0
        start = cursor
        for segment in sorted(s for s in durable if s >= cursor.segment):
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
