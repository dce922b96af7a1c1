"""A site's deletion for a customer reference (GDPR Art. 17 asked of the site, say by
e-mail): everything held about the customer goes, on both sources.

- Every visitor ever linked to the customer gets a withdrawal (``delete_request`` by the
  site, a leaf of the log like a visitor's own): the erasure job then deletes their
  events, signals, sessions, links and server events on every node, checks that none is
  left and records an erasure receipt for each (``consent.erasure``).
- The customer's own rows that no visitor holds (server events kept on a declared lawful
  basis, links), their cases and their sealed reference are deleted at once, by the
  customer's pseudonym (the cases' actions go with the visitors' erasure).

The reference itself is stored only sealed, for the team, while the customer allows
personalization (``consent.customer_references``).
"""

from __future__ import annotations

from dataclasses import dataclass

from clearsignal.purposes import Purpose
from clearsignal.settings import SiteSettings
from consent.customer_links import CustomerLinks
from consent.database import Database
from consent.entries import ConsentDecision
from consent.ledger import ConsentLedger

__all__ = ["CUSTOMER_TABLES", "CustomerErasure", "erase_customer"]

CUSTOMER_TABLES = ("server_events", "customer_links", "customer_references", "cases")
METHOD = "site_delete_request"


@dataclass(frozen=True)
class CustomerErasure:
    customer_key: str
    withdrawals: list[str]
    """The receipt ids of the linked visitors' withdrawals: each is answered by an erasure
    receipt (``GET /api/erasures/{id}``)."""


def erase_customer(
    ledger: ConsentLedger, database: Database, site: SiteSettings, reference: str
) -> CustomerErasure:
    customer = ledger.customer_key(site.id, reference)
    visitors = CustomerLinks(database).visitors_of(site.id, customer)
    recorded = ledger.record_many([
        ConsentDecision(
            site=site.id,
            browser_id="",
            choices={Purpose.ANALYTICS: False, Purpose.PERSONALIZATION: False},
            notice_version=site.notice.version,
            method=METHOD,
            kind="withdrawal",
            subject=visitor,
        )
        for visitor in visitors
    ]) if visitors else []  # fmt: skip
    for table in CUSTOMER_TABLES:
        database.alter(
            table,
            "DELETE WHERE site = {site:String} AND customer_key = {customer:String} "
            "SETTINGS mutations_sync = 2",
            {"site": site.id, "customer": customer},
        )
    return CustomerErasure(customer, [r.receipt_id for r in recorded])
