"""The privacy officer's console over a simulated shop (both backends): consent log
search and filters, one receipt, erasure requests, verification (the same check as
``clearsignal audit verify``), exports, the record of processing, and the log of all of it."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pytest

from clearsignal.settings import Settings
from consent.audit import verify_log
from consent.export import EXPORT_COLUMNS, export_records
from consent.ropa import record_of_processing
from tests.support.admin_accounts import OFFICER, SITE_OFFICER, csrf_token, logged_actions, sign_in
from tests.support.admin_shop import Shop, open_shop
from tests.support.collector_app import from_address

RECEIPT_LINK = re.compile(r'href="/admin/console/receipts/([0-9a-f-]{36})"')


@pytest.fixture
def shop(settings: Settings) -> Iterator[Shop]:
    with open_shop(settings) as opened:
        sign_in(opened.client, OFFICER)
        yield opened


def receipts_listed(page: str) -> list[str]:
    return RECEIPT_LINK.findall(page)


def count(shop: Shop, where: str) -> int:
    found: int = shop.services.store.scalar(f"SELECT count() FROM consent_records WHERE {where}")
    return found


def test_searches_the_consent_log_by_receipt_date_kind_purpose_choice_and_site(
    shop: Shop,
) -> None:
    client = shop.client
    newest = client.get("/admin/console")
    assert newest.status_code == 200
    assert len(receipts_listed(newest.text)) == 50
    assert 'href="/admin/console?page=1"' in newest.text
    one = client.get("/admin/console", params={"receipt": shop.withdrawal_receipt})
    assert receipts_listed(one.text) == [shop.withdrawal_receipt]
    assert "withdrawal" in one.text
    withdrawals = client.get("/admin/console", params={"kind": "withdrawal"})
    assert len(receipts_listed(withdrawals.text)) == count(shop, "kind = 'withdrawal'")
    denied = client.get("/admin/console", params={"purpose": "personalization", "choice": "denied",
                                                  "site": "demo"})  # fmt: skip
    expected = count(shop, "site = 'demo' AND NOT personalization")
    assert len(receipts_listed(denied.text)) == min(expected, 50)
    other = client.get("/admin/console", params={"site": "other"})
    assert len(receipts_listed(other.text)) == 1
    today = str(shop.services.store.scalar("SELECT toDate(max(recorded_at)) FROM consent_records"))
    dated = client.get("/admin/console", params={"since": today, "until": today, "kind": "erasure"})
    assert len(receipts_listed(dated.text)) == 1
    assert client.get("/admin/console", params={"since": "yesterday"}).status_code == 400
    searches = logged_actions(client, "search_consent_log")
    assert any(f"receipt={shop.withdrawal_receipt}" in a.detail for a in searches)
    assert any("kind=erasure" in a.detail and f"since={today}" in a.detail for a in searches)


def test_shows_a_receipt_and_the_erasure_carried_out_for_a_withdrawal(shop: Shop) -> None:
    page = shop.client.get(f"/admin/console/receipts/{shop.withdrawal_receipt}")
    assert page.status_code == 200
    assert "Erasure carried out for this request" in page.text
    assert "&quot;kind&quot;: &quot;withdrawal&quot;" in page.text
    assert "&quot;status&quot;: &quot;included&quot;" in page.text
    assert shop.client.get(f"/admin/console/receipts/{'0' * 36}").status_code == 404
    erasures = shop.client.get("/admin/console/erasures")
    assert shop.withdrawal_receipt in erasures.text
    assert "pending" not in erasures.text


def test_verification_runs_the_audit_and_shows_its_result(shop: Shop) -> None:
    client = shop.client
    form = client.get("/admin/console/verify")
    answer = client.post("/admin/console/verify", data={"csrf": csrf_token(form.text)})
    report = verify_log(shop.services.store, shop.services.log_reader.verifier)
    assert report.ok
    assert "Result: verified" in answer.text
    assert report.summary().splitlines()[0] in answer.text
    shop.services.store.command(
        "ALTER TABLE consent_log UPDATE entry = replace(entry, 'granted', 'denied') "
        "WHERE log_index = 2 SETTINGS mutations_sync = 2"
    )
    tampered = client.post("/admin/console/verify", data={"csrf": csrf_token(form.text)})
    assert "Result: FAILED" in tampered.text
    assert "log verification FAILED at index 2" in tampered.text
    assert [a.outcome for a in logged_actions(client, "verify_log")] == ["ok", "failed"]


def test_exports_a_sites_records_as_the_command_line_does(shop: Shop) -> None:
    client = shop.client
    token = csrf_token(client.get("/admin/console/export").text)
    answer = client.post(
        "/admin/console/export", data={"csrf": token, "site": "demo", "format": "csv"}
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"].startswith(
        'attachment; filename="clearsignal-demo-'
    )
    expected = io.StringIO()
    exported = export_records(shop.services.store, "demo", expected, "csv")
    assert answer.text == expected.getvalue()
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == exported == count(shop, "site = 'demo'")
    assert tuple(rows[0]) == EXPORT_COLUMNS
    jsonl = client.post("/admin/console/export", data={"csrf": token, "site": "other", "format": "jsonl",
                                                       "since": "2000-01-01"})  # fmt: skip
    assert len(jsonl.text.splitlines()) == 1
    details = [a.detail for a in logged_actions(client, "export")]
    assert details[0] == f"csv since=- until=- records={exported}"


def test_shows_the_record_of_processing_and_every_action_taken(shop: Shop) -> None:
    page = shop.client.get("/admin/console/ropa")
    assert "GDPR Art. 30" in page.text
    first_line = record_of_processing(shop.settings).splitlines()[0]
    assert first_line.replace("`", "") in page.text.replace("<code>", "").replace("`", "")
    actions = shop.client.get("/admin/console/actions").text
    for action in ("login", "view_ropa"):
        assert f"<td>{action}</td>" in actions
    assert "<td>view_actions</td>" not in actions  # logged as it is answered


def test_a_privacy_officer_of_one_site_sees_only_that_sites_record_and_actions(
    shop: Shop,
) -> None:
    """The officer of every site exports ``demo``; the officer of ``other`` signs in in
    another browser and sees neither that export nor the ``demo`` record of processing."""
    everyone = shop.client
    token = csrf_token(everyone.get("/admin/console/export").text)
    everyone.post("/admin/console/export", data={"csrf": token, "site": "demo", "format": "csv"})
    limited = from_address(everyone, "198.51.100.30")  # another browser, its own cookies
    sign_in(limited, SITE_OFFICER)
    ropa = limited.get("/admin/console/ropa").text
    assert "## Site `other`" in ropa
    assert "Site `demo`" not in ropa
    assert "Site `demo`" in record_of_processing(shop.settings)  # the full record has it
    actions = limited.get("/admin/console/actions").text
    assert "<td>export</td>" not in actions  # the other officer's export of demo
    assert f"<td>{OFFICER}</td>" not in actions
    assert f"<td>{SITE_OFFICER}</td>" in actions  # its own sign-in
    assert "<td>export</td>" in everyone.get("/admin/console/actions").text
