"""The one settings model, shared by every package.

Settings come from, highest priority first: keyword arguments, ``CLEARSIGNAL_*``
environment variables (nested fields with ``__``, e.g. ``CLEARSIGNAL_STORE__DSN``),
and an optional TOML file (``clearsignal.toml`` in the working directory, or the
path in ``CLEARSIGNAL_CONFIG``). With no file at all, a built-in ``demo`` site is
configured so that a fresh checkout runs out of the box.

Every setting is documented in docs/configuration.md.
"""

from __future__ import annotations

import os
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

__all__ = [
    "DEFAULT_CONFIG_FILE",
    "AdminRole",
    "AdminSettings",
    "AdminUser",
    "IngestSettings",
    "LawfulBasis",
    "NoticeSettings",
    "Purpose",
    "PurposeSettings",
    "Settings",
    "SettingsError",
    "SiteSettings",
    "StoreSettings",
    "load_settings",
]

DEFAULT_CONFIG_FILE = Path("clearsignal.toml")
ENV_PREFIX = "CLEARSIGNAL_"

SiteId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
Origin = Annotated[str, StringConstraints(pattern=r"^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?$")]


class SettingsError(Exception):
    """Settings that cannot be used; the message names the field, its source and what is expected."""


class Purpose(StrEnum):
    MEASUREMENT = "measurement"
    ANALYTICS = "analytics"
    PERSONALIZATION = "personalization"


class LawfulBasis(StrEnum):
    """GDPR Art. 6(1) bases that ClearSignal's purposes can rest on."""

    CONSENT = "consent"
    LEGITIMATE_INTEREST = "legitimate_interest"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PurposeSettings(_Model):
    id: Purpose
    lawful_basis: LawfulBasis
    description: str = Field(min_length=1, max_length=2000)


DEFAULT_PURPOSES: tuple[PurposeSettings, ...] = (
    PurposeSettings(
        id=Purpose.MEASUREMENT,
        lawful_basis=LawfulBasis.LEGITIMATE_INTEREST,
        description=(
            "Anonymous counting of page views and clicks. The identifier is a keyed hash "
            "of a daily salt, the site, the network address and the browser string; the salt "
            "is destroyed after 48 hours, so visits cannot be linked across days."
        ),
    ),
    PurposeSettings(
        id=Purpose.ANALYTICS,
        lawful_basis=LawfulBasis.CONSENT,
        description=(
            "Behavioural signals about how you use this site (for example repeated visits "
            "to the pricing page), linked to a random identifier kept in your browser."
        ),
    ),
    PurposeSettings(
        id=Purpose.PERSONALIZATION,
        lawful_basis=LawfulBasis.CONSENT,
        description=(
            "Using those signals while you browse, to adapt the site or offer help "
            "(for example explaining shipping costs)."
        ),
    ),
)

DEMO_NOTICE_TEXT = (
    "ClearSignal demo shop privacy notice. We count visits anonymously. With your "
    "consent we also link your visits to a random identifier kept in your browser, to "
    "notice where you hesitate or get stuck (analytics) and to offer help while you "
    "browse (personalization). You can see everything we hold about you, download it, "
    "withdraw consent or delete it at /me."
)


class NoticeSettings(_Model):
    uri: str = Field(min_length=1, max_length=2000)
    version: str = Field(min_length=1, max_length=64)
    language: str = Field(default="en", pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
    text: str = Field(min_length=1, max_length=100_000)


PathPattern = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class PageSettings(_Model):
    """Which pages are which, as shell-style patterns on the URL path (``*`` any run)."""

    pricing: list[PathPattern] = Field(default_factory=lambda: ["*/pricing*"])
    help: list[PathPattern] = Field(default_factory=lambda: ["*/faq*", "*/help*"])
    contact: list[PathPattern] = Field(default_factory=lambda: ["*/contact*", "*/complaint*"])
    checkout: list[PathPattern] = Field(default_factory=lambda: ["*/checkout*"])
    shipping: list[PathPattern] = Field(default_factory=lambda: ["*/checkout/shipping*"])
    purchase: list[PathPattern] = Field(
        default_factory=lambda: ["*/checkout/complete*", "*/order-confirmed*"]
    )


StepName = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class WebhookSettings(_Model):
    """Where to tell a site, server to server, that a visitor who allowed personalization
    gained a signal. Each delivery is signed with HMAC-SHA256 under ``secret``."""

    url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s]+$", max_length=2000)]
    secret: SecretStr = Field(description="Shared signing secret, at least 32 characters.")
    max_attempts: int = Field(default=8, ge=1, le=20)
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)

    @field_validator("secret")
    @classmethod
    def _secret_long(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters")
        return value


class SiteSettings(_Model):
    id: SiteId
    name: str = Field(default="", max_length=200)
    allowed_origins: list[Origin] = Field(min_length=1)
    purposes: list[PurposeSettings] = Field(default_factory=lambda: list(DEFAULT_PURPOSES))
    strict: bool = Field(
        default=False,
        description="Require consent even for anonymous measurement.",
    )
    notice: NoticeSettings
    retention_days: int = Field(default=180, ge=1, le=3650)
    k_anonymity: int = Field(default=10, ge=2, le=10_000)
    query_allowlist: list[str] = Field(default_factory=lambda: ["utm_*"])
    pages: PageSettings = PageSettings()
    signal_thresholds: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="Per rule id, thresholds that override the rule's defaults.",
    )
    controller: str = Field(default="", max_length=500)
    contact: str = Field(
        default="",
        max_length=500,
        description="How to reach the controller or its data protection officer.",
    )
    recipients: list[str] = Field(
        default_factory=lambda: ["none: the data stays on the controller's own ClearSignal"],
        description="Who receives the personal data (GDPR Art. 30(1)(d)).",
    )
    funnel: list[StepName] = Field(
        default_factory=lambda: ["cart", "shipping", "payment", "purchase"],
        max_length=20,
        description="The funnel's steps in order, as the names of `step` events.",
    )
    goal: StepName = Field(
        default="purchase",
        description="The step event (or, for 'purchase', also a purchase page) that counts "
        "as reaching the site's goal in the validation report.",
    )
    webhook: WebhookSettings | None = None

    @field_validator("purposes")
    @classmethod
    def _purposes_unique(cls, value: list[PurposeSettings]) -> list[PurposeSettings]:
        ids = [p.id for p in value]
        if len(set(ids)) != len(ids):
            raise ValueError("each purpose may be listed once")
        return value

    def purpose(self, purpose: Purpose) -> PurposeSettings | None:
        return next((p for p in self.purposes if p.id == purpose), None)


