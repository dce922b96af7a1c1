"""The store as a command opens it: connected and migrated, or a one-paragraph error."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from clearsignal.settings import Settings

if TYPE_CHECKING:
    from aggregator.store.client import Store

__all__ = ["open_migrated_store"]


def open_migrated_store(settings: Settings) -> Store | None:
    """The migrated store, or None after printing why it cannot be opened (with the
    embedded engine's one-process rule in mind)."""
    from aggregator.errors import StoreError
    from aggregator.store.client import open_configured_store
    from aggregator.store.migrations import migrate

    try:
        store = open_configured_store(settings)
        migrate(store)
    except StoreError as exc:
        hint = (
            " The embedded engine allows one process per data directory: stop `clearsignal "
            "serve` first (`clearsignal simulate` can also go through it: --via http)."
            if settings.is_embedded
            else ""
        )
        print(f"clearsignal: cannot open the store: {exc}.{hint}", file=sys.stderr)
        return None
    return store
