"""Withdrawal and delete requests erase the visitor's rows from every table, for real."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from consent.erasure import KEPT_TABLES, Eraser
from consent.log_reader import LogReader
from consent.receipts import verify_receipt
from tests.consent.conftest import ConsentWorld

KEEP = timedelta(days=30)


def add_rows(world: ConsentWorld, visitor_key: str, events: int = 3) -> None:
    now = datetime.now(UTC)
    world.store.insert(
        "events",
        [["demo", visitor_key, secrets.token_hex(8), "pageview", now] for _ in range(events)],
        ["site", "visitor_key", "event_id", "type", "ts"],
    )
    world.store.insert(
        "signals",
        [["demo", visitor_key, "price_uncertainty", 1, now, now, 3.0, now, now + KEEP]],
        ["site", "visitor_key", "rule_id", "rule_version", "window_start", "window_end",
         "value", "computed_at", "expires_at"],
    )  # fmt: skip


def rows_of(world: ConsentWorld, visitor_key: str) -> dict[str, int]:
    """Rows holding this visitor key in every table of the database but the consent proof."""
    tables = [
        str(row[0])
        for row in world.store.rows(
            "SELECT DISTINCT table FROM system.columns "
            "WHERE database = currentDatabase() AND name = 'visitor_key'"
        )
    ]
    assert {"events", "signals", *KEPT_TABLES} <= set(tables)
    return {
        table: int(
            world.store.scalar(
                f"SELECT count() FROM `{table}` WHERE visitor_key = {{k:String}}",
                {"k": visitor_key},
            )
        )
        for table in tables
        if table not in KEPT_TABLES
    }


def test_a_withdrawal_erases_the_visitors_events_and_signals(world: ConsentWorld) -> None:
    browser_id = secrets.token_urlsafe(16)
    granted = world.decide(browser_id=browser_id)
    other = world.decide()
    add_rows(world, granted.visitor_key)
    add_rows(world, other.visitor_key, events=2)
    withdrawal = world.decide(analytics=False, browser_id=browser_id)
    assert withdrawal.kind == "withdrawal"

    run = Eraser(world.store, world.ledger).run_once()

    assert len(run.erased) == 1
    assert run.rows_deleted == {"events": 3, "signals": 1}
    assert set(rows_of(world, granted.visitor_key).values()) == {0}
    kept = {table: n for table, n in rows_of(world, other.visitor_key).items() if n}
    assert kept == {"events": 2, "signals": 1}


def test_the_erasure_is_a_leaf_of_the_log_with_a_receipt_that_verifies(
    world: ConsentWorld,
) -> None:
    browser_id = secrets.token_urlsafe(16)
    granted = world.decide(browser_id=browser_id)
    add_rows(world, granted.visitor_key)
    withdrawal = world.decide(analytics=False, browser_id=browser_id)
    Eraser(world.store, world.ledger).run_once()
    world.sequencer.run_once()

    receipt = LogReader(world.store, world.keys.verifier).erasure_receipt(withdrawal.receipt_id)
    assert receipt is not None
    assert receipt["kind"] == "erasure"
    assert receipt["request_receipt_id"] == withdrawal.receipt_id
    assert receipt["rows_deleted"] == {"events": 3, "signals": 1}
    assert receipt["subject"] == granted.visitor_key
    verified = verify_receipt(receipt, world.keys.verifier)
    assert verified.kind == "erasure"
    assert verified.log_index == 2


def test_each_request_is_erased_once_and_the_choice_survives_it(world: ConsentWorld) -> None:
    browser_id = secrets.token_urlsafe(16)
    world.decide(browser_id=browser_id)
    withdrawal = world.decide(analytics=False, browser_id=browser_id)
    eraser = Eraser(world.store, world.ledger)
    assert len(eraser.run_once().erased) == 1
    assert eraser.run_once().erased == []
    state = world.ledger.current("demo", withdrawal.visitor_key)
    assert state is not None
    assert state.receipt_id == withdrawal.receipt_id
    assert not state.analytics


def test_a_denial_without_an_earlier_grant_is_no_withdrawal(world: ConsentWorld) -> None:
    assert world.decide(analytics=False).kind == "consent"
    assert Eraser(world.store, world.ledger).pending() == []


def test_the_spool_is_flushed_before_erasing(world: ConsentWorld) -> None:
    browser_id = secrets.token_urlsafe(16)
    granted = world.decide(browser_id=browser_id)
    world.decide(analytics=False, browser_id=browser_id)
    flushed: list[bool] = []

    def late_events() -> None:  # what the writer still had in its spool
        add_rows(world, granted.visitor_key)
        flushed.append(True)

    Eraser(world.store, world.ledger, before_erase=late_events).run_once()
    assert flushed == [True]
    assert set(rows_of(world, granted.visitor_key).values()) == {0}


def test_rows_that_land_after_an_erasure_are_erased_by_the_next_run(world: ConsentWorld) -> None:
    """A derivation that read the visitor's events before the delete and wrote after it,
    or a collector that had not heard of the withdrawal yet: on main such rows stayed."""
    browser_id = secrets.token_urlsafe(16)
    granted = world.decide(browser_id=browser_id)
    add_rows(world, granted.visitor_key)
    world.decide(analytics=False, browser_id=browser_id)
    eraser = Eraser(world.store, world.ledger)
    assert len(eraser.run_once().erased) == 1
    add_rows(world, granted.visitor_key, events=2)  # the late writes land now
    assert rows_of(world, granted.visitor_key)["signals"] == 1
    run = eraser.run_once()
    assert run.erased == []
    assert run.late_rows_deleted == {"events": 2, "signals": 1}
    assert set(rows_of(world, granted.visitor_key).values()) == {0}


def test_a_visitor_who_grants_again_after_an_erasure_keeps_new_data(world: ConsentWorld) -> None:
    browser_id = secrets.token_urlsafe(16)
    granted = world.decide(browser_id=browser_id)
    world.decide(analytics=False, browser_id=browser_id)
    eraser = Eraser(world.store, world.ledger)
    eraser.run_once()
    world.decide(browser_id=browser_id)  # consents anew
    add_rows(world, granted.visitor_key)
    assert eraser.run_once().late_rows_deleted == {}
    assert rows_of(world, granted.visitor_key)["events"] == 3
