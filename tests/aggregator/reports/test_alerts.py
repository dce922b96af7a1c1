"""Alerts: the method on published aggregates written by hand (a rise against the four weeks
before, a funnel step's drop, a suppressed day that keeps a block out), and a spike
planted by the simulator reaching a real webhook receiver and a real SMTP server once
(both backends)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from aggregator.cases.desk import CaseDesk
from aggregator.jobs.alerts import AlertJob
from aggregator.jobs.sessions import SessionsJob
from aggregator.jobs.signals import SignalsJob
from aggregator.jobs.summaries import COLUMNS, SummariesJob
from aggregator.reports.alerts import site_alerts
from aggregator.store.client import Store
from aggregator.webhooks.signature import SIGNATURE_HEADER, verify_signature
from clearsignal.settings import MailSettings, Settings, StoreSettings, WebhookSettings, demo_site
from consent.pseudonyms import SiteKeys
from simulator.simulation import simulate
from tests.support.smtp_server import SmtpServer
from tests.support.webhook_receiver import WebhookReceiver

NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
SECRET = "alert-secret-" + "0123456789abcdef" * 2


def settings_for(tmp_path: Path, dsn: str, database: str, **response: object) -> Settings:
    site = demo_site()
    site = site.model_copy(
        update={"k_anonymity": 3, "response": site.response.model_copy(update=response)}
    )
    return Settings(
        data_dir=tmp_path / "data", store=StoreSettings(dsn=dsn, database=database), sites=[site]
    )


def publish(store: Store, days: dict[date, dict[tuple[str, str], int | None]]) -> None:
    rows = [
        ["demo", day, metric, dimension, float(n or 0), n or 0, n is None, NOW]
        for day, cells in days.items()
        for (metric, dimension), n in cells.items()
    ]
    store.insert("site_summaries", rows, COLUMNS)


def desk(store: Store, settings: Settings) -> CaseDesk:
    site = settings.sites[0]
    return CaseDesk(store, site, SiteKeys(settings.site_key_dir).key(site.id))


def history(
    current: int, suppressed_day: bool = False
) -> dict[date, dict[tuple[str, str], int | None]]:
    """35 days to yesterday: 100 identified visitors a day, 5 with price uncertainty (6 on
    odd days) in the four weeks before, ``current`` a day in the last seven; a funnel whose
    shipping-to-payment conversion falls from 80% to 50% in the last seven."""
    last = NOW.date() - timedelta(days=1)
    found = {}
    for n in range(35):
        day = last - timedelta(days=n)
        recent = n < 7
        signal: int | None = current if recent else 5 + n % 2
        if suppressed_day and n == 3:
            signal = None
        found[day] = {
            ("identified_visitors", ""): 100,
            ("signal_visitors", "price_uncertainty"): signal,
            ("visitors", ""): 200,
            ("funnel_reached", "01 cart"): 100,
            ("funnel_reached", "02 shipping"): 50,
            ("funnel_reached", "03 payment"): 25 if recent else 40,
            ("funnel_reached", "04 purchase"): 20 if recent else 30,
        }
    return found


def test_a_rise_and_a_drop_against_the_four_weeks_before(
    migrated_store: Store, tmp_path: Path, dsn: str, database: str
) -> None:
    settings = settings_for(tmp_path, dsn, database)
    publish(migrated_store, history(current=12))

    alerts = {(a.kind, a.subject): a for a in site_alerts(desk(migrated_store, settings), NOW)}

    assert set(alerts) == {("signal_rise", "price_uncertainty"), ("funnel_drop", "payment")}
    rise = alerts["signal_rise", "price_uncertainty"]
    # baseline blocks: 5.43%, 5.57%, 5.43%, 5.57% (mean 5.5%, sd 0.07 points): limit 7.5%
    assert rise.value == pytest.approx(0.12)
    assert rise.baseline == pytest.approx(0.055, abs=0.001)
    assert rise.limit == pytest.approx(0.075, abs=0.001)
    assert rise.key == "signal_rise:price_uncertainty:2026-11-29"
    drop = alerts["funnel_drop", "payment"]
    assert (drop.value, drop.baseline) == (pytest.approx(0.5), pytest.approx(0.8))
    # purchase per payment: 20/25 = 80% now, 30/40 = 75% before: no drop


def test_no_rise_below_the_limit_and_no_figure_from_a_suppressed_day(
    migrated_store: Store, tmp_path: Path, dsn: str, database: str
) -> None:
    settings = settings_for(tmp_path, dsn, database)
    publish(migrated_store, history(current=7))  # 7% < 7.5%
    kinds = {(a.kind, a.subject) for a in site_alerts(desk(migrated_store, settings), NOW)}
    assert ("signal_rise", "price_uncertainty") not in kinds

    publish(migrated_store, history(current=40, suppressed_day=True))
    kinds = {(a.kind, a.subject) for a in site_alerts(desk(migrated_store, settings), NOW)}
    assert ("signal_rise", "price_uncertainty") not in kinds  # a day under k: no figure


def test_a_spike_planted_by_the_simulator_is_sent_once_by_webhook_and_mail(
    migrated_store: Store, tmp_path: Path, dsn: str, database: str
) -> None:
    base = settings_for(
        tmp_path, dsn, database, alert_thresholds={"price_uncertainty": 0.05},
        notify=["team@shop.test"],
    )  # fmt: skip
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    # Ten days, so that the first of the last seven already has its plants (a sliding
    # window needs the days before it); the usual share is about 2%, the surge's 7%.
    simulate(migrated_store, base, 2000, 10, seed=1, end=end)
    simulate(migrated_store, base, 800, 10, seed=2, end=end, surge={"price_uncertainty": 0.5})
    for job in (SessionsJob, SignalsJob, SummariesJob):
        job(migrated_store, base).run_once()  # type: ignore[abstract]
    with WebhookReceiver() as receiver, SmtpServer(tmp_path) as smtp:
        hook = WebhookSettings(url=receiver.url, secret=SECRET)
        mail = MailSettings(host="127.0.0.1", port=smtp.port, security="none")
        site = base.sites[0].model_copy(update={"webhook": hook})
        settings = base.model_copy(update={"sites": [site], "mail": mail})
        job = AlertJob(migrated_store, settings, clock=lambda: end + timedelta(hours=7))
        first = job.run_once()
        second = job.run_once()
    assert (first.found, first.sent, first.failed) == (1, 2, 0)
    assert (second.found, second.sent) == (first.found, 0)  # sent once
    (request,) = receiver.requests
    sent = json.loads(request.body)
    assert sent["alert"]["subject"] == "price_uncertainty"
    assert sent["text"].startswith("ClearSignal demo shop: Price uncertainty rose to ")
    signature = request.header(SIGNATURE_HEADER)
    assert verify_signature(
        SECRET.encode(), signature, request.body, (end + timedelta(hours=7)).timestamp()
    )
    (message,) = smtp.messages
    assert "Price uncertainty rose" in message["Subject"]
