"""The collector: ClearSignal's HTTP edge.

``app`` builds the Starlette application from the rooms: ``ingest`` (``POST
/api/events``, the pipeline, the spool and its writer), ``visitor`` (consent,
transparency, a visitor's signals, the served snippet and /me), ``admin`` (the site
dashboard and the privacy officer's console) and ``demo`` (the demo shop). The rooms do
not import each other; what they share sits beside ``app`` (errors, JSON bodies,
headers, CORS, origins, rate limits, the typed state). This package imports nothing, so
``import collector.ingest.rows`` does not load the application.
"""

__all__ = ["admin", "app", "demo", "ingest", "runtime", "visitor"]
