"""Signed webhooks: tell a site, server to server, that a visitor who allows
personalization gained a signal (docs/webhooks.md).

Each run, for the sites with a ``webhook`` setting:

1. *queue*: every stored signal whose window ended within ``RECENT`` (so that enabling
   a webhook does not replay a site's history) and whose visitor's current consent
   grants analytics and personalization gets a delivery, logged as ``pending``. Its id
   is derived from the signal's key (site, visitor key, rule, window start), so a signal
   found again, or recomputed, is never queued twice;
2. *cancel*: open deliveries (``pending``, ``retrying``) whose visitor no longer allows
   personalization (withdrawn, expired, erased), or whose signal is gone, are logged as
   ``cancelled`` and never sent;
3. *send*: open deliveries that are due, oldest first, at most ``batch_size`` a run.
   Consent is checked again in the query that picks them. A 2xx answer is
   ``delivered``; anything else (another status, a timeout, no connection) is
   ``retrying`` after ``retry_delay(attempt)``, or ``failed`` after the site's
   ``max_attempts``.

Every step is a row of ``webhook_deliveries``. The payload names the visitor only by
``subject``, a pseudonym keyed with the site's webhook secret: never the browser id,
the stored visitor key, an address or a user agent.

Runs in one process are serialised by a lock. Delivery is at least once: a process that
stops between a send and its log row sends again on the next run, and two scheduler
processes may both send a due delivery; receivers deduplicate by ``id``.
"""

from __future__ import annotations

import threading
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aggregator.signals.rules import RULES
from aggregator.signals.stored import FINDING_ID_SQL, SIGNAL_COLUMNS, StoredSignal
from aggregator.store.client import Store
from aggregator.webhooks.request import (
    Transport,
    WebhookPayload,
    post_webhook,
    signed_headers,
    subject,
)
from clearsignal.clock import utc_now
from clearsignal.purposes import Purpose
from clearsignal.settings import Settings, WebhookSettings
from consent.queries import consented_sql

__all__ = ["BATCH_SIZE", "RECENT", "WebhookJob", "WebhookRun", "retry_delay"]

RECENT = timedelta(days=7)
BATCH_SIZE = 500
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=6)
_COLUMNS = (
    "delivery_id", "site", "visitor_key", "rule_id", "rule_version", "window_start",
    "attempt", "status", "http_status", "error", "attempted_at", "next_attempt_at",
    "expires_at",
)  # fmt: skip


def retry_delay(attempt: int) -> timedelta:
    """How long to wait after failed attempt number ``attempt`` (1, 2, ...)."""
    doublings = min(max(attempt - 1, 0), 16)  # 2**16 * 30 s is far beyond MAX_RETRY already
    return min(FIRST_RETRY * (1 << doublings), MAX_RETRY)


@dataclass
class WebhookRun:
    queued: int = 0  # deliveries created for newly found signals
    delivered: int = 0
    retrying: int = 0  # attempts that failed and will be tried again
    failed: int = 0  # deliveries given up after max_attempts
    cancelled: int = 0


@dataclass(frozen=True)
class _Delivery:
    """What every log row of a delivery repeats."""

    delivery_id: str
    site: str
    visitor_key: str
    rule_id: str
    rule_version: int
    window_start: datetime
    attempts: int  # HTTP attempts made so far
    expires_at: datetime


@dataclass(frozen=True)
class _Due:
    """A delivery to send now, and its signal."""

    delivery: _Delivery
    signal: StoredSignal


