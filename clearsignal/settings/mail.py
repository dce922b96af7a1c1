"""Where ClearSignal sends e-mail (the weekly digest, alerts): the operator's SMTP relay."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, StringConstraints

from clearsignal.settings._base import SettingsModel

__all__ = ["EmailAddress", "MailSettings"]

EmailAddress = Annotated[
    str, StringConstraints(pattern=r"^[^@\s<>,;]{1,64}@[A-Za-z0-9.-]{1,253}$", max_length=254)
]


class MailSettings(SettingsModel):
    host: str | None = Field(
        default=None, description="The SMTP relay; none: no e-mail is sent (alerts still "
        "go to the site's webhook)."
    )  # fmt: skip
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description="starttls: upgrade a plain connection (port 587); tls: TLS from the first "
        "byte (port 465); none: plain, only for a relay on the same host.",
    )
    username: str = Field(default="", max_length=200)
    password: SecretStr | None = None
    sender: EmailAddress = "clearsignal@localhost"
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    ca_file: Path | None = Field(
        default=None, description="A PEM file of certificates to trust besides the system's, "
        "for a relay with its own certificate authority."
    )  # fmt: skip
