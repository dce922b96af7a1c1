"""ClearSignal tests; a package so test modules can import ``tests.support``."""
