"""/admin/analytics over a simulated shop (both backends): the page a site owner reads, rows
that set filters, the period before, every table as CSV, and the figures matching the
Stats API's."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.testclient import TestClient

from aggregator.reports.analytics import Question
from aggregator.reports.breakdowns import BREAKDOWNS
from clearsignal.clock import utc_now
from clearsignal.settings import Settings
from collector.admin.accounts import save_file_user
from collector.admin.analytics_page import SECTIONS
from collector.admin.analytics_view import SUMMARY, AnalyticsView, read_analytics
from tests.support.admin_accounts import AGENT, OWNER, agent, csrf_token, sign_in
from tests.support.admin_shop import K, Shop, open_shop


def _links(text: str, table: str) -> list[str]:
    panel = text.split(f'id="table-{table}"', 1)[1].split('<div class="panel"', 1)[0]
    return [link.replace("&amp;", "&") for link in re.findall(r'<td><a href="([^"]+)"', panel)]


def _rows_set_filters(shop: Shop) -> None:
    page = shop.client.get("/admin/analytics", params={"period": "7d"})
    assert page.status_code == 200, page.text
    text = page.text
    shown = {name for _, names in SECTIONS for name in names}
    assert shown | {"days"} == set(BREAKDOWNS)
    for name in shown:
        assert f'id="table-{name}"' in text
    assert "<script" not in text
    assert "Visitors in the last 5 minutes" in text
    # A page row is a link that keeps the period and adds the page filter.
    first = _links(text, "pages")[0]
    query = parse_qs(urlsplit(first).query)
    assert query["period"] == ["7d"]
    page_filter = query["page"][0]
    filtered = shop.client.get(first)
    assert filtered.status_code == 200
    assert f"Page is <strong>{page_filter}</strong>" in filtered.text
    # The filter's "remove" link goes back to every visitor.
    removal = re.search(r'<li>Page is .*?<a href="([^"]+)">remove</a>', filtered.text)
    assert removal is not None
    assert "page" not in parse_qs(urlsplit(removal.group(1).replace("&amp;", "&")).query)


def _the_period_before(shop: Shop) -> None:
    page = shop.client.get("/admin/analytics", params={"period": "7d", "compare": "previous"})
    assert page.status_code == 200
    assert "compared with" in page.text
    assert page.text.count('<span class="was">was ') == 6
    assert '<th scope="col" class=num>Previous period</th>' in page.text


def _csv(shop: Shop) -> None:
    page = shop.client.get("/admin/analytics", params={"period": "7d"}).text
    visitors = re.search(r"<dt>Visitors</dt><dd>([\d,]+)", page)
    assert visitors is not None
    summary = shop.client.get("/admin/analytics.csv", params={"period": "7d", "table": "summary"})
    assert summary.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in summary.headers["content-disposition"]
    figures = {row[0]: row[1] for row in csv.reader(io.StringIO(summary.text))}
    assert figures["Visitors"] == visitors.group(1).replace(",", "")
    pages = shop.client.get("/admin/analytics.csv", params={"period": "7d", "table": "pages"})
    rows = list(csv.DictReader(io.StringIO(pages.text)))
    assert rows
    assert all(int(row["visitors"]) >= K for row in rows)
    assert shop.client.get("/admin/analytics.csv", params={"table": "x"}).status_code == 404


def _a_csv_reads_only_its_part(shop: Shop) -> None:
    """A table's CSV reads that table (and the period before's), not the whole page."""
    site = shop.settings.site("demo")
    assert site is not None
    question = Question.parse({"period": "7d"}, site, date.today())
    store = shop.services.store

    def read(only: tuple[str, ...] | None) -> AnalyticsView:
        return read_analytics(store, site, question, True, utc_now, only=only)

    pages = read(("pages",))
    assert pages.summary is None
    assert pages.previous is None
    assert pages.realtime is None
    assert set(pages.tables) == set(pages.previous_tables) == {"pages"}
    summary = read((SUMMARY,))
    assert summary.summary is not None
    assert summary.previous is not None
    assert summary.tables == summary.previous_tables == {}
    whole = read(None)
    assert whole.summary == summary.summary
    assert whole.realtime is not None
    assert set(whole.tables) == set(BREAKDOWNS)
    assert whole.tables["pages"].rows[:3] == pages.tables["pages"].rows[:3]


def _a_bad_period(shop: Shop) -> None:
    page = shop.client.get("/admin/analytics", params={"period": "custom", "from": "x"})
    assert page.status_code == 400
    assert "from" in page.text


def test_a_cell_a_spreadsheet_would_run_is_quoted() -> None:
    from collector.admin.analytics_page import _safe_cell

    assert _safe_cell('=HYPERLINK("http://evil")') == '\'=HYPERLINK("http://evil")'
    assert _safe_cell("/pricing") == "/pricing"


def _make_link(client: Any, password: str = "") -> str:
    page = client.get("/admin/analytics").text
    made = client.post(
        "/admin/analytics/share",
        data={"csrf": csrf_token(page), "site": "demo", "label": "board", "password": password},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    listed = client.get("/admin/analytics").text
    found = re.search(r"<code>https?://[^/]+(/admin/shared/[^<]+)</code>", listed)
    assert found is not None
    return found.group(1)


def _shared_until_revoked(shop: Shop) -> None:
    path = _make_link(shop.client)
    stranger = TestClient(shop.client.app)
    stranger.app_state.update(shop.client.app_state)
    shared = stranger.get(path, params={"period": "7d"})
    assert shared.status_code == 200
    assert "(shared, read only)" in shared.text
    assert 'id="table-pages"' in shared.text
    assert "Shared links" not in shared.text  # no management for the link's holder
    assert 'href="/admin/analytics' not in shared.text  # every link stays on its path
    csv_answer = stranger.get(path + ".csv", params={"table": "pages"})
    assert csv_answer.status_code == 200
    assert csv_answer.text.startswith("key,visitors,value,share")
    forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert stranger.get(forged).status_code == 404
    assert stranger.get("/admin/analytics").status_code in (303, 200)  # sign-in, not data
    page = shop.client.get("/admin/analytics").text
    link_id = path.rsplit("/", 1)[1].split(".")[0]
    revoked = shop.client.post(
        "/admin/analytics/share/revoke",
        data={"csrf": csrf_token(page), "site": "demo", "link": link_id},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    assert stranger.get(path).status_code == 404
    assert stranger.get(path + ".csv", params={"table": "pages"}).status_code == 404


def _password_first(shop: Shop) -> None:
    path = _make_link(shop.client, password="board-meeting-2026")
    stranger = TestClient(shop.client.app)
    stranger.app_state.update(shop.client.app_state)
    form = stranger.get(path)
    assert form.status_code == 200
    assert 'type="password"' in form.text
    assert 'id="table-pages"' not in form.text
    assert stranger.get(path + ".csv", params={"table": "pages"}).status_code == 403
    wrong = stranger.post(path, data={"csrf": csrf_token(form.text), "password": "guess"})
    assert wrong.status_code == 401
    form = stranger.get(path)
    right = stranger.post(
        path,
        data={"csrf": csrf_token(form.text), "password": "board-meeting-2026"},
        follow_redirects=False,
    )
    assert right.status_code == 303
    assert 'id="table-pages"' in stranger.get(path).text


def _only_managers(shop: Shop) -> None:
    save_file_user(shop.settings.data_dir / "admin" / "users.json", agent(AGENT, "demo"))
    support = TestClient(shop.client.app)
    support.app_state.update(shop.client.app_state)
    assert sign_in(support, AGENT).status_code == 303
    page = support.get("/admin/analytics")
    assert page.status_code == 200
    assert "Shared links" not in page.text
    made = support.post(
        "/admin/analytics/share",
        data={"csrf": csrf_token(page.text), "site": "demo", "label": "x"},
    )
    assert made.status_code == 403


def test_an_owner_reads_filters_compares_and_downloads(settings: Settings) -> None:
    with open_shop(settings) as shop:
        assert sign_in(shop.client, OWNER).status_code == 303
        _rows_set_filters(shop)
        _the_period_before(shop)
        _csv(shop)
        _a_csv_reads_only_its_part(shop)
        _a_bad_period(shop)


def test_shared_links_are_made_by_managers_read_without_signing_in_and_revoked(
    settings: Settings,
) -> None:
    with open_shop(settings) as shop:
        assert sign_in(shop.client, OWNER).status_code == 303
        _shared_until_revoked(shop)
        _password_first(shop)
        _only_managers(shop)
