"""Signed webhooks sent to a real HTTP receiver on 127.0.0.1 (store tests on both backends)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aggregator.jobs.signals import SignalsJob
from aggregator.jobs.webhooks import WebhookJob, retry_delay
from aggregator.store.client import Store
from aggregator.webhooks.request import subject
from aggregator.webhooks.signature import SIGNATURE_HEADER, sign, verify_signature
from clearsignal.purposes import Purpose
from clearsignal.settings import (
    NoticeSettings,
    Settings,
    SiteSettings,
    StoreSettings,
    WebhookSettings,
    demo_site,
)
from consent.entries import ConsentDecision
from consent.erasure import Eraser
from consent.ledger import ConsentLedger
from consent.pseudonyms import SiteKeys
from tests.support.event_history import COLUMNS, NOW, Visitor
from tests.support.webhook_receiver import WebhookReceiver

SECRET = "whsec-" + "4f1c9a7e" * 5
SIGNAL_COLUMNS = [
    "site", "visitor_key", "rule_id", "rule_version", "window_start", "window_end", "value",
    "computed_at", "expires_at",
]  # fmt: skip


class Clock:
    """The job's and the ledger's clock, moved by the test instead of sleeping."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class HookedShop:
    """The demo shop with a webhook to ``receiver``, plus a site ``quiet`` without one."""

    store: Store
    settings: Settings
    ledger: ConsentLedger
    clock: Clock
    receiver: WebhookReceiver

    def job(self, **options: Any) -> WebhookJob:
        return WebhookJob(self.store, self.settings, clock=self.clock, **options)

    def decide(self, browser_id: str, site: str = "demo", **choices: bool) -> str:
        self.clock.advance(timedelta(milliseconds=10))
        purposes = {Purpose(name): granted for name, granted in choices.items()}
        self.ledger.record(ConsentDecision(site, browser_id, purposes, "1", "banner"))
        return self.ledger.visitor_key(site, browser_id)

    def visitor(self, personalization: bool = True, site: str = "demo") -> tuple[str, str]:
        """A browser id and its visitor key, with analytics and maybe personalization."""
        browser_id = secrets.token_urlsafe(16)
        key = self.decide(browser_id, site, analytics=True, personalization=personalization)
        return browser_id, key

    def gain(
        self, key: str, rule_id: str = "price_uncertainty", ended: timedelta = timedelta(hours=1)
    ) -> None:
        """A stored signal of the visitor's whose window ended ``ended`` ago."""
        end = self.clock.now - ended
        site = self.site_of(key)
        self.store.insert(
            "signals",
            [[site, key, rule_id, 1, end - timedelta(days=2), end, 3.0, end, end + timedelta(days=180)]],
            SIGNAL_COLUMNS,
        )  # fmt: skip

    def site_of(self, key: str) -> str:
        return str(
            self.store.scalar(
                "SELECT site FROM consent_records WHERE visitor_key = {k:String} LIMIT 1",
                {"k": key},
            )
        )

    def log(self) -> list[dict[str, Any]]:
        return self.store.dicts(
            "SELECT delivery_id, visitor_key, attempt, status, http_status, error, "
            "attempted_at, next_attempt_at FROM webhook_deliveries FINAL "
            "ORDER BY delivery_id, attempt, status"
        )

    def later(self, delta: timedelta) -> None:
        self.clock.advance(delta)


def shop_settings(tmp_path: Path, dsn: str, database: str, url: str, **webhook: Any) -> Settings:
    quiet = SiteSettings(
        id="quiet",
        allowed_origins=["http://127.0.0.1:8001"],
        notice=NoticeSettings(uri="http://127.0.0.1:8001/privacy", version="1", text="Notice."),
    )
    hook = WebhookSettings(url=url, secret=SECRET, **webhook)
    return Settings(
        data_dir=tmp_path / "data",
        store=StoreSettings(dsn=dsn, database=database),
        sites=[demo_site().model_copy(update={"webhook": hook}), quiet],
    )


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


@pytest.fixture
def webhook_options() -> dict[str, Any]:
    return {}


@pytest.fixture
def shop(
    migrated_store: Store,
    tmp_path: Path,
    dsn: str,
    database: str,
    receiver: WebhookReceiver,
    webhook_options: dict[str, Any],
) -> HookedShop:
    settings = shop_settings(tmp_path, dsn, database, receiver.url, **webhook_options)
    clock = Clock(NOW)
    ledger = ConsentLedger(migrated_store, settings, SiteKeys(settings.site_key_dir), clock=clock)
    return HookedShop(migrated_store, settings, ledger, clock, receiver)


