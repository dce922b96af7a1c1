"""How a long job reports progress: steps counted against a total.

Jobs call ``begin`` once with the number of steps and ``advance`` after each; the CLI
passes a progress bar (``clearsignal jobs run-once``), the scheduler passes ``SILENT``.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["SILENT", "Progress"]


class Progress(Protocol):
    def begin(self, total: int, label: str) -> None: ...

    def advance(self, label: str) -> None: ...


class _Silent:
    def begin(self, total: int, label: str) -> None:
        pass

    def advance(self, label: str) -> None:
        pass


SILENT: Progress = _Silent()
