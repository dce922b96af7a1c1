"""Signed webhooks: ``request`` (the payload and its signed headers, the transport) and
``signature`` (how a receiver checks one). The job that queues and sends them is
``aggregator.jobs.webhooks``.
"""

__all__ = ["request", "signature"]
