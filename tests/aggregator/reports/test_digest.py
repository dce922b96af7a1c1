"""The weekly digest over a real SMTP server on loopback: sent on the site's day once a
week, its figures k-anonymous, and sent again after the relay was away (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aggregator.cases.state import Action
from aggregator.jobs.digests import DigestJob
from aggregator.store.client import Store
from clearsignal.settings import MailSettings
from tests.support.case_shop import CaseShop, case_settings
from tests.support.smtp_server import SmtpServer

MONDAY_7 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


@pytest.fixture
def shop(migrated_store: Store, tmp_path: Path, dsn: str, database: str) -> CaseShop:
    settings = case_settings(tmp_path, dsn, database)
    response = settings.sites[0].response.model_copy(update={"notify": ["team@shop.test"]})
    demo = settings.sites[0].model_copy(update={"k_anonymity": 3, "response": response})
    sites = [demo, *settings.sites[1:]]
    return CaseShop.open(
        migrated_store, settings.model_copy(update={"sites": sites}), MONDAY_7 - timedelta(days=3)
    )


def digest_job(shop: CaseShop, port: int, when: datetime) -> DigestJob:
    mail = MailSettings(host="127.0.0.1", port=port, security="none", sender="cs@shop.test")
    settings = shop.settings.model_copy(update={"mail": mail})
    return DigestJob(shop.store, settings, clock=lambda: when)


def test_the_digest_goes_once_on_the_sites_day_with_k_anonymous_figures(
    shop: CaseShop, tmp_path: Path
) -> None:
    customers = [shop.customer() for _ in range(4)]
    for who in customers:
        shop.finding(who, "churn_risk", ended=timedelta(hours=2))
    shop.run()
    book = shop.book()
    for case in book.states("demo")[:2]:
        book.act(case, Action.RESOLVED, "admin:ana", now=case.record.opened_at + timedelta(hours=3))

    with SmtpServer(tmp_path) as smtp:
        assert (
            digest_job(shop, smtp.port, MONDAY_7 - timedelta(hours=2)).run_once().sent == 0
        )  # 05:00
        assert (
            digest_job(shop, smtp.port, MONDAY_7 + timedelta(days=1)).run_once().sent == 0
        )  # Tuesday
        assert digest_job(shop, smtp.port, MONDAY_7).run_once().sent == 1
        assert digest_job(shop, smtp.port, MONDAY_7 + timedelta(hours=1)).run_once().sent == 0
    (mail,) = smtp.messages
    assert mail["To"] == "team@shop.test"
    assert mail["Subject"] == "ClearSignal weekly digest: ClearSignal demo shop, week of 2026-11-16"
    text = mail.get_payload()
    assert "Cases open: fewer than 3; overdue (open for more than 24 h): fewer than 3" in text
    assert "50% of 4 due cases resolved within 24 h (target 90%)" in text
    assert customers[0].reference not in text


def test_a_relay_that_is_away_is_tried_again_next_hour(shop: CaseShop, tmp_path: Path) -> None:
    with SmtpServer(tmp_path) as smtp:
        port = smtp.port
    away = digest_job(shop, port, MONDAY_7).run_once()
    assert (away.sent, away.failed) == (0, 1)
    with SmtpServer(tmp_path) as back:
        again = digest_job(shop, back.port, MONDAY_7 + timedelta(hours=1)).run_once()
    assert (again.sent, again.failed) == (1, 0)
    assert len(back.messages) == 1
