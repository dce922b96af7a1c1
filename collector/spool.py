"""The durable spool: accepted events are on disk before the browser hears 202.

Records are appended to numbered segment files (``00000001.spool`` ...), one line each:
``<crc32 hex> <JSON>\\n``. ``append`` returns once the record is fsynced. Many appends
share one write and one fsync (group commit): a single thread writes whatever was queued
since its last round, fsyncs it and then wakes every waiter at once.

The writer (``spool_writer``) reads only fsynced bytes and records how far it has
written to ClickHouse in ``cursor`` (replaced atomically). After a crash the segments
are read again from the cursor; a torn last line fails its CRC and is skipped (it was
never acknowledged).
"""

from __future__ import annotations

import asyncio
import os
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

__all__ = ["Cursor", "Spool", "read_records"]

SUFFIX = ".spool"


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


def encode(record: object) -> bytes:
    body = orjson.dumps(record)
    return b"%08x %s\n" % (zlib.crc32(body), body)


def read_records(data: bytes) -> Iterator[tuple[int, object]]:
    """(end offset within data, record) for each intact line; stops at a torn or bad line."""
    position = 0
    while True:
        end = data.find(b"\n", position)
        if end < 0:
            return
        line = data[position:end]
        if len(line) < 10 or line[8:9] != b" " or int(line[:8], 16) != zlib.crc32(line[9:]):
            return
        yield end + 1, orjson.loads(line[9:])
        position = end + 1


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
        self._durable[self._segment] = 0
        self._written = 0
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
        fd = os.open(self.path(segment), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        _fsync_directory(self.directory)
        return fd

    async def append(self, record: object) -> None:
        """Write one record; return when it is on disk (raises OSError if it cannot be)."""
        data = encode(record)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if self._error is not None:
                raise self._error
            if self._closing:
                raise OSError("the spool is closed")
            self._pending.append(data)
            self._waiters.append((loop, future))
        self._wake.set()
        await future

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
        if self._written and self._written + len(data) > self.segment_bytes:
            os.fsync(self._fd)
            os.close(self._fd)
            sealed, size = self._segment, self._written
            fd = self._open(sealed + 1)
            with self._lock:
                # One step for readers: the sealed segment's final size and the new current.
                self._durable[sealed] = size
                self._durable[sealed + 1] = 0
                self._segment, self._fd, self._written = sealed + 1, fd, 0
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
        """Durable bytes after the cursor."""
        total = 0
        for segment, size in self.durable().items():
            if segment > cursor.segment:
                total += size
            elif segment == cursor.segment:
                total += max(0, size - cursor.offset)
        return total

    def forget(self, segment: int) -> None:
        """Delete a segment the writer has fully stored (never the one being written)."""
        with self._lock:
            if segment >= self._segment:
                return
            self._durable.pop(segment, None)
        self.path(segment).unlink(missing_ok=True)

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
