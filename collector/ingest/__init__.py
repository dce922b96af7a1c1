"""The ingest room: ``POST /api/events`` from the browser to the store.

``wire`` (the request's models), ``endpoint`` (the plain ASGI endpoint), ``pipeline``
(named steps: site, origin, bots, consent, rate limits, pseudonyms, scrubbing),
``scrub``, ``user_agent``, ``drops`` (the closed list of reasons), ``rows`` (the stored
shape), ``spool`` (durable segments, group commit) and ``writer`` (spool to ClickHouse),
``metrics`` (what /metrics shows of it). Imports nothing of the other rooms.
"""

__all__ = [
    "drops", "endpoint", "metrics", "pipeline", "rows", "scrub", "spool", "user_agent",
    "wire", "writer",
]  # fmt: skip
