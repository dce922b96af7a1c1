"""The Art. 15 export holds everything held under the visitor's key."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from starlette.testclient import TestClient

from collector.visitor.me.export import RENDERED_TABLES
from consent.erasure import personal_tables
from tests.support.collector_app import app_services, run_job
from tests.support.me_visitor import me, visitor_with_data


def test_the_export_holds_every_table_that_holds_the_key(client: TestClient) -> None:
    """Art. 15: on main the export left out the visitor's sessions and the webhook
    deliveries that told the site about them."""
    browser_id = visitor_with_data(client)
    store = app_services(client).store
    key = app_services(client).ledger.visitor_key("demo", browser_id)
    run_job(client, "sessions.compute")
    now = datetime.now(UTC).replace(microsecond=0)
    store.insert(
        "webhook_deliveries",
        [["d-1", "demo", key, "price_uncertainty", 1, now, 1, "delivered", 200, "", now, None,
          now + timedelta(days=30)]],
        ["delivery_id", "site", "visitor_key", "rule_id", "rule_version", "window_start",
         "attempt", "status", "http_status", "error", "attempted_at", "next_attempt_at",
         "expires_at"],
    )  # fmt: skip
    body = me(client, browser_id).json()
    [session] = body["sessions"]
    assert (session["events"], session["pageviews"]) == (3, 3)
    assert session["entry_path"] == "/pricing"
    assert session["session_start"].endswith("Z")
    [delivery] = body["webhook_deliveries"]
    assert (delivery["rule_id"], delivery["status"], delivery["http_status"]) == (
        "price_uncertainty", "delivered", 200,
    )  # fmt: skip
    # Every table erasure clears is in the export, rendered or as it is stored.
    covered = {*RENDERED_TABLES, *body["held_elsewhere"]}
    assert set(personal_tables(store, ("site", "visitor_key"))) <= covered
    assert "visitor_key" not in json.dumps(body["sessions"] + body["webhook_deliveries"])
