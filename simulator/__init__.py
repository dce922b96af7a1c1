"""Simulated shops with planted truth, driving the real ingest pipeline.

``simulation`` (``simulate``, ``simulate_http``, the truth table), ``plans`` (who each
visitor is and when they come), ``sessions`` (what they do), ``visitors`` (plans
rendered into events), ``truth`` (the rules' plain Python reference), ``delivery``
(through the pipeline into the store, or over HTTP) and ``demo_seed`` (the demo shop's
seeded month). Sits above the collector, whose pipeline it drives.
"""

__all__ = ["delivery", "demo_seed", "plans", "sessions", "simulation", "truth", "visitors"]
