"""The ``clearsignal`` command line: ``main`` (the parser and dispatch) and one module
per command. The top layer: it may import every package; nothing imports it.
"""

__all__ = ["admin", "audit", "demo", "jobs", "main", "simulate"]
