"""The demo room: the demo shop that ``make run`` shows a newcomer, at /demo/.

``shop`` (routes), ``pages`` and ``layout`` (HTML), ``catalogue`` (what it sells),
``run_jobs`` (the "Run jobs now" action); served only in demo mode. Imports nothing of
the other rooms.
"""

__all__ = ["catalogue", "layout", "pages", "run_jobs", "shop"]
