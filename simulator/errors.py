"""The simulator's error: a simulation that could not be carried out as asked."""

from __future__ import annotations

from aggregator.errors import AggregatorError

__all__ = ["SimulationError"]


class SimulationError(AggregatorError):
    """The simulation could not be carried out as asked; the message says what to do."""
