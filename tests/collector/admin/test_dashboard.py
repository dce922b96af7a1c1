"""The site dashboard (both backends): figures from the published summaries only, hidden
groups as "fewer than k", ratios only where no day was hidden, and the page a site owner
gets over a simulated shop."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from aggregator.reports.dashboard import TREND_DAYS, read_dashboard
from aggregator.signals.rules import RULES
from aggregator.store.client import Store
from clearsignal.settings import Settings, demo_site
from tests.support.admin_accounts import OWNER, sign_in
from tests.support.admin_shop import K, open_shop

END = date(2026, 3, 14)
COLUMNS = ("site", "day", "metric", "dimension", "value", "visitors", "suppressed", "computed_at")


def publish(store: Store, rows: list[tuple[int, str, str, int | None]]) -> None:
    """(days before END, metric, dimension, visitors or None for suppressed)."""
    now = datetime.now(UTC)
    store.insert(
        "site_summaries",
        [
            (
                "demo",
                END - timedelta(days=ago),
                metric,
                dimension,
                float(n or 0),
                n or 0,
                n is None,
                now,
            )
            for ago, metric, dimension, n in rows
        ],
        COLUMNS,
    )


def test_shares_and_rates_only_where_no_day_was_hidden(migrated_store: Store) -> None:
    site = demo_site().model_copy(update={"k_anonymity": 5, "funnel": ["cart", "purchase"]})
    rows: list[tuple[int, str, str, int | None]] = []
    for ago in range(2 * TREND_DAYS):
        rows += [(ago, "visitors", "", 100), (ago, "identified_visitors", "", 50),
                 (ago, "funnel_reached", "01 cart", 20), (ago, "funnel_reached", "02 purchase", 10)]  # fmt: skip
        rows.append((ago, "signal_visitors", "price_uncertainty", 10 if ago % 2 else 5))
    rows.append((3, "signal_visitors", "quick_back", None))  # one hidden day this week
    rows.append((9, "signal_visitors", "quick_back", 6))
    rows.append((20, "funnel_reached", "02 purchase", None))  # before the 7-day period
    publish(migrated_store, rows)

    view = read_dashboard(migrated_store, site, END, TREND_DAYS)
    rules = {p.rule.id: p for p in view.rules}
    price = rules["price_uncertainty"]
    assert price.recent == (3 * 10 + 4 * 5) / (7 * 50)  # 3 odd days back from END in 0..6
    assert price.previous == (4 * 10 + 3 * 5) / (7 * 50)
    assert price.trend is not None
    assert round(price.trend, 6) == round((50 - 55) / 350, 6)
    quick = rules["quick_back"]
    assert (quick.recent, quick.recent_hidden_days) == (None, 1)
    assert quick.previous == 6 / 350
    assert quick.daily[-4] is None
    assert quick.daily[-1] == 0.0
    assert rules["dead_clicks"].recent == 0.0  # nothing found, every day known
    steps = [
        (s.name, s.reached.published, s.reached.hidden_days, s.of_previous) for s in view.funnel
    ]
    assert steps == [("visited", 700, 0, None), ("cart", 140, 0, 0.2), ("purchase", 70, 0, 0.5)]
    assert [t.visitors for t in view.totals] == [100] * 7

    publish(migrated_store, [(1, "funnel_reached", "02 purchase", None)])
    hidden = read_dashboard(migrated_store, site, END, TREND_DAYS).funnel[2]
    assert (hidden.reached.published, hidden.reached.hidden_days, hidden.of_previous) == (
        60,
        1,
        None,
    )


def test_a_site_owner_reads_the_dashboard_of_a_simulated_shop(settings: Settings) -> None:
    with open_shop(settings) as shop:
        assert sign_in(shop.client, OWNER).status_code == 303
        page = shop.client.get("/admin/dashboard", params={"days": "7"})
        assert page.status_code == 200
        text = page.text
        store = shop.services.store
        day, visitors = store.rows(
            "SELECT day, visitors FROM site_summaries FINAL WHERE site = 'demo' "
            "AND metric = 'visitors' ORDER BY day DESC LIMIT 1 OFFSET 1"
        )[0]
        assert f"<tr><td>{day:%Y-%m-%d}</td><td class=num>{int(visitors):,}</td>" in text
        hidden = store.scalar(
            "SELECT count() FROM site_summaries FINAL WHERE site = 'demo' AND suppressed"
        )
        assert hidden > 0
        assert f"fewer than {K}" in text
        for rule in RULES:
            assert f'id="rule-{rule.id}"' in text
            assert rule.why.replace("'", "&#x27;") in text
        assert "association, not causation" in text
        assert text.count('<svg class="chart" role="img"') >= 4
        assert "<script" not in text
        titles = re.findall(r'<title id="[a-z-]+-t">([^<]+)</title>', text)
        assert "Visitors and sessions per day" in titles
        assert "Goal rate with and without each signal (95% intervals)" in titles or (
            "Validation report" in text
        )
        assert shop.client.get("/admin/dashboard", params={"site": "other"}).status_code == 404
