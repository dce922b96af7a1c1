"""``/admin/analytics``: the web analytics a site team reads first, for any period, compared
with the one before, under filters set by clicking a row; every table as CSV.

The figures come from ``aggregator.reports.analytics`` (k-anonymous under every
combination of filters) through ``collector.admin.analytics_view``. The page is rendered
on the server, with no script: a row is a link that adds its filter, a filter is a link
that removes it. The same rendering serves a shared link's page (``shared_page``), whose
links stay under the link's own path.
"""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from aggregator.reports.analytics import Summary
from aggregator.reports.filters import Dimension
from aggregator.reports.periods import PERIODS
from collector.action_log import AdminAction
from collector.admin.analytics_view import (
    ANALYTICS_PATH,
    CSV_ROWS,
    SUMMARY,
    AnalyticsView,
    csv_tables,
    view_for,
)
from collector.admin.charts import Series, line_chart
from collector.admin.guard import MANAGERS, SECURITY_HEADERS, AdminContext
from collector.admin.pages import esc, fewer_than, field, hidden, select, table
from collector.admin.share_forms import share_section

__all__ = ["ANALYTICS_PATH", "analytics", "analytics_csv", "csv_response", "render_analytics"]

PERIOD_NAMES = {"today": "Today", "7d": "Last 7 days", "30d": "Last 30 days",
                "month": "A month", "custom": "A custom range"}  # fmt: skip
SECTIONS = (
    ("Pages", ("pages", "entry_pages", "exit_pages")),
    ("Sources", ("sources", "utm_sources", "utm_mediums", "utm_campaigns")),
    ("Devices", ("devices", "browsers", "operating_systems")),
    ("Countries", ("countries",)),
    ("Links and files", ("outbound_links", "downloads")),
    ("Custom events and goals", ("events",)),
    ("Engagement", ("scroll_depth", "engaged_time")),
)
_FILTER_NAMES = {
    Dimension.PAGE: "Page", Dimension.SOURCE: "Source", Dimension.UTM_SOURCE: "UTM source",
    Dimension.UTM_MEDIUM: "UTM medium", Dimension.UTM_CAMPAIGN: "UTM campaign",
    Dimension.DEVICE: "Device", Dimension.BROWSER: "Browser", Dimension.OS: "OS",
    Dimension.COUNTRY: "Country", Dimension.EVENT: "Event", Dimension.SIGNAL: "Signal",
}  # fmt: skip


def _link(path: str, query: dict[str, str]) -> str:
    return esc(f"{path}?{urlencode(query)}")


def _count(value: int | None, k: int) -> str:
    return fewer_than(k) if value is None else f"{value:,}"


