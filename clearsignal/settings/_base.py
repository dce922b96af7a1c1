"""What every settings model shares: frozen, and no field it does not declare."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

__all__ = ["Origin", "SettingsModel", "SiteId"]

SiteId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
Origin = Annotated[str, StringConstraints(pattern=r"^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?$")]


class SettingsModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
