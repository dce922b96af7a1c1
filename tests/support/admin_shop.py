"""A shop with history for the /admin tests: the real app over a simulated week, every
derived job run, and one visitor who withdrew consent and was erased.

Two sites: ``demo`` (k = 5, simulated) and ``other`` (one visitor's consent), so that a
site owner of ``demo`` has something of another site not to see.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from starlette.testclient import TestClient

from clearsignal.settings import JobSettings, NoticeSettings, Settings, SiteSettings
from collector.app import Services, create_app
from simulator.simulation import simulate
from tests.support.admin_accounts import admin_settings, site_officer
from tests.support.collector_app import app_services
from tests.support.site_requests import HEADERS

__all__ = ["JOBS", "Shop", "open_shop"]

OTHER_ORIGIN = "https://other.example"
JOBS = (
    "consent.erase", "consent.sequence", "analytics.rollup", "sessions.compute", "signals.compute",
    "summaries.compute", "signals.validate",
)  # fmt: skip
VISITORS, DAYS, SEED, K = 300, 5, 7, 5


@dataclass
class Shop:
    client: TestClient
    settings: Settings
    withdrawal_receipt: str  # the erased visitor's withdrawal

    @property
    def services(self) -> Services:
        value: Services = app_services(self.client)
        return value


def _decision(site: str, browser_id: str, analytics: bool) -> dict[str, object]:
    return {
        "site": site, "visitor": browser_id, "notice_version": "1", "method": "banner",
        "purposes": {"analytics": analytics, "personalization": analytics},
    }  # fmt: skip


def other_site() -> SiteSettings:
    return SiteSettings(
        id="other",
        name="Other shop",
        allowed_origins=[OTHER_ORIGIN],
        notice=NoticeSettings(uri=f"{OTHER_ORIGIN}/privacy", version="1", text="Other notice."),
    )


@contextmanager
def open_shop(settings: Settings, end: datetime | None = None) -> Iterator[Shop]:
    """The shop, its simulated week ending at ``end`` (default: now)."""
    demo = settings.sites[0].model_copy(update={"k_anonymity": K})
    configured = settings.model_copy(
        update={
            "sites": [demo, other_site()],
            "admin": admin_settings(("demo",)).model_copy(
                update={"users": [*admin_settings(("demo",)).users, site_officer("other")]}
            ),
            "jobs": JobSettings(in_process=False),
        }
    )
    with TestClient(create_app(configured)) as client:
        services: Services = app_services(client)
        simulate(services.store, configured, VISITORS, DAYS, SEED, end=end)
        leaving = secrets.token_urlsafe(16)
        assert (
            client.post(
                "/api/consent", json=_decision("demo", leaving, True), headers=HEADERS
            ).status_code
            == 201
        )
        withdrawal = client.post(
            "/api/consent", json=_decision("demo", leaving, False), headers=HEADERS
        )
        other = HEADERS | {"origin": OTHER_ORIGIN}
        assert (
            client.post(
                "/api/consent",
                json=_decision("other", secrets.token_urlsafe(16), True),
                headers=other,
            ).status_code
            == 201
        )
        for name in JOBS:
            outcome = services.jobs.run(name)
            assert outcome.status == "ok", outcome.error
        yield Shop(client, configured, withdrawal.json()["receipt_id"])
