"""Stored signals: read back from the store (both backends) and written for people."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aggregator.signals.stored import (
    Evidence,
    StoredSignal,
    read_signals,
    signal_document,
    signal_summary,
)
from aggregator.store.client import Store

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def store_signal(store: Store, visitor: str, rule_id: str, end: datetime) -> None:
    evidence = [("a" * 16, START, "/pricing"), ("b" * 16, end, "/pricing")]
    kept = datetime.now(UTC) + timedelta(days=9)  # rows past their expiry are not stored
    store.insert(
        "signals",
        [["demo", visitor, rule_id, 1, START, end, 3.0, evidence, end, kept]],
        ["site", "visitor_key", "rule_id", "rule_version", "window_start", "window_end",
         "value", "evidence", "computed_at", "expires_at"],
    )  # fmt: skip


def test_a_visitors_findings_come_back_newest_first_with_their_evidence(
    migrated_store: Store,
) -> None:
    store_signal(migrated_store, "v1", "price_uncertainty", START + timedelta(days=1))
    store_signal(migrated_store, "v1", "quick_back", START + timedelta(days=2))
    store_signal(migrated_store, "v2", "quick_back", START + timedelta(days=3))
    found = read_signals(migrated_store, "demo", "v1")
    assert [s.rule_id for s in found] == ["quick_back", "price_uncertainty"]
    assert found[1].evidence == (
        Evidence("a" * 16, START, "/pricing"),
        Evidence("b" * 16, START + timedelta(days=1), "/pricing"),
    )
    assert [s.rule_id for s in read_signals(migrated_store, "demo", "v1", limit=1)] == [
        "quick_back"
    ]
    assert read_signals(migrated_store, "other", "v1") == []


def signal(rule_id: str = "price_uncertainty", evidence: tuple[Evidence, ...] = ()) -> StoredSignal:
    end = START + timedelta(days=1)
    return StoredSignal(
        "demo", "v1", rule_id, 1, START, end, 3.0, evidence, end, end + timedelta(days=180)
    )


def test_the_summary_is_what_a_page_may_show_and_the_document_adds_the_explanation() -> None:
    found = signal(evidence=(Evidence("a" * 16, START, "/pricing"),))
    summary = signal_summary(found)
    assert summary == {
        "rule_id": "price_uncertainty",
        "rule_version": 1,
        "title": "Price uncertainty",
        "window_start": "2026-03-02T09:00:00.000Z",
        "window_end": "2026-03-03T09:00:00.000Z",
        "value": 3.0,
        "why": found.rule.why if found.rule else "",
        "may_do": found.rule.may_do if found.rule else "",
    }
    document = signal_document(found)
    assert {k: document[k] for k in summary} == summary
    assert document["noticed"] == (
        "You opened the pricing page on 3 visits between 2 March 2026, 09:00 UTC and "
        "2 March 2026, 09:00 UTC."
    )
    assert document["template_inputs"]["first"] == "2026-03-02T09:00:00.000Z"
    assert document["evidence"] == [
        {"event_id": "a" * 16, "ts": "2026-03-02T09:00:00.000Z", "detail": "/pricing"}
    ]
    assert document["delete_on"] == "2026-08-30T09:00:00.000Z"


def test_a_rule_this_version_no_longer_has_is_named_by_its_id() -> None:
    retired = signal("retired_rule")
    assert retired.rule is None
    assert signal_summary(retired)["title"] == "retired_rule"
    assert signal_document(retired)["noticed"] == ""
    # Without evidence, what was noticed spans the window.
    assert signal_document(retired)["template_inputs"]["last"] == "2026-03-03T09:00:00.000Z"


@pytest.mark.parametrize(
    "item",
    [{"event_id": "c" * 16, "ts": START, "detail": "x"}, ("c" * 16, START, "x")],
)
def test_evidence_reads_from_either_form_a_client_returns(item: object) -> None:
    row = {
        "site": "demo", "visitor_key": "v", "rule_id": "quick_back", "rule_version": 2,
        "window_start": START, "window_end": START, "value": 1, "evidence": [item],
        "computed_at": START, "expires_at": START,
    }  # fmt: skip
    assert StoredSignal.from_row(row).evidence == (Evidence("c" * 16, START, "x"),)
