"""Charts as SVG drawn on the server: no script, no external file, readable without colour.

Each chart is an ``<svg role="img">`` named by its ``<title>`` and described by its
``<desc>``, with labelled axes and tick values; every point and bar has a ``<title>`` of its
own. A value the summaries suppressed (fewer than k visitors) is drawn as a gap in a line
and written "fewer than k" in place of a bar. The pages also show the same figures as
tables, so nothing is only in a picture.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from collector.admin.pages import esc

__all__ = ["Bar", "Interval", "Series", "bar_chart", "interval_chart", "line_chart", "nice_ticks"]

WIDTH, LINE_HEIGHT = 680, 280
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 56
SERIES_CLASSES = ("series-a", "series-b", "series-c")


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]  # one per day; None: suppressed


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: suppressed
    shown: str  # the value as written beside the bar


@dataclass(frozen=True)
class Interval:
    label: str
    rate: float | None
    low: float
    high: float


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``top``."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / (count - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [step * i for i in range(math.ceil(top / step - 1e-9) + 1)]


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.2g}"


def _frame(chart_id: str, title: str, description: str, height: int, inner: str) -> str:
    return (
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'height="{height}" aria-labelledby="{chart_id}-t {chart_id}-d">'
        f'<title id="{chart_id}-t">{esc(title)}</title><desc id="{chart_id}-d">{esc(description)}</desc>'
        f"{inner}</svg>"
    )


def line_chart(
    chart_id: str,
    title: str,
    days: Sequence[date],
    series: Sequence[Series],
    y_label: str,
    k: int,
) -> str:
    """Daily values as lines, with a gap where a day's value was suppressed."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, LINE_HEIGHT - TOP - BOTTOM
    known = [v for s in series for v in s.values if v is not None]
    ticks = nice_ticks(max(known, default=0.0))
    top = ticks[-1]
    step = plot_w / max(len(days) - 1, 1)

    def x(i: int) -> float:
        return LEFT + i * step

    def y(v: float) -> float:
        return TOP + plot_h - (v / top) * plot_h

    parts = [
        f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(t):.1f}" y2="{y(t):.1f}" stroke="#d0d4da"/>'
        f'<text class="tick" x="{LEFT - 6}" y="{y(t) + 4:.1f}" text-anchor="end">{_number(t)}</text>'
        for t in ticks
    ]
    every = max(1, math.ceil(len(days) / 8))
    labelled = set(range(0, len(days), every))
    if len(days) > 1 and len(days) - 1 - max(labelled) < every / 2 and max(labelled) > 0:
        labelled.discard(max(labelled))  # too close to the last day, which is always labelled
    labelled.add(len(days) - 1)
    for i, day in enumerate(days):
        if i in labelled:
            parts.append(
                f'<text class="tick" x="{x(i):.1f}" y="{TOP + plot_h + 18}" text-anchor="middle">'
                f"{day:%d %b}</text>"
            )
    for n, line in enumerate(series):
        css = SERIES_CLASSES[n % len(SERIES_CLASSES)]
        runs: list[list[str]] = [[]]
        for i, value in enumerate(line.values):
            if value is None:
                runs.append([])
                continue
            runs[-1].append(f"{x(i):.1f},{y(value):.1f}")
            parts.append(
                f'<circle class="{css}" cx="{x(i):.1f}" cy="{y(value):.1f}" r="3">'
                f"<title>{esc(line.name)}, {days[i]:%d %B}: {_number(value)}</title></circle>"
            )
        parts.extend(
            f'<polyline class="{css}" fill="none" stroke-width="2" points="{" ".join(run)}"/>'
            for run in runs
            if len(run) > 1
        )
        at = LEFT + 150 * n
        parts.append(
            f'<polyline class="{css}" fill="none" stroke-width="2" '
            f'points="{at},{LINE_HEIGHT - 12} {at + 24},{LINE_HEIGHT - 12}"/>'
            f'<text class="legend {css}" x="{at + 30}" y="{LINE_HEIGHT - 8}">{esc(line.name)}</text>'
        )
    parts.append(
        f'<text class="axis" transform="rotate(-90)" x="{-(TOP + plot_h / 2):.1f}" y="14" '
        f'text-anchor="middle">{esc(y_label)}</text>'
        f'<text class="axis" x="{WIDTH - RIGHT}" y="{LINE_HEIGHT - 8}" text-anchor="end">Day (UTC)</text>'
        f'<line class="axis-line" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}" stroke="#555"/>'
    )
    gaps = sum(1 for s in series for v in s.values if v is None)
    note = f" Gaps are days with fewer than {k} visitors." if gaps else ""
    description = (
        f"{', '.join(s.name for s in series)} per day from {days[0]:%d %B} to {days[-1]:%d %B}."
        f"{note}"
        if days
        else "No days."
    )
    return _frame(chart_id, title, description, LINE_HEIGHT, "".join(parts))


