"""What a webhook delivery sends, and how: the JSON body, its signed headers, and the
transport that POSTs them (docs/webhooks.md).

The body names the visitor only by ``subject``, a pseudonym keyed with the site's webhook
secret: never the browser id, the stored visitor key, an address or a user agent.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from typing import IO, Protocol

from aggregator.signals.stored import StoredSignal
from aggregator.webhooks.signature import SIGNATURE_HEADER, sign
from clearsignal.clock import wire_time
from consent.entries import canonical_json

__all__ = ["USER_AGENT", "Transport", "WebhookPayload", "post_webhook", "signed_headers", "subject"]

USER_AGENT = "ClearSignal-Webhook/1"
_ANSWER_BYTES = 64 * 1024  # read (and drop) at most this much of a receiver's answer


def subject(secret: bytes, visitor_key: str) -> str:
    """The visitor as a webhook names them: 128 bits of HMAC-SHA256 under the webhook secret.

    Stable for one visitor and secret, so a site can tell that two signals concern the
    same visitor; nothing without the secret links it to the stored key."""
    message = b"clearsignal-subject\x00" + visitor_key.encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class WebhookPayload:
    id: str  # the delivery id: the same on every attempt, for receivers to deduplicate
    signal: StoredSignal
    subject: str
    sent_at: datetime

    def body(self) -> bytes:
        """Canonical JSON (sorted keys, no spaces): the exact bytes that are signed."""
        signal = self.signal
        return canonical_json({
            "id": self.id,
            "site": signal.site,
            "rule": {"id": signal.rule_id, "version": signal.rule_version, "title": signal.title},
            "window": {"start": wire_time(signal.window_start), "end": wire_time(signal.window_end)},
            "value": signal.value,
            "subject": self.subject,
            "sent_at": wire_time(self.sent_at),
        })  # fmt: skip


def signed_headers(secret: bytes, body: bytes, sent_at: datetime) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign(secret, int(sent_at.timestamp()), body),
    }


class Transport(Protocol):
    def __call__(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
        """POST ``body``; return the answer's HTTP status, or raise OSError if none came."""
        ...


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer like any non-2xx one: the signed body is not sent on."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Message,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def post_webhook(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
    """The default transport: one HTTP POST with the standard library, no redirects."""
    # The URL comes from the settings, which accept http(s) URLs only.
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")  # noqa: S310
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            response.read(_ANSWER_BYTES)
            return int(response.status)
    except urllib.error.HTTPError as answer:
        answer.close()
        return int(answer.code)
    except http.client.HTTPException as exc:
        raise ConnectionError(f"the answer was not HTTP ({type(exc).__name__})") from exc