_CONSENTED = f"""
consented AS ({
    consented_sql(
        Purpose.PERSONALIZATION, "site IN {sites:Array(String)}", "{now:DateTime64(3, 'UTC')}"
    )
})"""
_OPEN = """
open AS (
    SELECT delivery_id, site, visitor_key, rule_id, window_start,
           argMax(rule_version, (attempt, toUInt8(status))) AS last_version,
           max(attempt) AS attempts,
           argMax(status, (attempt, toUInt8(status))) AS last_status,
           argMax(next_attempt_at, (attempt, toUInt8(status))) AS due_at,
           argMax(expires_at, (attempt, toUInt8(status))) AS last_expiry
    FROM webhook_deliveries FINAL
    WHERE site IN {sites:Array(String)}
    GROUP BY delivery_id, site, visitor_key, rule_id, window_start
    HAVING last_status IN ('pending', 'retrying')
)"""
_STORED_SIGNALS = f"""
    SELECT {SIGNAL_COLUMNS}
    FROM signals FINAL
    WHERE site IN {{sites:Array(String)}} AND expires_at > {{now:DateTime64(3, 'UTC')}}"""

_NEW_SQL = f"""
WITH {_CONSENTED}
SELECT delivery_id, site, visitor_key, rule_id, rule_version, window_start, expires_at
FROM (
    SELECT *, {FINDING_ID_SQL} AS delivery_id
    FROM ({_STORED_SIGNALS}
          AND rule_id IN {{rules:Array(String)}}
          AND window_end >= {{recent:DateTime64(3, 'UTC')}}
          AND (site, visitor_key) IN consented)
)
WHERE delivery_id NOT IN (
    SELECT delivery_id FROM webhook_deliveries WHERE site IN {{sites:Array(String)}})
ORDER BY site, window_start, delivery_id
"""
_CANCEL_SQL = f"""
WITH {_CONSENTED}, {_OPEN}
SELECT delivery_id, site, visitor_key, rule_id, last_version, window_start, attempts,
       last_expiry, (site, visitor_key) IN consented AS consents
FROM open
WHERE NOT consents
   OR (site, visitor_key, rule_id, window_start) NOT IN (
        SELECT site, visitor_key, rule_id, window_start FROM ({_STORED_SIGNALS}))
ORDER BY delivery_id
"""
_SIGNAL_OF_S = ", ".join(f"s.{c} AS {c}" for c in SIGNAL_COLUMNS.split(", "))
_DUE_SQL = f"""
WITH {_CONSENTED}, {_OPEN}
SELECT o.delivery_id AS delivery_id, o.attempts AS attempts, {_SIGNAL_OF_S}
FROM open AS o
INNER JOIN ({_STORED_SIGNALS}
            AND (site, visitor_key) IN (SELECT site, visitor_key FROM open)) AS s
    ON s.site = o.site AND s.visitor_key = o.visitor_key AND s.rule_id = o.rule_id
   AND s.window_start = o.window_start
WHERE o.due_at <= {{now:DateTime64(3, 'UTC')}} AND (o.site, o.visitor_key) IN consented
ORDER BY o.due_at, o.delivery_id
LIMIT {{limit:UInt32}}
"""


def _describe(exc: OSError, timeout: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, urllib.error.URLError):
        return f"could not connect: {exc.reason}"[:500]
    return f"{type(exc).__name__}: {exc}"[:500]


