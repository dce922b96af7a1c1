"""Test-support code: fixtures and helpers for tests, never imported by the product."""
