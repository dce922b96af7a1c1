"""The aggregator: the ClickHouse store, and the jobs that turn events into signals and
summaries.

Rooms: ``store`` (client, migrations, cluster DDL, deletes), ``signals`` (rules,
sessionisation, stored signals, k-anonymity, the validation report), ``jobs`` (runner,
scheduler, one module per job) and ``webhooks`` (payload, signature, delivery). This
package imports nothing, so importing one module loads only what it needs.
"""

__all__ = ["errors", "jobs", "signals", "store", "webhooks"]
