"""The Stats API over HTTP, on the real app and store (both backends): a site's reporting
tool reads its figures with a key that has the ``stats`` scope, the same figures and k
rule as the dashboard; other keys are refused, and a bad parameter is named."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from aggregator.store.client import Store
from clearsignal.settings import JobSettings, LimitSettings, Settings
from collector.api_keys import ApiKeys
from collector.app import create_app
from tests.aggregator.reports.test_analytics import DAY, pageview, roll_up
from tests.support.server_events import server_event

K = 10  # the demo site's k


@pytest.fixture
def client(migrated_store: Store, settings: Settings) -> Iterator[TestClient]:
    rows = [pageview(f"de{n}", "/pricing", "DE") for n in range(30)]
    rows += [pageview(f"us{n}", "/", "US") for n in range(12)]
    rows += [pageview(f"se{n}", "/", "SE") for n in range(3)]
    rows += [pageview(f"old{n}", "/", "DE", day=DAY - timedelta(days=7)) for n in range(11)]
    roll_up(migrated_store, settings, rows)
    manual = settings.model_copy(
        update={
            "jobs": JobSettings(in_process=False),
            "limits": LimitSettings(stats_key_burst=40, stats_per_key_per_second=0.01),
        }
    )
    with TestClient(create_app(manual)) as test_client:
        yield test_client


def key(
    client: TestClient, site: str = "demo", scopes: tuple[str, ...] = ("stats",)
) -> dict[str, str]:
    store = client.app_state["collector"].store
    issued = ApiKeys(store).create(site, "reports", [], "test", scopes)
    return {"Authorization": f"Bearer {issued.token}"}


def get(client: TestClient, path: str, headers: dict[str, str], **query: str) -> Any:
    return client.get(f"/api/stats/{path}", params={"site": "demo", **query}, headers=headers)


def test_the_summary_and_tables_for_a_period_with_the_one_before(client: TestClient) -> None:
    headers = key(client)
    summary = get(client, "summary", headers, period="7d", compare="previous")
    assert summary.status_code == 200, summary.text
    found = summary.json()
    assert (found["visitors"], found["pageviews"], found["k"]) == (45, 45, K)
    assert found["previous"]["visitors"] == 11
    assert summary.headers["cache-control"] == "private, no-store"
    pages = get(client, "breakdown/pages", headers, period="7d").json()
    assert [(r["key"], r["visitors"]) for r in pages["rows"]] == [("/pricing", 30), ("/", 15)]
    countries = get(client, "breakdown/countries", headers, period="7d").json()
    # SE has 3 visitors (< k), and US would give them away as 45 - 30 - 12.
    assert [(r["key"], r["visitors"]) for r in countries["rows"]] == [("DE", 30)]
    assert countries["hidden_rows"] == 2


def test_filters_narrow_the_visitors_and_keep_the_k_rule(client: TestClient) -> None:
    headers = key(client)
    by_country = get(client, "breakdown/pages", headers, period="7d", country="DE").json()
    assert by_country["filters"] == {"country": "DE"}
    assert [(r["key"], r["visitors"]) for r in by_country["rows"]] == [("/pricing", 30)]
    # "/" under US (12) against "/" (15) would leave the 3 Swedes: not published.
    tiny = get(client, "breakdown/pages", headers, period="7d", country="US").json()
    assert (tiny["total"], tiny["rows"]) == (12, [])
    assert get(client, "summary", headers, period="7d", country="SE").json()["visitors"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"period": "fortnight"}, "period"),
        ({"period": "custom", "from": "2026-02-30", "to": "2026-03-01"}, "from"),
        ({"country": "Germany"}, "country"),
        ({"signal": "nothing"}, "signal"),
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"compare": "last_year"}, "compare"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_bad_parameter_is_400_naming_it(
    client: TestClient, query: dict[str, str], field: str
) -> None:
    answer = get(client, "breakdown/pages", key(client), **query)
    assert answer.status_code == 400
    assert answer.json()["fields"][0]["field"] == field


def test_keys_without_the_scope_or_of_another_site_are_refused(client: TestClient) -> None:
    assert get(client, "summary", {}).status_code == 401
    assert get(client, "summary", {"Authorization": "Bearer cs_sk_nope"}).status_code == 401
    cases_only = get(client, "summary", key(client, scopes=("cases",)))
    assert (cases_only.status_code, cases_only.json()["error"]) == (403, "out_of_scope")
    theirs = get(client, "summary", key(client, site="other"))
    assert (theirs.status_code, theirs.json()["error"]) == (403, "key_not_for_site")
    assert get(client, "breakdown/secrets", key(client)).status_code == 404


def test_a_stats_key_sends_no_server_events(client: TestClient) -> None:
    batch = {"site": "demo", "events": [server_event("order", "c-1")]}
    answer = client.post("/api/server-events", json=batch, headers=key(client))
    assert answer.status_code == 202, answer.text
    assert answer.json()["accepted"] == 0
    (error,) = answer.json()["errors"]
    assert error["detail"] == "this key may not send 'order'"


def test_each_key_has_its_own_rate(client: TestClient) -> None:
    headers, other = key(client), key(client)
    answers = [get(client, "realtime", headers).status_code for _ in range(41)]
    assert answers[:40] == [200] * 40
    assert answers[40] == 429
    assert get(client, "realtime", other).status_code == 200


def test_realtime_counts_visitors_of_the_last_minutes_under_the_k_rule(
    client: TestClient,
) -> None:
    found = get(client, "realtime", key(client)).json()
    assert (found["minutes"], found["visitors"]) == (5, 0)  # the rows arrived days ago
