"""The admin's pages over the embedded engine in a process of its own
(``engine_idle_seconds``): every statement behind them, long parameters included, as the
engine's HTTP host answers it (``aggregator.store.engine_host``)."""

from __future__ import annotations

from pathlib import Path

from clearsignal.settings import Settings, StoreSettings
from tests.support.admin_accounts import OFFICER, OWNER, sign_in
from tests.support.admin_shop import open_shop

TEAM_PAGES = [
    "/admin/dashboard?site=demo&days=30",
    "/admin/analytics?site=demo&period=30d",
    "/admin/analytics?site=demo&period=30d&compare=previous&country=DE&device=desktop",
    "/admin/keys",
]
OFFICER_PAGES = [
    "/admin/console",
    "/admin/console/erasures",
    "/admin/console/ropa",
    "/admin/console/actions",
]


def test_every_admin_page_answers_over_the_engine_in_its_own_process(tmp_path: Path) -> None:
    store = StoreSettings(dsn=f"chdb://{tmp_path}/ch?engine_idle_seconds=0")
    with open_shop(Settings(data_dir=tmp_path / "data", store=store)) as shop:
        sign_in(shop.client, OWNER)
        answers = {page: shop.client.get(page).status_code for page in TEAM_PAGES}
        dashboard = shop.client.get(TEAM_PAGES[0]).text
        shop.client.cookies.clear()
        sign_in(shop.client, OFFICER)
        answers |= {page: shop.client.get(page).status_code for page in OFFICER_PAGES}
    assert answers == dict.fromkeys(TEAM_PAGES + OFFICER_PAGES, 200)
    assert "price_uncertainty" in dashboard or "Price uncertainty" in dashboard
