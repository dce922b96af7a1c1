"""Consent decisions and the canonical bytes of their log entries.

An entry is UTF-8 JSON with sorted keys and no insignificant whitespace, so that anyone
holding a receipt can rebuild the exact bytes whose SHA-256 (RFC 6962 leaf hash) is in
the transparency log. Its fields follow ISO/IEC 27560 / Kantara consent receipts:
who decided (a pseudonym), for which controller and site, which purposes with which
choice and lawful basis, on which notice (URI, version, language, SHA-256 of its text),
how (method), when, and until when.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from clearsignal.clock import wire_time
from clearsignal.purposes import Purpose
from clearsignal.settings import SiteSettings
from consent.state import ConsentState

__all__ = [
    "ENTRY_VERSION",
    "ConsentDecision",
    "Erasure",
    "build_entry",
    "build_erasure_entry",
    "canonical_json",
    "notice_sha256",
]

ENTRY_VERSION = 1


@dataclass(frozen=True)
class ConsentDecision:
    site: str
    browser_id: str
    choices: dict[Purpose, bool]
    notice_version: str
    method: str  # banner | api | gpc | cmp | page | delete_request | site_delete_request
    kind: str = "consent"  # consent | withdrawal (the ledger also makes a denial after a grant one)
    client_time: datetime | None = None
    tcf: str | None = None
    gcm: dict[str, str] | None = None
    gpc: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    subject: str | None = None
    """The visitor key, when the request names the visitor by pseudonym rather than by
    browser id (a site's deletion for a customer reference: ``consent.customer_erasure``)."""


def canonical_json(value: object) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def notice_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _time(value: datetime | None) -> str | None:
    return wire_time(value) if value else None


@dataclass(frozen=True)
class Erasure:
    """A completed erasure: what was deleted for whom, at whose request."""

    site: str
    visitor_key: str
    request_receipt_id: str
    rows_deleted: dict[str, int]  # table -> rows


def build_entry(
    site: SiteSettings, subject: str, decision: ConsentDecision, state: ConsentState
) -> bytes:
    purposes = []
    for purpose in site.purposes:
        if purpose.id == Purpose.MEASUREMENT:
            granted = not (decision.gpc and not state.analytics) and decision.kind == "consent"
        elif purpose.id == Purpose.ANALYTICS:
            granted = state.analytics
        else:
            granted = state.personalization
        purposes.append(
            {
                "id": purpose.id.value,
                "choice": "granted" if granted else "denied",
                "lawful_basis": purpose.lawful_basis.value,
            }
        )
    return canonical_json(
        {
            **_common(site, subject, decision.kind, state),
            "purposes": purposes,
            "notice": _notice(site, decision.notice_version),
            "method": decision.method,
            "gpc": decision.gpc,
            "recorded_at": _time(state.recorded_at),
            "client_time": _time(decision.client_time),
            "expires_at": _time(state.expires_at),
            "tcf": decision.tcf,
            "gcm": decision.gcm,
        }
    )


def build_erasure_entry(site: SiteSettings, erasure: Erasure, state: ConsentState) -> bytes:
    """The leaf that proves an erasure was carried out, and what it removed."""
    return canonical_json(
        {
            **_common(site, erasure.visitor_key, "erasure", state),
            "request_receipt_id": erasure.request_receipt_id,
            "rows_deleted": erasure.rows_deleted,
            "notice": _notice(site, site.notice.version),
            "method": "erasure",
            "recorded_at": _time(state.recorded_at),
        }
    )


def _common(site: SiteSettings, subject: str, kind: str, state: ConsentState) -> dict[str, Any]:
    return {
        "entry_version": ENTRY_VERSION,
        "kind": kind,
        "receipt_id": state.receipt_id,
        "controller": site.controller or site.name or site.id,
        "site": site.id,
        "subject": subject,
    }


def _notice(site: SiteSettings, version: str) -> dict[str, str]:
    return {
        "uri": site.notice.uri,
        "version": version,
        "language": site.notice.language,
        "sha256": notice_sha256(site.notice.text),
    }
