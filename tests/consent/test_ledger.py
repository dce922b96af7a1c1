"""The ledger's cache across processes: what one process records reaches another within
``[ingest] consent_cache_seconds``."""

from __future__ import annotations

import secrets
import time

from clearsignal.purposes import Purpose
from clearsignal.settings import IngestSettings
from consent.entries import ConsentDecision
from consent.ledger import UNKNOWN, ConsentLedger
from consent.pseudonyms import SiteKeys
from tests.consent.conftest import ConsentWorld

BOUND = 0.5


def decision(browser_id: str, analytics: bool) -> ConsentDecision:
    choices = {Purpose.ANALYTICS: analytics, Purpose.PERSONALIZATION: analytics}
    return ConsentDecision(
        site="demo", browser_id=browser_id, choices=choices, notice_version="1", method="banner"
    )


def test_a_withdrawal_in_one_process_reaches_another_that_recorded_the_grant_within_the_bound(
    world: ConsentWorld,
) -> None:
    settings = world.settings.model_copy(
        update={"ingest": IngestSettings(consent_cache_seconds=BOUND)}
    )
    keys = SiteKeys(settings.site_key_dir)
    collector_a = ConsentLedger(world.store, settings, keys)
    collector_b = ConsentLedger(world.store, settings, keys)
    browser_id = secrets.token_urlsafe(16)
    granted = collector_b.record(decision(browser_id, True))
    collector_a.record(decision(browser_id, False))

    state = collector_b.cached("demo", granted.visitor_key)
    assert state is not UNKNOWN
    assert state is not None
    assert state.analytics
    time.sleep(BOUND + 0.1)
    assert collector_b.cached("demo", granted.visitor_key) is UNKNOWN
    now = collector_b.current("demo", granted.visitor_key)
    assert now is not None
    assert not now.analytics
