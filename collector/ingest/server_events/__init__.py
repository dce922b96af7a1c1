"""Server events: what a site's own systems tell (orders, subscriptions, support
contacts, complaints, SLA breaches, handovers, explicit scores).

``kinds`` (the closed, versioned wire models), ``rows`` (the stored shape), ``parse``
(JSON and NDJSON bodies, event by event), ``endpoint`` (``POST /api/server-events``,
behind the site's API keys), ``writer`` (spool to store, joining each event to a
consenting visitor through ``consent.customer_links``). docs/api.md documents the kinds.
"""

__all__ = ["endpoint", "kinds", "parse", "rows", "writer"]
