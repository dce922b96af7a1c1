"""The collector: ClearSignal's HTTP edge (ingest, consent, transparency and web pages)."""

from collector.app import create_app

__all__ = ["create_app"]