def test_a_consented_visitors_new_signal_is_delivered_once_and_signed(shop: HookedShop) -> None:
    browser_id = secrets.token_urlsafe(16)
    key = shop.decide(browser_id, analytics=True, personalization=True)
    visitor = Visitor(key)
    for day in (6, 4, 1):
        visitor.add(NOW - timedelta(days=day), path="/demo/pricing")
    shop.store.insert("events", visitor.events, COLUMNS)
    SignalsJob(shop.store, shop.settings, clock=shop.clock).run_once()

    run = shop.job().run_once()

    assert (run.queued, run.delivered, run.retrying, run.failed, run.cancelled) == (1, 1, 0, 0, 0)
    (request,) = shop.receiver.requests
    assert request.path == "/hooks/clearsignal"
    assert request.header("Content-Type") == "application/json"
    assert key.encode() not in request.body
    assert browser_id.encode() not in request.body
    sent = json.loads(request.body)
    assert set(sent) == {"id", "site", "rule", "window", "value", "subject", "sent_at"}
    assert sent["site"] == "demo"
    assert sent["rule"] == {"id": "price_uncertainty", "version": 1, "title": "Price uncertainty"}
    assert sent["value"] == 3.0
    assert sent["subject"] == subject(SECRET.encode(), key) != key
    assert sent["sent_at"] == "2026-11-20T12:00:00.010Z"
    assert sent["window"]["end"] == "2026-11-19T12:00:00.000Z"

    secret, header, now = SECRET.encode(), request.header(SIGNATURE_HEADER), NOW.timestamp()
    assert verify_signature(secret, header, request.body, now)
    assert not verify_signature(secret, header, request.body.replace(b"3.0", b"9.0"), now)
    assert not verify_signature(secret, header, request.body, now + 301)
    assert not verify_signature(b"another secret of at least 32 chars", header, request.body, now)

    shop.later(timedelta(hours=1))
    again = shop.job().run_once()
    SignalsJob(shop.store, shop.settings, clock=shop.clock).run_once(full=True)
    assert shop.job().run_once() == again
    assert (again.queued, again.delivered) == (0, 0)
    assert len(shop.receiver.requests) == 1
    log = shop.log()
    assert [(r["attempt"], r["status"], r["http_status"]) for r in log] == [
        (0, "pending", 0),
        (1, "delivered", 200),
    ]
    assert {r["delivery_id"] for r in log} == {sent["id"]}


def test_no_webhook_without_personalization_consent_or_for_old_signals(shop: HookedShop) -> None:
    _, analytics_only = shop.visitor(personalization=False)
    _, consented = shop.visitor()
    shop.gain(analytics_only)
    shop.gain(consented, ended=timedelta(days=7, minutes=1))

    run = shop.job().run_once()

    assert run.queued == 0
    assert shop.receiver.requests == []
    assert shop.log() == []


def test_a_site_without_a_webhook_sends_nothing(shop: HookedShop) -> None:
    _, key = shop.visitor(site="quiet")
    shop.gain(key)

    shop.job().run_once()
    shop.settings = shop.settings.model_copy(update={"sites": shop.settings.sites[1:]})
    assert shop.job().run_once().queued == 0

    assert shop.receiver.requests == []
    assert shop.log() == []


def test_withdrawing_before_delivery_cancels_the_pending_deliveries(shop: HookedShop) -> None:
    browser_id, key = shop.visitor()
    shop.gain(key, "price_uncertainty")
    shop.gain(key, "repeated_contact")
    shop.receiver.fail_first = 1

    first = shop.job(batch_size=1).run_once()
    assert (first.queued, first.retrying) == (2, 1)
    shop.decide(browser_id, analytics=True, personalization=False)
    shop.later(timedelta(hours=1))
    second = shop.job().run_once()

    assert (second.cancelled, second.delivered, second.retrying) == (2, 0, 0)
    assert len(shop.receiver.requests) == 1
    states = [(r["attempt"], r["status"]) for r in shop.log()]
    assert sorted(states) == [
        (0, "cancelled"), (0, "pending"), (0, "pending"), (1, "cancelled"), (1, "retrying"),
    ]  # fmt: skip
    assert shop.job().run_once().cancelled == 0


def test_a_delivery_whose_signal_expired_is_cancelled(shop: HookedShop) -> None:
    _, key = shop.visitor()
    shop.gain(key)
    shop.receiver.fail_first = 1
    shop.job().run_once()

    shop.later(timedelta(days=180))
    run = shop.job().run_once()

    assert (run.cancelled, run.delivered) == (1, 0)
    assert len(shop.receiver.requests) == 1
    last = shop.log()[-1]
    assert (last["status"], last["error"]) == ("cancelled", "signal no longer stored")


