"""The ClickHouse store: ``client`` (``Store``, ``open_store``), ``migrations`` (and the
append-only ``.sql`` files beside it), ``cluster_ddl`` and ``deletes``.
"""

__all__ = ["client", "cluster_ddl", "deletes", "migrations"]