def _change(now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return "—"
    if before == 0:
        return "new" if now else "no change"
    return f"{(now - before) / before:+.0%}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def _figures(summary: Summary | None) -> list[tuple[str, float | None, str]]:
    if summary is None:
        return []

    def share(value: float | None) -> str:
        return "—" if value is None else f"{value:.0%}"

    return [
        ("Visitors", summary.visitors, ""),
        ("Visits", summary.visits, ""),
        ("Pageviews", summary.pageviews, ""),
        ("Bounce rate", summary.bounce_rate, share(summary.bounce_rate)),
        ("Visit duration", summary.visit_seconds, _duration(summary.visit_seconds)),
        ("Pages per visit", summary.pages_per_visit,
         "—" if summary.pages_per_visit is None else f"{summary.pages_per_visit:.1f}"),
    ]  # fmt: skip


def _summary(view: AnalyticsView) -> str:
    before = _figures(view.previous) if view.previous else None
    items = []
    for index, (name, value, shown) in enumerate(_figures(view.summary)):
        text = shown or _count(None if value is None else int(value), view.k)
        compared = ""
        if before is not None:
            _, earlier, earlier_shown = before[index]
            was = earlier_shown or _count(None if earlier is None else int(earlier), view.k)
            compared = f'<span class="was">was {was}, {_change(value, earlier)}</span>'
        items.append(f'<div class="figure"><dt>{name}</dt><dd>{text}{compared}</dd></div>')
    now = _count(view.realtime, view.k)
    return (
        '<section aria-labelledby="summary-h"><h2 id="summary-h">Summary</h2>'
        f'<dl class="figures">{"".join(items)}</dl>'
        f'<p class="live">Visitors in the last 5 minutes: <strong>{now}</strong></p></section>'
    )


def _chart(view: AnalyticsView) -> str:
    days = view.question.period.days
    found = {row.key: row.visitors for row in view.tables["days"].rows}
    hidden_days = view.tables["days"].hidden_keys
    values = [None if str(day) in hidden_days else float(found.get(str(day), 0)) for day in days]
    series = [Series("Visitors", values)]
    if view.compare and "days" in view.previous_tables:
        earlier = {row.key: row.visitors for row in view.previous_tables["days"].rows}
        before = view.question.period.previous().days
        series.append(Series("Previous period", [float(earlier.get(str(d), 0)) for d in before]))
    chart = line_chart("visitors", "Visitors per day", days, series, "Visitors per day", view.k)
    return (
        f'<section aria-labelledby="days-h"><h2 id="days-h">Visitors per day</h2>{chart}</section>'
    )


def _table(view: AnalyticsView, name: str, path: str) -> str:
    found = view.tables[name]
    breakdown = found.breakdown
    before = view.previous_tables.get(name)
    earlier = {row.key: row.visitors for row in before.rows} if before else {}
    share = "Conversion rate" if name == "events" else "Share of visitors"
    headers = [breakdown.row_title, "Visitors"]
    headers += [breakdown.value_title] if breakdown.value_title else []
    headers += [share] + (["Previous period", "Change"] if before else [])
    rows = []
    for row in found.rows:
        key = esc(row.key)
        if breakdown.sets is not None and row.key != "(none)":
            query = view.query(**{breakdown.sets.value: row.key})
            key = f'<a href="{_link(path, query)}" title="Only these visitors">{key}</a>'
        cells = [key, f"{row.visitors:,}"]
        cells += [f"{row.value:,}"] if breakdown.value_title else []
        cells.append(f"{row.share:.1%}")
        if before is not None:
            was = earlier.get(row.key)
            cells += [_count(was, view.k), _change(row.visitors, was)]
        rows.append(cells)
    numeric = tuple(range(1, len(headers)))
    note = ""
    if found.total is None:
        note = f"<p>Fewer than {view.k} visitors match these filters, or a number would single some out.</p>"
    elif found.hidden_rows:
        note = (
            f"<p>{found.hidden_rows} more row{'s' if found.hidden_rows > 1 else ''} had fewer "
            f"than {view.k} visitors, or would single visitors out, and "
            f"{'are' if found.hidden_rows > 1 else 'is'} not shown.</p>"
        )
    download = _link(path + ".csv", view.query(table=name))
    return (
        f'<div class="panel" id="table-{name}">{table(breakdown.title, headers, rows, numeric)}'
        f'{note}<p><a href="{download}" download>Download {esc(breakdown.title)} as CSV</a></p></div>'
    )


def _filters(view: AnalyticsView, path: str) -> str:
    if not view.question.filters:
        return "<p>All visitors. Click a row of a table to see only its visitors.</p>"
    chips = "".join(
        f"<li>{esc(_FILTER_NAMES[f.dimension])} is <strong>{esc(f.value)}</strong> "
        f'<a href="{_link(path, view.query(**{f.dimension.value: None}))}">remove</a></li>'
        for f in view.question.filters.items
    )
    return (
        f'<div class="filters"><p>Only visitors who, in the period:</p><ul>{chips}</ul>'
        f'<p><a href="{_link(path, view.query(**{d.value: None for d in Dimension}))}">'
        "Remove every filter</a></p></div>"
    )


def controls(view: AnalyticsView, path: str, sites: list[tuple[str, str]] | None) -> str:
    period = view.question.period
    chosen_month = period.first.strftime("%Y-%m") if period.name == "month" else ""
    keep = "".join(hidden(f.dimension.value, f.value) for f in view.question.filters.items)
    site = select("Site", "site", sites, view.site.id) if sites else hidden("site", view.site.id)
    compare = " checked" if view.compare else ""
    return (
        f'<form method="get" action="{esc(path)}" class="choose">{site}'
        f"{select('Period', 'period', list(PERIOD_NAMES.items()), period.name)}"
        f"{field('Month (a month)', 'month', chosen_month, 'month')}"
        f"{field('From (a custom range)', 'from', str(period.first), 'date')}"
        f"{field('To', 'to', str(period.last), 'date')}"
        f'<label><input type="checkbox" name="compare" value="previous"{compare}> '
        f"Compare with the period before</label>{keep}"
        '<button type="submit">Show</button></form>'
    )


def render_analytics(view: AnalyticsView, path: str, sites: list[tuple[str, str]] | None) -> str:
    period = view.question.period
    sections = "".join(
        f'<section aria-labelledby="{names[0]}-h"><h2 id="{names[0]}-h">{esc(title)}</h2>'
        f"{''.join(_table(view, name, path) for name in names)}</section>"
        for title, names in SECTIONS
    )
    compared = f", compared with {period.previous().label}" if view.compare else ""
    return (
        f"{controls(view, path, sites)}"
        f'<p class="lead">{esc(view.site.name or view.site.id)}: {esc(period.label)} (UTC)'
        f"{esc(compared)}. Visitors counted once each; a number that would describe fewer "
        f"than {view.k} visitors, alone or subtracted from another, is shown as "
        f"“fewer than {view.k}”.</p>"
        f"{_filters(view, path)}{_summary(view)}{_chart(view)}{sections}"
    )


def csv_response(view: AnalyticsView, name: str) -> Response:
    """A table (or ``summary``) as CSV; cells that a spreadsheet would run as a formula are
    quoted with a leading apostrophe."""
    out = io.StringIO()
    writer = csv.writer(out)
    if name == SUMMARY:
        _summary_csv(writer, view)
    else:
        _table_csv(writer, view, name)
    period = view.question.period
    filename = f"{view.site.id}-{name}-{period.first}-{period.last}.csv"
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(out.getvalue(), 200, headers, media_type="text/csv; charset=utf-8")


def _summary_csv(writer: Any, view: AnalyticsView) -> None:
    writer.writerow(["figure", "value", "previous"])
    before = _figures(view.previous) if view.previous else None
    for index, (figure, value, _) in enumerate(_figures(view.summary)):
        earlier = before[index][1] if before else None
        writer.writerow(
            [figure, "" if value is None else value, "" if earlier is None else earlier]
        )


def _table_csv(writer: Any, view: AnalyticsView, name: str) -> None:
    before = view.previous_tables.get(name)
    earlier = {row.key: row.visitors for row in before.rows} if before else {}
    writer.writerow(
        ["key", "visitors", "value", "share"] + (["previous_visitors"] if before else [])
    )
    for row in view.tables[name].rows:
        cells: list[object] = [_safe_cell(row.key), row.visitors, row.value, f"{row.share:.4f}"]
        writer.writerow(cells + ([earlier.get(row.key, "")] if before else []))


def _safe_cell(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def _view(
    context: AdminContext, rows: int, only: tuple[str, ...] | None = None
) -> AnalyticsView:
    query = context.request.query_params
    return await view_for(context.runtime, context.site(query.get("site")), query, rows, only)


async def analytics(context: AdminContext) -> Response:
    view = await _view(context, 10)
    await context.log(AdminAction.VIEW_DASHBOARD, site=view.site.id, detail=urlencode(view.query()))
    sites = [(site.id, site.name or site.id) for site in context.sites()]
    body = render_analytics(view, ANALYTICS_PATH, sites)
    if context.user is not None and context.user.role in MANAGERS:
        links = await run_in_threadpool(context.runtime.shares.of_site, view.site.id)
        body += share_section(context, view.site.id, links)
    return context.page(f"Analytics: {view.site.name or view.site.id}", body)


async def analytics_csv(context: AdminContext) -> Response:
    name, only = csv_tables(context.request.query_params)
    view = await _view(context, CSV_ROWS, only)
    await context.log(AdminAction.VIEW_DASHBOARD, site=view.site.id, detail=f"csv {name}")
    return csv_response(view, name)


assert set(PERIOD_NAMES) == set(PERIODS)
