"""What the models of every request share: a frozen base that forbids unknown fields, and
the two identifiers a browser sends (a site id, and the browser id it keeps)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from clearsignal.settings import SiteId

__all__ = ["BROWSER_ID_PATTERN", "BrowserId", "SiteId", "WireModel"]

BROWSER_ID_PATTERN = r"^[A-Za-z0-9_-]{22}$"
"""128 random bits in base64url, as the snippet makes them (``cs_id``)."""
BrowserId = Annotated[str, StringConstraints(pattern=BROWSER_ID_PATTERN)]


class WireModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
