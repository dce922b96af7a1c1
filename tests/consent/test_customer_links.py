"""Link tokens and customer pseudonyms (``consent.customer_links``), and which visitor a
customer's events count for (both backends)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import UTC, datetime, timedelta

import pytest

from aggregator.store.client import Store
from clearsignal.purposes import Purpose
from clearsignal.settings import Settings
from consent.customer_links import (
    MAX_LINK_SECONDS,
    CustomerKeys,
    CustomerLinks,
    LinkRefusal,
    LinkRefused,
    customer_key,
    link_token,
    verify_link_token,
)
from consent.entries import ConsentDecision
from consent.ledger import ConsentLedger
from consent.pseudonyms import SiteKeys, visitor_key

SECRET = b"s" * 32


def test_a_token_carries_its_reference_and_nothing_else_verifies() -> None:
    now = time.time()
    token = link_token(SECRET, "demo", "cust-1", int(now + 60))
    assert verify_link_token(SECRET, "demo", token, now) == "cust-1"
    for site, secret, at, reason in [
        ("other", SECRET, now, LinkRefusal.FORGED),
        ("demo", b"t" * 32, now, LinkRefusal.FORGED),
        ("demo", SECRET, now + 61, LinkRefusal.EXPIRED),
    ]:
        with pytest.raises(LinkRefused) as refused:
            verify_link_token(secret, site, token, at)
        assert refused.value.reason == reason
    far = link_token(SECRET, "demo", "cust-1", int(now + MAX_LINK_SECONDS + 60))
    with pytest.raises(LinkRefused, match="at most"):
        verify_link_token(SECRET, "demo", far, now)


def test_the_customer_pseudonym_is_not_the_visitor_key_of_the_same_text() -> None:
    key = secrets.token_bytes(32)
    text = "AAAAAAAAAAAAAAAAAAAAAA"  # a reference shaped like a browser id
    assert customer_key(key, text) != visitor_key(key, text)
    assert customer_key(key, text) == customer_key(key, text)
    assert len(customer_key(key, text)) == 32


@pytest.mark.parametrize("key_bytes", [16, 32, 64, 65, 200])
def test_the_customer_pseudonym_is_hmac_sha256_of_the_prefixed_reference(key_bytes: int) -> None:
    """Pseudonyms already stored stay valid: the hand-written HMAC is RFC 2104's, for keys
    shorter than, equal to and longer than the hash's block."""
    key = secrets.token_bytes(key_bytes)
    keys = CustomerKeys(key)
    for reference in ("cust-1", "é-ü", "x" * 128):
        expected = hmac.new(key, b"customer\x00" + reference.encode(), hashlib.sha256)
        assert keys.of(reference) == expected.hexdigest()[:32]
        assert customer_key(key, reference) == expected.hexdigest()[:32]


def test_events_count_for_the_latest_linked_visitor_holding_a_grant(
    migrated_store: Store, settings: Settings
) -> None:
    keys = SiteKeys(settings.site_key_dir)
    ledger = ConsentLedger(migrated_store, settings, keys, cache_seconds=0)
    links = CustomerLinks(migrated_store)
    phone, laptop, stranger = (secrets.token_urlsafe(16) for _ in range(3))

    def decide(browser: str, analytics: bool) -> None:
        choices = {Purpose.ANALYTICS: analytics, Purpose.PERSONALIZATION: False}
        ledger.record(ConsentDecision("demo", browser, choices, "1", "banner"))

    decide(phone, True)
    decide(laptop, True)
    customer = ledger.customer_key("demo", "cust-1")
    start = datetime.now(UTC)
    links.record("demo", ledger.visitor_key("demo", phone), customer, start, 30)
    links.record(
        "demo", ledger.visitor_key("demo", laptop), customer, start + timedelta(seconds=1), 30
    )
    links.record(
        "demo", ledger.visitor_key("demo", stranger), ledger.customer_key("demo", "c2"), start, 30
    )
    now = datetime.now(UTC) + timedelta(seconds=2)
    others = ledger.customer_key("demo", "c2")
    assert links.consenting_visitors("demo", [customer, others], now) == {
        customer: ledger.visitor_key("demo", laptop)  # the stranger never granted anything
    }
    decide(laptop, False)  # withdrawn: the phone's grant still counts
    assert links.consenting_visitors("demo", [customer], now) == {
        customer: ledger.visitor_key("demo", phone)
    }
    assert sorted(links.visitors_of("demo", customer)) == sorted(
        [ledger.visitor_key("demo", phone), ledger.visitor_key("demo", laptop)]
    )
