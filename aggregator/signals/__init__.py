"""Signals: the rules and what is computed from them.

``rules`` (versioned hypotheses with their SQL and plain language), ``sessionise``
(sessions in SQL), ``k_anonymity`` (which groups a site may see) and
``validation_report`` (rates and intervals as a dashboard reads them).
"""

__all__ = ["k_anonymity", "rules", "sessionise", "validation_report"]
