"""/admin accounts and their limits."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, StringConstraints, model_validator

from clearsignal.settings._base import SettingsModel, SiteId

__all__ = ["SCRYPT_HASH_PATTERN", "AdminRole", "AdminSettings", "AdminUser"]


class AdminRole(StrEnum):
    SITE_OWNER = "site_owner"  # a site's aggregates only
    PRIVACY_OFFICER = "privacy_officer"  # the consent log, erasures, exports, the ROPA
    SUPPORT_AGENT = "support_agent"  # its sites' inbox: the cases of consenting customers


SCOPED_ROLES = frozenset({AdminRole.SITE_OWNER, AdminRole.SUPPORT_AGENT})
"""Roles that see only the sites they name."""

SCRYPT_HASH_PATTERN = r"^scrypt\$ln=\d{1,2},r=\d{1,2},p=\d{1,2}\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$"


class AdminUser(SettingsModel):
    """An /admin account. ``password_hash`` is what ``clearsignal admin hash-password``
    prints: ``scrypt$ln=17,r=8,p=1$<salt>$<key>`` (base64); the password is never stored."""

    username: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]
    role: AdminRole
    password_hash: str = Field(pattern=SCRYPT_HASH_PATTERN, repr=False)
    sites: list[SiteId] = Field(
        default_factory=list,
        description="The sites the account may see; required for a site_owner and a "
        "support_agent, empty means every site for a privacy_officer.",
    )

    @model_validator(mode="after")
    def _owner_has_sites(self) -> Self:
        if self.role in SCOPED_ROLES and not self.sites:
            raise ValueError(f"a {self.role.value} account must name its sites")
        return self


class AdminSettings(SettingsModel):
    users: list[AdminUser] = Field(default_factory=list)
    session_minutes: int = Field(default=480, ge=5, le=7 * 24 * 60)
    max_failures: int = Field(default=5, ge=1, le=100)
    lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    scrypt_ln: int = Field(
        default=17,
        ge=10,
        le=20,
        description="scrypt's cost, N = 2^ln (OWASP: 17, with r = 8 and p = 1; a hash takes "
        "128 MiB). Hashes made with another cost are replaced at their next sign-in.",
    )
