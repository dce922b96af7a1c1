"""Jobs: named, scheduled units of work over the store.

``runner`` (``Job``, ``JobRunner``: run by name, record in ``job_runs``), ``base`` (what
a store job holds), ``registry`` (the jobs of a deployment, in order), ``scheduler``
(APScheduler), ``progress``, ``watermarks``, and one module per job: ``sessions``,
``signals``, ``summaries``, ``validation``, ``retention``, ``webhooks``.
"""

__all__ = [
    "base", "progress", "registry", "retention", "runner", "scheduler", "sessions",
    "signals", "summaries", "validation", "watermarks", "webhooks",
]  # fmt: skip
