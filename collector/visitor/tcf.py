"""IAB TCF v2 TC strings, decoded by their grammar: a consent decision carries one only if
it is a well-formed TC string, never free text.

A TC string is up to four base64url segments separated by dots: the core segment, then
optionally the disclosed vendors, the allowed vendors and the publisher TC segments, each
a bit field (IAB Tech Lab, "Consent string and vendor list formats v2", which TCF 2.2
and 2.3 keep). ``decode_tc_string`` reads every field of every segment in order and
refuses the string (``TcfStringError``, saying where) when a field runs past the end, a
value is out of its range (version 2, consent language two letters A to Z, a range's end
before its start ...), a segment type is unknown or repeated, or anything but zero
padding follows the last field. ``TcfConsent`` keeps what ClearSignal reads
of it (the purposes consented to, the CMP and its policy version).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

__all__ = ["MAX_TC_STRING", "TcfConsent", "TcfStringError", "decode_tc_string"]

MAX_TC_STRING = 4096
"""Longer than any string a CMP writes with today's vendor list in range encoding."""
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
_DISCLOSED_VENDORS, _ALLOWED_VENDORS, _PUBLISHER_TC = 1, 2, 3
_SEGMENT_NAMES = {1: "disclosed vendors", 2: "allowed vendors", 3: "publisher TC"}


class TcfStringError(ValueError):
    """Not a well-formed TC string; the message says which field is wrong."""


@dataclass(frozen=True)
class TcfConsent:
    cmp_id: int
    cmp_version: int
    policy_version: int
    consent_language: str
    purposes_consent: frozenset[int]
    purposes_legitimate_interest: frozenset[int]
    vendors_consent: int
    """How many vendors it grants consent to."""


class _Bits:
    def __init__(self, segment: str, name: str) -> None:
        self.name = name
        try:
            raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        except (binascii.Error, ValueError) as exc:
            raise TcfStringError(f"the {name} segment is not base64url") from exc
        self.value = int.from_bytes(raw, "big")
        self.size = len(raw) * 8
        self.position = 0

    def read(self, width: int, field: str) -> int:
        if self.position + width > self.size:
            raise TcfStringError(f"the {self.name} segment ends inside {field}")
        shift = self.size - self.position - width
        self.position += width
        return (self.value >> shift) & ((1 << width) - 1)

    def flags(self, width: int, field: str) -> frozenset[int]:
        bits = self.read(width, field)
        return frozenset(i + 1 for i in range(width) if bits >> (width - 1 - i) & 1)

    def finish(self) -> None:
        """Only zero padding may follow the last field: nothing else can ride along."""
        if self.read(self.size - self.position, "padding") != 0:
            raise TcfStringError(f"the {self.name} segment has bits after its last field")


def _vendors(bits: _Bits, field: str) -> int:
    """A vendor section (bit field or ranges); returns how many vendors it names."""
    max_vendor = bits.read(16, f"{field} MaxVendorId")
    if bits.read(1, f"{field} IsRangeEncoding") == 0:
        return len(bits.flags(max_vendor, f"{field} BitField")) if max_vendor else 0
    return _ranges(bits, field, max_vendor)


def _ranges(bits: _Bits, field: str, max_vendor: int | None) -> int:
    named = 0
    for _ in range(bits.read(12, f"{field} NumEntries")):
        is_range = bits.read(1, f"{field} IsARange")
        start = bits.read(16, f"{field} StartOrOnlyVendorId")
        end = bits.read(16, f"{field} EndVendorId") if is_range else start
        if start == 0 or end < start or (max_vendor is not None and end > max_vendor):
            raise TcfStringError(f"{field} has an impossible vendor range {start}-{end}")
        named += end - start + 1
    return named


def _language(bits: _Bits) -> str:
    letters = [bits.read(6, "ConsentLanguage"), bits.read(6, "ConsentLanguage")]
    if any(letter > 25 for letter in letters):
        raise TcfStringError("ConsentLanguage is not two letters A to Z")
    return "".join(chr(ord("A") + letter) for letter in letters)


def _core(segment: str) -> TcfConsent:
    bits = _Bits(segment, "core")
    if (version := bits.read(6, "Version")) != 2:
        raise TcfStringError(f"the core segment is version {version}, not 2")
    bits.read(36, "Created")
    bits.read(36, "LastUpdated")
    cmp_id = bits.read(12, "CmpId")
    cmp_version = bits.read(12, "CmpVersion")
    bits.read(6, "ConsentScreen")
    language = _language(bits)
    bits.read(12, "VendorListVersion")
    policy_version = bits.read(6, "TcfPolicyVersion")
    bits.read(1, "IsServiceSpecific")
    bits.read(1, "UseNonStandardTexts")
    bits.read(12, "SpecialFeatureOptIns")
    consent = bits.flags(24, "PurposesConsent")
    legitimate_interest = bits.flags(24, "PurposesLITransparency")
    bits.read(1, "PurposeOneTreatment")
    country = [bits.read(6, "PublisherCC"), bits.read(6, "PublisherCC")]
    if any(letter > 25 for letter in country):
        raise TcfStringError("PublisherCC is not two letters A to Z")
    vendors = _vendors(bits, "VendorConsent")
    _vendors(bits, "VendorLegitimateInterest")
    for _ in range(bits.read(12, "NumPubRestrictions")):
        bits.read(6, "PurposeId")
        bits.read(2, "RestrictionType")
        _ranges(bits, "PubRestrictionEntry", None)
    bits.finish()
    return TcfConsent(
        cmp_id, cmp_version, policy_version, language, consent, legitimate_interest, vendors
    )


def _other(segment: str, seen: set[int]) -> None:
    bits = _Bits(segment, "optional")
    kind = bits.read(3, "SegmentType")
    if kind not in _SEGMENT_NAMES or kind in seen:
        raise TcfStringError(f"segment type {kind} is unknown or repeated")
    seen.add(kind)
    bits.name = _SEGMENT_NAMES[kind]
    if kind in (_DISCLOSED_VENDORS, _ALLOWED_VENDORS):
        _vendors(bits, "Vendors")
    else:
        bits.read(24, "PubPurposesConsent")
        bits.read(24, "PubPurposesLITransparency")
        custom = bits.read(6, "NumCustomPurposes")
        bits.read(custom, "CustomPurposesConsent")
        bits.read(custom, "CustomPurposesLITransparency")
    bits.finish()


def decode_tc_string(text: str) -> TcfConsent:
    """The consent a TC string records; ``TcfStringError`` unless it is well-formed."""
    if not 0 < len(text) <= MAX_TC_STRING:
        raise TcfStringError(f"a TC string has 1 to {MAX_TC_STRING} characters")
    core, *others = text.split(".")
    if len(others) > 3 or not all(_SEGMENT.fullmatch(s) for s in (core, *others)):
        raise TcfStringError("a TC string is up to four base64url segments joined by dots")
    consent = _core(core)
    seen: set[int] = set()
    for segment in others:
        _other(segment, seen)
    return consent
