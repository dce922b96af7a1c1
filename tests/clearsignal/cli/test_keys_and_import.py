"""``clearsignal keys`` and ``clearsignal import server-events`` as processes, against the
ClickHouse HTTP endpoint the test reads."""

from __future__ import annotations

import csv
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from aggregator.store.client import Store, open_store
from aggregator.store.migrations import migrate
from clearsignal.purposes import Purpose
from clearsignal.settings import Settings, StoreSettings
from collector.api_keys import ApiKeys
from consent.customer_links import CustomerLinks
from consent.entries import ConsentDecision
from consent.ledger import ConsentLedger
from consent.pseudonyms import SiteKeys
from tests.conftest import drop_database, unique_database
from tests.support.cli import clearsignal, store_env
from tests.support.clickhouse_http import ClickHouseHttpServer
from tests.support.server_events import server_event


@pytest.fixture
def deployed(
    tmp_path: Path, clickhouse_http: ClickHouseHttpServer
) -> Iterator[tuple[Settings, Store, dict[str, str]]]:
    database = unique_database()
    settings = Settings(
        data_dir=tmp_path / "data", store=StoreSettings(dsn=clickhouse_http.url, database=database)
    )
    store = open_store(clickhouse_http.url, database)
    migrate(store)
    try:
        yield settings, store, store_env(tmp_path / "data", clickhouse_http.url, database)
    finally:
        store.close()
        drop_database(clickhouse_http.url, database)


def test_keys_are_shown_once_listed_without_secrets_and_revoked(
    tmp_path: Path, deployed: tuple[Settings, Store, dict[str, str]]
) -> None:
    _, store, env = deployed
    made = clearsignal(
        "keys", "create", "demo", "--name", "help desk", "--kind", "contact", cwd=tmp_path, env=env
    )
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().splitlines()[-1]
    key = ApiKeys(store).authenticate(token)
    assert key is not None
    assert key.kinds == frozenset({"contact"})
    assert key.name == "help desk"
    prefix = f"cs_sk_{key.key_id}_"
    assert token.startswith(prefix)
    secret = token.removeprefix(prefix)
    assert len(secret) >= 40
    listed = clearsignal("keys", "list", cwd=tmp_path, env=env)
    assert key.key_id in listed.stdout
    assert "active" in listed.stdout
    assert secret not in listed.stdout + listed.stderr
    assert "secret" not in repr(store.rows("SELECT * FROM api_keys"))
    assert secret not in repr(store.rows("SELECT * FROM api_keys"))
    revoked = clearsignal("keys", "revoke", "demo", key.key_id, cwd=tmp_path, env=env)
    assert revoked.returncode == 0, revoked.stderr
    assert ApiKeys(store, cache_seconds=0).authenticate(token) is None
    assert "revoked" in clearsignal("keys", "list", cwd=tmp_path, env=env).stdout
    unknown = clearsignal("keys", "revoke", "demo", "000000000000", cwd=tmp_path, env=env)
    assert unknown.returncode == 1
    nowhere = clearsignal("keys", "create", "nowhere", cwd=tmp_path, env=env)
    assert nowhere.returncode == 2
    assert "unknown site 'nowhere'; the sites are: demo" in nowhere.stderr


def test_an_import_stores_what_the_endpoint_would_once_and_reports_by_line(
    tmp_path: Path, deployed: tuple[Settings, Store, dict[str, str]]
) -> None:
    settings, store, env = deployed
    ledger = ConsentLedger(store, settings, SiteKeys(settings.site_key_dir))
    visitor = secrets.token_urlsafe(16)
    choices = {Purpose.ANALYTICS: True, Purpose.PERSONALIZATION: False}
    ledger.record(ConsentDecision("demo", visitor, choices, "1", "banner"))
    CustomerLinks(store).record(
        "demo", ledger.visitor_key("demo", visitor), ledger.customer_key("demo", "crm-1"),
        datetime.now(UTC), 180,
    )  # fmt: skip
    records = [server_event("order", "crm-1") for _ in range(3)]
    records.append(server_event("complaint", "crm-unlinked"))
    ndjson = tmp_path / "orders.ndjson"
    lines = [orjson.dumps(record).decode() for record in records]
    lines.insert(2, '{"id": "x", "kind": "complaint", "customer": "crm-1", "note": "angry"}')
    ndjson.write_text("\n".join(lines) + "\n")
    first = clearsignal(
        "import", "server-events", str(ndjson), "--site", "demo", cwd=tmp_path, env=env
    )
    assert first.returncode == 0, first.stderr
    assert "imported 3 server events into site demo" in first.stdout
    assert "invalid 1" in first.stdout
    assert "no_consent 1" in first.stdout
    assert "line 3: invalid: " in first.stdout
    assert "note: Extra inputs" in first.stdout
    again = clearsignal(
        "import", "server-events", str(ndjson), "--site", "demo", cwd=tmp_path, env=env
    )
    assert again.returncode == 0, again.stderr
    assert store.scalar("SELECT count() FROM server_events FINAL") == 3
    table = tmp_path / "tickets.csv"
    contact = server_event("contact", "crm-1", action="resolved", first_contact_resolution=True)
    with table.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=sorted(contact))
        writer.writeheader()
        writer.writerow(contact)
    imported = clearsignal(
        "import", "server-events", str(table), "--site", "demo", cwd=tmp_path, env=env
    )
    assert "imported 1 server events" in imported.stdout, imported.stdout + imported.stderr
    assert (
        store.scalar(
            "SELECT attributes['first_contact_resolution'] FROM server_events FINAL WHERE kind = 'contact'"
        )
        == "true"
    )
    assert store.scalar("SELECT count() FROM server_events FINAL WHERE source != 'import'") == 0
    nowhere = clearsignal(
        "import", "server-events", str(table), "--site", "nowhere", cwd=tmp_path, env=env
    )
    assert nowhere.returncode == 2
    assert "unknown site 'nowhere'; the sites are: demo" in nowhere.stderr