class WebhookJob:
    """Queues, cancels and sends webhook deliveries; ``run_once`` is the job "webhooks.deliver"."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        clock: Callable[[], datetime] = utc_now,
        send: Transport = post_webhook,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock
        self._send = send
        self._batch_size = batch_size
        self._lock = threading.Lock()
        self._next_retry: datetime | None = None

    def run_once(self) -> WebhookRun:
        with self._lock:
            run = WebhookRun()
            webhooks = {s.id: s.webhook for s in self._settings.sites if s.webhook is not None}
            if not webhooks:
                return run
            now = self._clock()
            parameters: dict[str, Any] = {"sites": sorted(webhooks), "now": now}
            run.queued = self._queue(parameters | {"rules": [r.id for r in RULES]}, now)
            run.cancelled = self._cancel(parameters, now)
            due = self._due(parameters)
            for delivery in due:
                self._attempt(delivery, webhooks[delivery.delivery.site], run)
            more = len(due) >= self._batch_size  # the batch left some that are due already
            self._next_retry = (
                now
                if more
                else self._store.scalar(
                    f"WITH {_OPEN} SELECT minOrNull(due_at) FROM open WHERE last_status = 'retrying'",
                    parameters,
                )
            )
            return run

    def retry_due(self) -> bool:
        """Whether a delivery waits for a retry whose time has come, with nothing new to
        deliver (``Job.due``): as far as this process's last run knows."""
        return self._next_retry is not None and self._next_retry <= self._clock()

    def _due(self, parameters: dict[str, Any]) -> list[_Due]:
        due = []
        for row in self._store.dicts(_DUE_SQL, parameters | {"limit": self._batch_size}):
            signal = StoredSignal.from_row(row)
            delivery = _Delivery(
                str(row["delivery_id"]), signal.site, signal.visitor_key, signal.rule_id,
                signal.rule_version, signal.window_start, int(row["attempts"]),
                signal.expires_at,
            )  # fmt: skip
            due.append(_Due(delivery, signal))
        return due

    def _queue(self, parameters: dict[str, Any], now: datetime) -> int:
        found = self._store.rows(_NEW_SQL, parameters | {"recent": now - RECENT})
        rows = [
            [delivery_id, site, key, rule_id, version, start, 0, "pending", 0, "", now, now, end]
            for delivery_id, site, key, rule_id, version, start, end in found
        ]
        if rows:
            self._store.insert("webhook_deliveries", rows, _COLUMNS)
        return len(rows)

    def _cancel(self, parameters: dict[str, Any], now: datetime) -> int:
        rows = []
        for *fields, consents in self._store.rows(_CANCEL_SQL, parameters):
            reason = "signal no longer stored" if consents else "no personalization consent"
            delivery_id, site, key, rule_id, version, start, attempts, expires_at = fields
            delivery = _Delivery(
                delivery_id, site, key, rule_id, version, start, attempts, expires_at
            )
            rows.append(self._log_row(delivery, delivery.attempts, "cancelled", 0, reason, now))
        if rows:
            self._store.insert("webhook_deliveries", rows, _COLUMNS)
        return len(rows)

    def _attempt(self, due: _Due, webhook: WebhookSettings, run: WebhookRun) -> None:
        delivery = due.delivery
        secret = webhook.secret.get_secret_value().encode()
        attempt = delivery.attempts + 1
        sent_at = self._clock()
        body = WebhookPayload(
            delivery.delivery_id, due.signal, subject(secret, delivery.visitor_key), sent_at
        ).body()
        headers = signed_headers(secret, body, sent_at)
        try:
            http_status = self._send(webhook.url, body, headers, webhook.timeout_seconds)
            error = "" if 200 <= http_status < 300 else f"answered HTTP {http_status}"
        except OSError as exc:
            http_status, error = 0, _describe(exc, webhook.timeout_seconds)
        retry_at = None
        if not error:
            status = "delivered"
            run.delivered += 1
        elif attempt >= webhook.max_attempts:
            status = "failed"
            run.failed += 1
        else:
            status, retry_at = "retrying", sent_at + retry_delay(attempt)
            run.retrying += 1
        row = self._log_row(delivery, attempt, status, http_status, error, sent_at, retry_at)
        self._store.insert("webhook_deliveries", [row], _COLUMNS)

    @staticmethod
    def _log_row(
        delivery: _Delivery,
        attempt: int,
        status: str,
        http_status: int,
        error: str,
        at: datetime,
        next_attempt_at: datetime | None = None,
    ) -> list[Any]:
        return [
            delivery.delivery_id, delivery.site, delivery.visitor_key, delivery.rule_id,
            delivery.rule_version, delivery.window_start, attempt, status, http_status, error,
            at, next_attempt_at, delivery.expires_at,
        ]  # fmt: skip
