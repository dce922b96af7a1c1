"""How a deployment runs: where the store is, how often jobs run, ingest limits."""

from __future__ import annotations

from pydantic import Field, field_validator

from clearsignal.settings._base import SettingsModel

__all__ = ["IngestSettings", "JobSettings", "StoreSettings"]


class StoreSettings(SettingsModel):
    dsn: str | None = Field(
        default=None,
        description="chdb:///path for the embedded engine, or http(s)://user:pass@host:port/db.",
    )
    database: str = Field(default="clearsignal", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
    cluster: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")

    @field_validator("dsn")
    @classmethod
    def _dsn_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("chdb://", "http://", "https://")):
            raise ValueError("must start with chdb://, http:// or https://")
        return value


class JobSettings(SettingsModel):
    in_process: bool = Field(
        default=True,
        description="Run the scheduler inside `clearsignal serve`; set false on all but one "
        "process when several collectors share a ClickHouse server, and run "
        "`clearsignal jobs run` there instead.",
    )
    sequencer_seconds: float = Field(default=5.0, gt=0, le=3600)
    erasure_seconds: float = Field(default=10.0, gt=0, le=3600)
    signals_seconds: float = Field(default=300.0, gt=0, le=86400)
    sessions_seconds: float = Field(default=300.0, gt=0, le=86400)
    summaries_seconds: float = Field(default=3600.0, gt=0, le=86400)
    validation_seconds: float = Field(default=86400.0, gt=0, le=7 * 86400)
    retention_seconds: float = Field(default=86400.0, gt=0, le=7 * 86400)
    webhooks_seconds: float = Field(default=30.0, gt=0, le=3600)
    erasure_settle_seconds: float = Field(
        default=0.0,
        ge=0,
        le=3600,
        description="Wait this long after a withdrawal before erasing, so that other "
        "collector processes have flushed their spools.",
    )


class IngestSettings(SettingsModel):
    """Rate limits of ``POST /api/events``, per collector process; a token is one event."""

    site_events_per_second: float = Field(
        default=50_000,
        gt=0,
        description="What one site may send to one collector process, so that no site "
        "takes the capacity of the others.",
    )
    site_burst: float = Field(default=100_000, gt=0)
    client_events_per_second: float = Field(
        default=20,
        gt=0,
        description="What one visitor (browser id, or measurement id) may send.",
    )
    client_burst: float = Field(default=200, gt=0)