def test_overlapping_runs_in_one_process_send_a_delivery_once(shop: HookedShop) -> None:
    _, key = shop.visitor()
    shop.gain(key)
    shop.receiver.delay = 0.5
    job = shop.job()

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda _: job.run_once(), range(2)))

    assert sorted((r.queued, r.delivered) for r in runs) == [(0, 0), (1, 1)]
    assert len(shop.receiver.requests) == 1


def test_failed_attempts_are_retried_with_growing_backoff_until_delivered(
    shop: HookedShop,
) -> None:
    _, key = shop.visitor()
    shop.gain(key)
    shop.receiver.fail_first = 2

    runs = [shop.job().run_once()]
    shop.later(timedelta(seconds=29))
    runs.append(shop.job().run_once())  # not due yet
    for wait in (timedelta(seconds=1), timedelta(seconds=60)):
        shop.later(wait)
        runs.append(shop.job().run_once())
    shop.later(timedelta(days=1))
    runs.append(shop.job().run_once())

    assert [(r.delivered, r.retrying) for r in runs] == [(0, 1), (0, 0), (0, 1), (1, 0), (0, 0)]
    assert len(shop.receiver.requests) == 3
    attempts = [r for r in shop.log() if r["attempt"] > 0]
    assert [(r["attempt"], r["status"], r["http_status"]) for r in attempts] == [
        (1, "retrying", 500),
        (2, "retrying", 500),
        (3, "delivered", 200),
    ]
    assert attempts[0]["error"] == "answered HTTP 500"
    first_retry, second_retry = (r["next_attempt_at"] for r in attempts[:2])
    assert first_retry - attempts[0]["attempted_at"] == timedelta(seconds=30)
    assert second_retry - attempts[1]["attempted_at"] == timedelta(seconds=60)
    assert first_retry < second_retry < attempts[2]["attempted_at"] + timedelta(seconds=1)
    assert attempts[2]["next_attempt_at"] is None
    ids = {json.loads(r.body)["id"] for r in shop.receiver.requests}
    assert len(ids) == 1


@pytest.mark.parametrize("webhook_options", [{"max_attempts": 3}])
def test_a_delivery_fails_after_max_attempts_and_is_not_sent_again(shop: HookedShop) -> None:
    _, key = shop.visitor()
    shop.gain(key)
    shop.receiver.status = 503

    runs = []
    for _ in range(5):
        runs.append(shop.job().run_once())
        shop.later(timedelta(hours=7))

    assert [(r.retrying, r.failed) for r in runs] == [(1, 0), (1, 0), (0, 1), (0, 0), (0, 0)]
    assert len(shop.receiver.requests) == 3
    assert shop.log()[-1]["status"] == "failed"


@pytest.mark.parametrize("webhook_options", [{"timeout_seconds": 0.3}])
def test_a_receiver_slower_than_the_timeout_is_a_failed_attempt(shop: HookedShop) -> None:
    _, key = shop.visitor()
    shop.gain(key)
    shop.receiver.delay = 5.0

    run = shop.job().run_once()

    assert (run.delivered, run.retrying) == (0, 1)
    last = shop.log()[-1]
    assert (last["status"], last["http_status"], last["error"]) == (
        "retrying",
        0,
        "no answer within 0.3 s",
    )


def test_an_erasure_removes_the_visitors_delivery_log(shop: HookedShop) -> None:
    browser_id, key = shop.visitor()
    _, other = shop.visitor()
    shop.gain(key)
    shop.gain(other)
    shop.job().run_once()
    shop.decide(browser_id, analytics=False)

    Eraser(shop.store, shop.ledger, clock=shop.clock).run_once()

    assert {r["visitor_key"] for r in shop.log()} == {other}


def test_a_signature_is_rejected_when_anything_is_off() -> None:
    secret, body, signed_at = b"k" * 32, b'{"id":"x"}', 1_790_000_000
    header = sign(secret, signed_at, body)
    assert header.startswith(f"t={signed_at},v1=")
    assert verify_signature(secret, header, body, signed_at + 300)
    assert verify_signature(secret, f"v0=ab,{header},v1=00", body, signed_at)
    assert not verify_signature(secret, header, body, signed_at - 301)
    assert not verify_signature(secret, header, body + b" ", signed_at)
    assert not verify_signature(secret, header.replace("t=", "t=1"), body, signed_at)
    assert not verify_signature(secret, header.split(",")[1], body, signed_at)
    assert not verify_signature(secret, "", body, signed_at)


def test_the_retry_delay_doubles_from_thirty_seconds_up_to_six_hours() -> None:
    delays = [retry_delay(attempt).total_seconds() for attempt in range(1, 12)]
    assert delays[:4] == [30, 60, 120, 240]
    assert delays[-1] == 6 * 3600
    assert delays == sorted(delays)
