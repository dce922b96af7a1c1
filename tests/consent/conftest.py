"""A consent ledger, sequencer and log keys on a migrated store of each backend."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import pytest

from aggregator.store.client import Store
from clearsignal.purposes import Purpose
from clearsignal.settings import Settings
from consent.entries import ConsentDecision
from consent.ledger import ConsentLedger, RecordedConsent
from consent.log_keys import LogKeys
from consent.pseudonyms import SiteKeys
from consent.sequencer import Sequencer


@dataclass
class ConsentWorld:
    store: Store
    settings: Settings
    ledger: ConsentLedger
    keys: LogKeys
    sequencer: Sequencer

    def decide(
        self, analytics: bool = True, browser_id: str | None = None, **fields: object
    ) -> RecordedConsent:
        decision = ConsentDecision(
            site="demo",
            browser_id=browser_id or secrets.token_urlsafe(16),
            choices={Purpose.ANALYTICS: analytics, Purpose.PERSONALIZATION: analytics},
            notice_version="1",
            method="banner",
            **fields,  # type: ignore[arg-type]
        )
        return self.ledger.record(decision)


@pytest.fixture
def world(migrated_store: Store, settings: Settings) -> ConsentWorld:
    keys = LogKeys.load(settings.log_origin, settings.log_key_path)
    ledger = ConsentLedger(migrated_store, settings, SiteKeys(settings.site_key_dir))
    return ConsentWorld(migrated_store, settings, ledger, keys, Sequencer(migrated_store, keys))
