"""The Stats API: a site's analytics as JSON, for the site's own tools (``collector.stats.api``)."""
