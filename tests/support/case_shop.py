"""A shop with consenting, linked customers and their findings, for the cases tests: the
real ledger, links and sealed references in a real store, and a clock the test moves."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from aggregator.cases.book import CaseBook
from aggregator.jobs.cases import CasesJob
from aggregator.store.client import Store
from clearsignal.purposes import Purpose
from clearsignal.settings import NoticeSettings, Settings, SiteSettings, StoreSettings, demo_site
from consent.customer_links import CustomerLinks
from consent.customer_references import CustomerReferences
from consent.entries import ConsentDecision
from consent.ledger import ConsentLedger
from consent.pseudonyms import SiteKeys
from tests.support.event_history import NOW

__all__ = ["CaseShop", "Customer", "MovingClock", "case_settings"]

SIGNAL_COLUMNS = [
    "site", "visitor_key", "rule_id", "rule_version", "window_start", "window_end", "value",
    "computed_at", "expires_at",
]  # fmt: skip


class MovingClock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass(frozen=True)
class Customer:
    site: str
    browser_id: str
    visitor_key: str
    reference: str
    customer_key: str


def case_settings(tmp_path: Path, dsn: str, database: str) -> Settings:
    other = SiteSettings(
        id="other",
        allowed_origins=["http://127.0.0.1:8002"],
        notice=NoticeSettings(uri="http://127.0.0.1:8002/privacy", version="1", text="Notice."),
    )
    return Settings(
        data_dir=tmp_path / "data",
        store=StoreSettings(dsn=dsn, database=database),
        sites=[demo_site(), other],
    )


@dataclass
class CaseShop:
    store: Store
    settings: Settings
    ledger: ConsentLedger
    clock: MovingClock

    @classmethod
    def open(cls, store: Store, settings: Settings, now: datetime = NOW) -> CaseShop:
        """``now``: where the clock starts; the real time for tests through the app, whose
        pages rank cases by the real time."""
        clock = MovingClock(now)
        ledger = ConsentLedger(store, settings, SiteKeys(settings.site_key_dir), clock=clock)
        return cls(store, settings, ledger, clock)

    def site(self, site_id: str = "demo") -> SiteSettings:
        found = self.settings.site(site_id)
        assert found is not None
        return found

    def decide(self, browser_id: str, site: str = "demo", **choices: bool) -> None:
        self.clock.advance(timedelta(milliseconds=10))
        purposes = {Purpose(name): granted for name, granted in choices.items()}
        self.ledger.record(ConsentDecision(site, browser_id, purposes, "1", "banner"))

    def customer(self, personalization: bool = True, site: str = "demo") -> Customer:
        """A browser with analytics (and maybe personalization), linked to a new customer;
        the reference is kept sealed as the link endpoint keeps it."""
        browser_id = secrets.token_urlsafe(16)
        self.decide(browser_id, site, analytics=True, personalization=personalization)
        reference = f"CUST-{secrets.randbelow(10**8):08d}"
        visitor = self.ledger.visitor_key(site, browser_id)
        customer = self.ledger.customer_key(site, reference)
        retention = self.site(site).retention_days
        CustomerLinks(self.store).record(site, visitor, customer, self.clock.now, retention)
        if personalization:
            CustomerReferences(self.store, self.ledger.site_key(site)).record(
                site, visitor, customer, reference, self.clock.now, retention
            )
        return Customer(site, browser_id, visitor, reference, customer)

    def finding(
        self, who: Customer, rule_id: str = "churn_risk", ended: timedelta = timedelta(hours=1)
    ) -> None:
        end = self.clock.now - ended
        key = [who.site, who.visitor_key, rule_id, 1]
        row = [*key, end - timedelta(days=2), end, 2.0, end, end + timedelta(days=180)]
        self.store.insert("signals", [row], SIGNAL_COLUMNS)

    def run(self) -> tuple[int, int]:
        """The cases job once: (cases opened, visitors forgotten)."""
        run = CasesJob(self.store, self.settings, clock=self.clock).run_once()
        return run.opened, run.forgotten

    def book(self, site: str = "demo") -> CaseBook:
        return CaseBook(self.store, self.ledger.site_key(site), self.site(site).response.note_chars)

    def count(self, table: str, who: Customer) -> int:
        return int(
            self.store.scalar(
                f"SELECT count() FROM {table} WHERE visitor_key = {{k:String}}",
                {"k": who.visitor_key},
            )
        )
