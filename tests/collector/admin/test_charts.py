"""Server-drawn SVG charts: named and described, labelled axes, gaps and "fewer than k"
where a group was suppressed, and every text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta

from collector.admin.charts import (
    Bar,
    Interval,
    Series,
    bar_chart,
    interval_chart,
    line_chart,
    nice_ticks,
)

SVG = "{http://www.w3.org/2000/svg}"
DAYS = [date(2026, 3, 1) + timedelta(days=n) for n in range(10)]


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))


def child_text(root: ET.Element, tag: str) -> str:
    return root.findtext(f"{SVG}{tag}") or ""


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def test_ticks_are_round_and_cover_the_top() -> None:
    assert nice_ticks(0) == [0.0, 1.0]
    assert nice_ticks(7) == [0, 2, 4, 6, 8]
    assert nice_ticks(1000) == [0, 250, 500, 750, 1000]
    assert nice_ticks(0.37)[-1] >= 0.37


def test_a_line_chart_has_a_name_axes_and_a_gap_for_each_hidden_day() -> None:
    values: list[float | None] = [float(n) for n in range(10)]
    values[4] = None
    root = parsed(
        line_chart("t", "Visitors & <sessions>", DAYS, [Series("Visitors", values)], "Count", 5)
    )
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "t-t t-d"
    assert child_text(root, "title") == "Visitors & <sessions>"
    assert "Gaps are days with fewer than 5 visitors." in child_text(root, "desc")
    shown = texts(root)
    assert "Count" in shown
    assert "Day (UTC)" in shown
    assert "01 Mar" in shown
    assert "10 Mar" in shown
    lines = [p for p in root.iter(f"{SVG}polyline") if len(p.get("points", "").split()) > 2]
    assert [len(p.get("points", "").split()) for p in lines] == [4, 5]
    assert len(list(root.iter(f"{SVG}circle"))) == 9


def test_a_bar_chart_writes_fewer_than_k_for_a_hidden_group() -> None:
    bars = [Bar("cart", 120, "120"), Bar("payment", None, ""), Bar("<b>", 3, "3")]
    root = parsed(bar_chart("f", "Funnel", bars, "Visitor-days", 10))
    assert "fewer than 10" in texts(root)
    assert len(list(root.iter(f"{SVG}rect"))) == 2
    assert "payment: fewer than 10" in child_text(root, "desc")
    assert "<b>" in texts(root)  # escaped in the SVG, read back as text


def test_an_interval_chart_draws_each_rate_with_its_interval() -> None:
    rows = [Interval("with", 0.3, 0.2, 0.4), Interval("without", None, 0.0, 1.0)]
    root = parsed(interval_chart("v", "Validation", rows, "Goal rate"))
    assert len(list(root.iter(f"{SVG}circle"))) == 1
    assert "0%" in texts(root)
    assert "100%" in texts(root)
    assert "no figure" in texts(root)
    assert "with: 30.0% (20.0% to 40.0%)" in child_text(root, "desc")