def demo_site() -> SiteSettings:
    return SiteSettings(
        id="demo",
        name="ClearSignal demo shop",
        allowed_origins=["http://127.0.0.1:8000", "http://localhost:8000"],
        notice=NoticeSettings(
            uri="http://127.0.0.1:8000/demo/privacy", version="1", text=DEMO_NOTICE_TEXT
        ),
        controller="ClearSignal demo shop",
    )


class StoreSettings(_Model):
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


class JobSettings(_Model):
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


class IngestSettings(_Model):
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


class AdminRole(StrEnum):
    SITE_OWNER = "site_owner"  # a site's aggregates only
    PRIVACY_OFFICER = "privacy_officer"  # the consent log, erasures, exports, the ROPA


SCRYPT_HASH_PATTERN = r"^scrypt\$ln=\d{1,2},r=\d{1,2},p=\d{1,2}\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$"


class AdminUser(_Model):
    """An /admin account. ``password_hash`` is what ``clearsignal admin hash-password``
    prints: ``scrypt$ln=15,r=8,p=1$<salt>$<key>`` (base64); the password is never stored."""

    username: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]
    role: AdminRole
    password_hash: str = Field(pattern=SCRYPT_HASH_PATTERN, repr=False)
    sites: list[SiteId] = Field(
        default_factory=list,
        description="The sites the account may see; required for a site_owner, empty "
        "means every site for a privacy_officer.",
    )

    @model_validator(mode="after")
    def _owner_has_sites(self) -> Self:
        if self.role == AdminRole.SITE_OWNER and not self.sites:
            raise ValueError("a site_owner account must name its sites")
        return self


class AdminSettings(_Model):
    users: list[AdminUser] = Field(default_factory=list)
    session_minutes: int = Field(default=480, ge=5, le=7 * 24 * 60)
    max_failures: int = Field(default=5, ge=1, le=100)
    lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)


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
    sites: list[SiteSettings] = Field(default_factory=lambda: [demo_site()], min_length=1)
    signing_key_path: Path | None = Field(
        default=None, description="Ed25519 key of the consent log; default <data_dir>/keys/log.key"
    )
    site_keys_dir: Path | None = Field(
        default=None, description="Per-site pseudonymisation keys; default <data_dir>/keys/sites"
    )
    log_origin: str = Field(default="clearsignal.local/consent-log", min_length=1, max_length=200)
    demo: bool = Field(
        default=True, description="Serve the demo shop and its 'run jobs now' action."
    )
    admin: AdminSettings = AdminSettings()

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


def _config_path(path: Path | None) -> Path | None:
    """The file to read: asked for (then it must exist), or ./clearsignal.toml if present."""
    if path is not None:
        return path
    from_env = os.environ.get(f"{ENV_PREFIX}CONFIG")
    if from_env:
        return Path(from_env)
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(
            f"Settings file {path} does not exist. Create it (see docs/configuration.md) "
            f"or unset {ENV_PREFIX}CONFIG to run with the built-in demo site."
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(
            f"Settings file {path} is not valid TOML: {exc}. Fix the syntax at that position; "
            "docs/configuration.md shows a complete example."
        ) from None


def _env_source(loc: tuple[int | str, ...]) -> str | None:
    """The environment variable that set the field at loc (or one of its parents), if any."""
    present = {k.upper() for k in os.environ}
    for depth in range(len(loc), 0, -1):
        name = ENV_PREFIX + "__".join(str(part).upper() for part in loc[:depth])
        if name in present:
            return name
    return None


def _explain(error: ValidationError, path: Path | None) -> str:
    parts = []
    for item in error.errors():
        loc = tuple(item["loc"])
        field = ".".join(str(p) for p in loc) or "(settings)"
        env_var = _env_source(loc)
        if env_var:
            source = f"environment variable {env_var}"
        else:
            source = f"file {path}" if path is not None else "built-in defaults"
        got = item.get("input")
        shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
        parts.append(f"field '{field}' from {source}: {item['msg']}{shown}")
    return (
        "Invalid ClearSignal settings: "
        + "; ".join(parts)
        + ". Correct the value and start again; every setting is described in docs/configuration.md."
    )


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Read settings from the TOML file (if any) and the environment; raise SettingsError."""
    config_path = _config_path(path)
    values: dict[str, Any] = _read_toml(config_path) if config_path is not None else {}
    values.update(overrides)
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise SettingsError(_explain(exc, config_path)) from None
