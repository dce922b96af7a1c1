"""How a deployment runs: where the store is, how often jobs run, ingest limits."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network
from typing import Self

from pydantic import Field, FilePath, IPvAnyNetwork, SecretStr, field_validator, model_validator

from clearsignal.settings._base import SettingsModel

__all__ = ["IngestSettings", "JobSettings", "LimitSettings", "ServerSettings", "StoreSettings"]


class StoreSettings(SettingsModel):
    dsn: str | None = Field(
        default=None,
        description="chdb:///path for the embedded engine, or http(s)://user:pass@host:port/db.",
    )
    database: str = Field(default="clearsignal", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
    cluster: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$",
        description="The cluster (in the nodes' <remote_servers>) whose Distributed tables "
        "hold the data; see docs/scaling.md.",
    )
    nodes: list[str] = Field(
        default_factory=list,
        description="With `cluster`: the http(s) DSN of every node (each replica of each "
        "shard) of a cluster without distributed DDL (no ClickHouse Keeper). Migrations, "
        "deletes and erasure then run on each node in turn, and tables are plain "
        "*MergeTree. Empty: DDL runs ON CLUSTER and tables are Replicated*MergeTree.",
    )

    @field_validator("dsn")
    @classmethod
    def _dsn_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("chdb://", "http://", "https://")):
            raise ValueError("must start with chdb://, http:// or https://")
        return value

    @field_validator("nodes")
    @classmethod
    def _node_scheme(cls, value: list[str]) -> list[str]:
        for node in value:
            if not node.startswith(("http://", "https://")):
                raise ValueError(f"{node!r}: a node is reached over http:// or https://")
        return value

    @model_validator(mode="after")
    def _cluster_for_nodes(self) -> Self:
        if self.nodes and not self.cluster:
            raise ValueError("`nodes` lists a cluster's nodes: name the `cluster` too")
        if self.cluster and self.dsn is not None and self.dsn.startswith("chdb://"):
            raise ValueError("a cluster is reached over http(s)://, not the embedded engine")
        return self


class JobSettings(SettingsModel):
    in_process: bool = Field(
        default=True,
        description="Run the scheduler inside `clearsignal serve`; set false on all but one "
        "process when several collectors share a ClickHouse server, and run "
        "`clearsignal jobs run` there instead.",
    )
    lease_seconds: float = Field(
        default=30,
        ge=3,
        le=600,
        description="How long the process running the jobs holds their lease without "
        "renewing it; a standby `clearsignal jobs run` takes over this long after the "
        "holder stopped answering (at once after it stopped cleanly).",
    )
    sequencer_seconds: float = Field(default=5.0, gt=0, le=3600)
    erasure_seconds: float = Field(default=10.0, gt=0, le=3600)
    signals_seconds: float = Field(default=300.0, gt=0, le=86400)
    sessions_seconds: float = Field(default=300.0, gt=0, le=86400)
    analytics_seconds: float = Field(
        default=60.0,
        gt=0,
        le=86400,
        description="How often the analytics' rollup takes in new events: the analytics "
        "(not the visitors of the last minutes) are at most this old.",
    )
    summaries_seconds: float = Field(default=3600.0, gt=0, le=86400)
    validation_seconds: float = Field(default=86400.0, gt=0, le=7 * 86400)
    retention_seconds: float = Field(default=86400.0, gt=0, le=7 * 86400)
    webhooks_seconds: float = Field(default=30.0, gt=0, le=3600)
    cases_seconds: float = Field(default=60.0, gt=0, le=3600)
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
    address_events_per_second: float = Field(
        default=100,
        gt=0,
        description="What one network address (an IPv6 /64) may send, whatever its browser "
        "ids and user agents: enough for an office behind one address, and a cap on a "
        "client that changes its user agent on every request.",
    )
    address_burst: float = Field(default=1000, gt=0)
    consent_lookup_seconds: float = Field(
        default=0.5,
        gt=0,
        le=10,
        description="How long a request waits for the store to say whether a browser id "
        "holds a grant; past it the batch is spooled unverified and checked later.",
    )
    site_server_events_per_second: float = Field(
        default=100_000,
        gt=0,
        description="What one site's backends may send to POST /api/server-events of one "
        "collector process (a batch over the tokens left is refused with 429 whole).",
    )
    site_server_burst: float = Field(default=200_000, gt=0)
    api_key_cache_seconds: float = Field(
        default=2,
        gt=0,
        le=60,
        description="How long a collector process trusts what it read of an API key: a "
        "revocation reaches every process within this bound.",
    )
    consent_cache_seconds: float = Field(
        default=2,
        gt=0,
        le=60,
        description="How long a collector process trusts a consent state it read or "
        "recorded before asking the store again: a decision recorded through one process "
        "reaches every other within this bound (decisions kept on disk while the store "
        "is down are trusted until it is back).",
    )
    unverified_delay_seconds: float = Field(
        default=30,
        ge=0,
        le=3600,
        description="How old unverified rows are before their consent is checked, so that "
        "decisions other collectors kept during an outage have reached the store.",
    )
    country_database: FilePath | None = Field(
        default=None,
        description="A MaxMind-format country database (GeoLite2-Country, DB-IP country "
        "lite) to read an event's country from its network address; by default the "
        "GeoLite2 country data shipped with geoip2fast. The address is never stored.",
    )


class LimitSettings(SettingsModel):
    """Rate limits of the other public endpoints, per collector process."""

    consent_per_address_per_second: float = Field(
        default=0.2,
        gt=0,
        description="Consent decisions one network address may record: each is a leaf of "
        "the log that can never be removed.",
    )
    consent_address_burst: float = Field(default=20, gt=0)
    consent_per_site_per_second: float = Field(default=50, gt=0)
    consent_site_burst: float = Field(default=500, gt=0)
    lookups_per_address_per_second: float = Field(
        default=1,
        gt=0,
        description="Reads one network address may make of /api/me, receipts, proofs and erasures.",
    )
    lookups_address_burst: float = Field(default=60, gt=0)
    stats_per_key_per_second: float = Field(
        default=2,
        gt=0,
        description="Requests one API key may make of the Stats API: each reads the "
        "period's events, so a tool polling in a loop cannot take the store from the rest.",
    )
    stats_key_burst: float = Field(default=30, gt=0)


_LOOPBACK: list[IPv4Network | IPv6Network] = [IPv4Network("127.0.0.0/8"), IPv6Network("::1/128")]


class ServerSettings(SettingsModel):
    """How ``clearsignal serve`` meets the network, and who may read its operator pages."""

    forwarded_allow_ips: list[str] = Field(
        default_factory=lambda: ["127.0.0.1"],
        description="Proxies whose X-Forwarded-For names the client's address (uvicorn's "
        "forwarded_allow_ips); from any other peer the address is the peer's own.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="A request with 'Authorization: Bearer <token>' may read /metrics and "
        "the details of /readyz from anywhere.",
    )
    metrics_networks: list[IPvAnyNetwork] = Field(
        default_factory=lambda: _LOOPBACK.copy(),
        description="Networks whose requests may read /metrics and /readyz's details "
        "without the token (a scraper on the same host, by default).",
    )

    @field_validator("metrics_token")
    @classmethod
    def _token_long(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 24:
            raise ValueError("must be at least 24 characters")
        return value
