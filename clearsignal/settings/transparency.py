"""Who witnesses the consent log: the witnesses' keys, and how many must cosign."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, StringConstraints, model_validator

from clearsignal.settings._base import SettingsModel

__all__ = ["TransparencySettings", "WitnessVkey"]

# A C2SP vkey of signature type 0x04 (tlog-cosignature/v1): name+keyid+base64(0x04||key).
# Its key ID is checked when the log starts (consent.cosignature.WitnessKey).
WitnessVkey = Annotated[
    str, StringConstraints(pattern=r"^[^\s+]{1,200}\+[0-9a-f]{8}\+B[A-P][A-Za-z0-9+/]{42}$")
]


class TransparencySettings(SettingsModel):
    witnesses: list[WitnessVkey] = Field(
        default_factory=list,
        description="Verifier keys of the witnesses whose cosignatures the log accepts "
        "(as `clearsignal witness init` prints them).",
    )
    quorum: int = Field(
        default=1,
        ge=1,
        description="How many of those witnesses must cosign a checkpoint before receipts "
        "are proven against it.",
    )

    @model_validator(mode="after")
    def _quorum_reachable(self) -> Self:
        if self.witnesses and self.quorum > len(self.witnesses):
            raise ValueError(
                f"quorum {self.quorum} is more than the {len(self.witnesses)} witnesses named"
            )
        return self
