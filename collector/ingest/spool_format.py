"""The spool's on-disk format: segment header, records, the cursor and a batch read back.

A segment starts with ``HEADER``; each record after it is one request's accepted rows,
on one line::

    <crc32, 8 hex digits> <row count> <rows as a JSON array>\n

the CRC covering everything after its own space. ``collector.ingest.spool`` writes and
reads segments in this format; ``read_records`` stops at a torn or damaged line.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

__all__ = [
    "HEADER",
    "INTENDED",
    "SUFFIX",
    "Cursor",
    "Record",
    "SpoolBatch",
    "SpoolFormatError",
    "check_header",
    "encode",
    "fsync_directory",
    "read_records",
]

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
        return cls._read(directory / "cursor") or cls(0, 0)

    @classmethod
    def _read(cls, path: Path) -> Cursor | None:
        try:
            segment, offset = path.read_text().split()
        except FileNotFoundError:
            return None
        return cls(int(segment), int(offset))

    def save(self, directory: Path, name: str = "cursor") -> None:
        tmp = directory / f"{name}.tmp"
        with tmp.open("w") as fh:
            fh.write(f"{self.segment} {self.offset}\n")
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(directory / name)
        fsync_directory(directory)

    @classmethod
    def load_intended(cls, directory: Path, cursor: Cursor) -> Cursor | None:
        """The end of the batch an insert was tried with and not yet known stored
        (``save(directory, INTENDED)``), or None."""
        try:
            intended = cls._read(directory / INTENDED)
        except ValueError:
            return None
        return intended if intended is not None and intended > cursor else None


INTENDED = "intended"
"""The end of the spool range an insert is being tried with: after a failure or a crash,
the same range is tried again, with the same deduplication token, though more records
have come since (a longer range would carry another token, and store again what the
first try may have stored)."""


def fsync_directory(directory: Path) -> None:
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