def bar_chart(chart_id: str, title: str, bars: Sequence[Bar], x_label: str, k: int) -> str:
    """Horizontal bars, one a row, labelled on the left and valued on the right."""
    label_w, row_h = 220, 28
    plot_w = WIDTH - label_w - 110
    height = TOP + row_h * max(len(bars), 1) + 40
    known = [b.value for b in bars if b.value is not None]
    top = max(known, default=0.0) or 1.0
    parts = []
    for i, bar in enumerate(bars):
        row_y = TOP + i * row_h
        label = esc(bar.label)
        if len(bar.label) > 32:  # shortened, with the whole label as its tooltip
            label = f"<title>{label}</title>{esc(bar.label[:31])}…"
        parts.append(
            f'<text class="label" x="{label_w - 8}" y="{row_y + 18}" text-anchor="end">{label}</text>'
        )
        if bar.value is None:
            parts.append(
                f'<text class="suppressed" x="{label_w + 4}" y="{row_y + 18}">fewer than {k}</text>'
            )
            continue
        width = max(1.0, bar.value / top * plot_w)
        parts.append(
            f'<rect class="bar" x="{label_w}" y="{row_y + 5}" width="{width:.1f}" height="{row_h - 10}">'
            f"<title>{esc(bar.label)}: {esc(bar.shown)}</title></rect>"
            f'<text class="value" x="{label_w + width + 6:.1f}" y="{row_y + 18}">{esc(bar.shown)}</text>'
        )
    parts.append(
        f'<line class="axis-line" x1="{label_w}" x2="{label_w}" y1="{TOP}" y2="{height - 36}" stroke="#555"/>'
        f'<text class="axis" x="{label_w}" y="{height - 12}">{esc(x_label)}</text>'
    )
    description = "; ".join(
        f"{b.label}: {b.shown if b.value is not None else f'fewer than {k}'}" for b in bars
    )
    return _frame(chart_id, title, description or "Nothing to show.", height, "".join(parts))


def interval_chart(chart_id: str, title: str, rows: Sequence[Interval], x_label: str) -> str:
    """Rates from 0 to 100 % as dots with their 95 % intervals as whiskers."""
    label_w, row_h = 260, 26
    plot_w = WIDTH - label_w - 24
    height = TOP + row_h * max(len(rows), 1) + 52

    def x(rate: float) -> float:
        return label_w + rate * plot_w

    parts = []
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            f'<line class="grid" x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{TOP}" '
            f'y2="{height - 40}" stroke="#d0d4da"/><text class="tick" x="{x(tick):.1f}" '
            f'y="{height - 26}" text-anchor="middle">{tick:.0%}</text>'
        )
    for i, row in enumerate(rows):
        mid = TOP + i * row_h + row_h / 2
        parts.append(
            f'<text class="label" x="{label_w - 8}" y="{mid + 4:.1f}" text-anchor="end">{esc(row.label)}</text>'
        )
        if row.rate is None:
            parts.append(
                f'<text class="suppressed" x="{label_w + 4}" y="{mid + 4:.1f}">no figure</text>'
            )
            continue
        parts.append(
            f'<line class="whisker" x1="{x(row.low):.1f}" x2="{x(row.high):.1f}" y1="{mid:.1f}" '
            f'y2="{mid:.1f}" stroke="#333" stroke-width="2"/>'
            f'<circle class="bar" cx="{x(row.rate):.1f}" cy="{mid:.1f}" r="5"><title>{esc(row.label)}: '
            f"{row.rate:.1%} (95% interval {row.low:.1%} to {row.high:.1%})</title></circle>"
        )
    parts.append(f'<text class="axis" x="{label_w}" y="{height - 8}">{esc(x_label)}</text>')
    description = "; ".join(
        f"{r.label}: {r.rate:.1%} ({r.low:.1%} to {r.high:.1%})"
        if r.rate is not None
        else f"{r.label}: no figure"
        for r in rows
    )
    return _frame(chart_id, title, description or "Nothing to show.", height, "".join(parts))
