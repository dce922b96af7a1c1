"""What people read, read through the cluster: the site owner's dashboard (the same page
as on a single node for the same simulated shop), the privacy officer's console and its
verification, ``clearsignal audit verify``'s check, and a visitor's /api/me."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from starlette.testclient import TestClient

from clearsignal.settings import Settings
from collector.app import create_app
from consent.audit import verify_log
from tests.support.admin_accounts import OFFICER, OWNER, csrf_token, sign_in
from tests.support.admin_shop import open_shop
from tests.support.cli import clearsignal, store_env
from tests.support.collector_app import run_job
from tests.support.me_visitor import me, visitor_with_data


def dashboard(settings: Settings, end: datetime) -> str:
    with open_shop(settings, end) as shop:
        assert sign_in(shop.client, OWNER).status_code == 303
        page = shop.client.get("/admin/dashboard", params={"days": "7"})
        assert page.status_code == 200
        return page.text.replace(csrf_token(page.text), "(a form's own token)")


def test_the_dashboard_reads_through_the_cluster_as_on_a_single_node(
    single_node: Settings, cluster_settings: Settings
) -> None:
    end = datetime.now(UTC).replace(microsecond=0)  # both shops the same week
    on_one = dashboard(single_node, end)
    assert "fewer than" in on_one  # a page with figures and hidden groups
    assert dashboard(cluster_settings, end) == on_one


def cluster_env(settings: Settings) -> dict[str, str]:
    """The environment that points ``clearsignal`` at the cluster store of ``settings``."""
    store = settings.store
    return {
        **store_env(settings.data_dir, str(store.dsn), store.database),
        "CLEARSIGNAL_STORE__CLUSTER": str(store.cluster),
        "CLEARSIGNAL_STORE__NODES": json.dumps(store.nodes),
    }


def test_the_console_and_the_audit_verify_the_log_through_the_cluster(
    tmp_path: Path, cluster_settings: Settings
) -> None:
    with open_shop(cluster_settings) as shop:
        client = shop.client
        assert sign_in(client, OFFICER).status_code == 303
        receipt = client.get(f"/admin/console/receipts/{shop.withdrawal_receipt}")
        assert receipt.status_code == 200
        assert "erasure" in receipt.text
        form = client.get("/admin/console/verify")
        answer = client.post("/admin/console/verify", data={"csrf": csrf_token(form.text)})
        assert "Result: verified" in answer.text
        report = verify_log(shop.services.store, shop.services.log_reader.verifier)
        assert report.ok, report.summary()
        assert report.tree_size == shop.services.store.scalar("SELECT count() FROM consent_records")
        audit = clearsignal(
            "audit", "verify", "--public-key", shop.services.log_reader.verifier.vkey,
            cwd=tmp_path, env=cluster_env(shop.settings),
        )  # fmt: skip
        assert audit.returncode == 0, audit.stdout + audit.stderr
        assert f"log verified: {report.tree_size} entries" in audit.stdout


def test_a_visitor_reads_everything_held_about_them_through_the_cluster(
    cluster_settings: Settings,
) -> None:
    with TestClient(create_app(cluster_settings)) as client:
        browser_id = visitor_with_data(client)
        run_job(client, "consent.sequence")
        body = me(client, browser_id).json()
        assert body["events"]["total"] == 3
        assert [e["label"] for e in body["events"]["items"]] == [
            "Viewed /shop/desk", "Viewed Help and FAQ", "Viewed Pricing",
        ]  # fmt: skip
        [receipt] = body["receipts"]
        assert receipt["verification"]["status"] == "verified"
