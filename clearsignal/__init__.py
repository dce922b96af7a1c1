"""ClearSignal: privacy-first behaviour analytics.

This package holds what every other package shares (settings) and the
command line that ties them together.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
