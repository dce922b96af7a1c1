"""``Settings``: the root of the one settings model."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from clearsignal.settings.admin import AdminSettings
from clearsignal.settings.deployment import (
    IngestSettings,
    JobSettings,
    LimitSettings,
    ServerSettings,
    StoreSettings,
)
from clearsignal.settings.mail import MailSettings
from clearsignal.settings.quickstart import demo_site
from clearsignal.settings.sites import SiteSettings
from clearsignal.settings.transparency import TransparencySettings

__all__ = ["ENV_PREFIX", "Settings"]

ENV_PREFIX = "CLEARSIGNAL_"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    data_dir: Path = Path("data")
    store: StoreSettings = StoreSettings()
    jobs: JobSettings = JobSettings()
    ingest: IngestSettings = IngestSettings()
    limits: LimitSettings = LimitSettings()
    server: ServerSettings = ServerSettings()
    sites: list[SiteSettings] = Field(default_factory=lambda: [demo_site()], min_length=1)
    signing_key_path: Path | None = Field(
        default=None, description="Ed25519 key of the consent log; default <data_dir>/keys/log.key"
    )
    site_keys_dir: Path | None = Field(
        default=None, description="Per-site pseudonymisation keys; default <data_dir>/keys/sites"
    )
    log_origin: str = Field(default="clearsignal.local/consent-log", min_length=1, max_length=200)
    transparency: TransparencySettings = TransparencySettings()
    demo: bool = Field(
        default=True,
        description="Serve the demo shop and its 'run jobs now' action, and create demo "
        "accounts; on by default only without a settings file (load_settings).",
    )
    admin: AdminSettings = AdminSettings()
    mail: MailSettings = MailSettings()

    @model_validator(mode="after")
    def _sites_unique(self) -> Self:
        ids = [s.id for s in self.sites]
        if len(set(ids)) != len(ids):
            raise ValueError("site ids must be unique")
        return self

    @model_validator(mode="after")
    def _admin_users_known_sites(self) -> Self:
        names = [user.username for user in self.admin.users]
        if len(set(names)) != len(names):
            raise ValueError("admin usernames must be unique")
        known = {site.id for site in self.sites}
        for user in self.admin.users:
            unknown = sorted(set(user.sites) - known)
            if unknown:
                raise ValueError(f"admin user {user.username} names unknown sites {unknown}")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The TOML file is read by load_settings() and passed in as init kwargs,
        # so that its errors can name the file; the environment wins over it.
        return env_settings, init_settings

    @property
    def dsn(self) -> str:
        if self.store.dsn:
            return self.store.dsn
        return f"chdb://{self.data_dir.resolve() / 'clickhouse'}"

    @property
    def is_embedded(self) -> bool:
        return self.dsn.startswith("chdb://")

    @property
    def log_key_path(self) -> Path:
        return self.signing_key_path or self.data_dir / "keys" / "log.key"

    @property
    def site_key_dir(self) -> Path:
        return self.site_keys_dir or self.data_dir / "keys" / "sites"

    @property
    def spool_dir(self) -> Path:
        return self.data_dir / "spool"

    def site(self, site_id: str) -> SiteSettings | None:
        return next((s for s in self.sites if s.id == site_id), None)
