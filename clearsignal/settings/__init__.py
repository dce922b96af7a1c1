"""The one settings model, shared by every package.

Settings come from, highest priority first: keyword arguments, ``CLEARSIGNAL_*``
environment variables (nested fields with ``__``, e.g. ``CLEARSIGNAL_STORE__DSN``),
and an optional TOML file (``clearsignal.toml`` in the working directory, or the
path in ``CLEARSIGNAL_CONFIG``). With no file at all, a built-in ``demo`` site is
configured so that a fresh checkout runs out of the box.

Modules: ``model`` (``Settings``, the root), ``sites``, ``deployment`` (store, jobs,
ingest), ``transparency`` (the consent log's witnesses), ``admin``, ``quickstart`` (the built-in demo site) and ``loading``
(``load_settings``). Every setting is documented in docs/configuration.md.
"""

from clearsignal.settings._base import SiteId
from clearsignal.settings.admin import SCRYPT_HASH_PATTERN, AdminRole, AdminSettings, AdminUser
from clearsignal.settings.deployment import (
    IngestSettings,
    JobSettings,
    LimitSettings,
    ServerSettings,
    StoreSettings,
)
from clearsignal.settings.loading import DEFAULT_CONFIG_FILE, SettingsError, load_settings
from clearsignal.settings.mail import EmailAddress, MailSettings
from clearsignal.settings.model import Settings
from clearsignal.settings.quickstart import DEMO_NOTICE_TEXT, demo_site
from clearsignal.settings.response import DEFAULT_ACTIONABLE, ResponseSettings
from clearsignal.settings.sites import (
    DEFAULT_PURPOSES,
    NoticeSettings,
    PageSettings,
    PurposeSettings,
    SiteSettings,
    WebhookSettings,
)
from clearsignal.settings.touchpoints import ApiScope, ServerKind, TouchpointSettings
from clearsignal.settings.transparency import TransparencySettings

__all__ = [
    "DEFAULT_ACTIONABLE",
    "DEFAULT_CONFIG_FILE",
    "DEFAULT_PURPOSES",
    "DEMO_NOTICE_TEXT",
    "SCRYPT_HASH_PATTERN",
    "AdminRole",
    "AdminSettings",
    "AdminUser",
    "ApiScope",
    "EmailAddress",
    "IngestSettings",
    "JobSettings",
    "LimitSettings",
    "MailSettings",
    "NoticeSettings",
    "PageSettings",
    "PurposeSettings",
    "ResponseSettings",
    "ServerKind",
    "ServerSettings",
    "Settings",
    "SettingsError",
    "SiteId",
    "SiteSettings",
    "StoreSettings",
    "TouchpointSettings",
    "TransparencySettings",
    "WebhookSettings",
    "demo_site",
    "load_settings",
]
