"""What a request from the demo site's pages carries: its origin and a desktop browser."""

from __future__ import annotations

__all__ = ["CHROME", "HEADERS", "ORIGIN"]

ORIGIN = "http://127.0.0.1:8000"
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
HEADERS = {"origin": ORIGIN, "user-agent": CHROME, "content-type": "text/plain"}
