"""The review's pure parts: months, durations and percentiles, the "why" of a slow report,
the SVG charts (valid, accessible, escaped) and the CSV's injection defence."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from bugline.review import charts, export, figures, month
from bugline.review.charts import Bar, Spread
from bugline.review.figures import Step

NS = {"s": "http://www.w3.org/2000/svg"}
T0 = datetime(2024, 3, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


# ---- months ---------------------------------------------------------------------------------


def test_a_month_reads_and_spans_its_days() -> None:
    m = month.parse(" 2024-12 ")
    assert (m.label, m.title) == ("2024-12", "December 2024")
    assert (m.start, m.end) == (datetime(2024, 12, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC))
    assert month.parse("2024-01").previous().label == "2023-12"
    assert month.default(datetime(2025, 1, 6, 9, tzinfo=UTC)).label == "2024-12"  # the month just ended
    assert [m.label for m in month.recent(datetime(2025, 2, 1, tzinfo=UTC), 3)] == [
        "2025-02",
        "2025-01",
        "2024-12",
    ]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2024-13", "MM from 01 to 12"),
        ("2024-00", "MM from 01 to 12"),
        ("24-03", "YYYY-MM"),
        ("2024/03", "YYYY-MM"),
        ("", "YYYY-MM"),
        ("2024-03" * 1000, "YYYY-MM"),
        ("1999-12", "year from 2000"),
        ("٢٠٢٤-٠٣", "YYYY-MM"),  # other digits \d would accept
    ],
)
def test_a_bad_month_says_what_to_give(text: str, says: str) -> None:
    with pytest.raises(month.MonthError, match=says):
        month.parse(text)


# ---- figures --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (0, "0 s"),
        (59, "59 s"),
        (45 * 60, "45 min"),
        (3 * 3600 + 20 * 60, "3 h 20 min"),
        (3600, "1 h"),
        (5 * 86400 + 3 * 3600 + 59, "5 d 3 h"),
        (86400, "1 d"),
    ],
)
def test_durations_read_in_two_units(seconds: int, said: str) -> None:
    assert figures.span(timedelta(seconds=seconds)) == said


def test_percentiles_are_values_that_occurred() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]
    assert figures.percentile(values, 0.5) == 5.0
    assert figures.percentile(values, 0.9) == 9.0
    assert figures.percentile([7.0], 0.9) == 7.0
    assert figures.percentile([], 0.5) is None


def test_a_timing_counts_what_met_its_target() -> None:
    t = figures.timing("high", [3600, 7200, 10 * 3600, 30 * 3600], timedelta(hours=8))
    assert (t.count, t.median, t.p90, t.longest, t.within, t.within_share) == (
        4,
        7200,
        30 * 3600,
        30 * 3600,
        2,
        50,
    )
    assert figures.timing("low", [], None).within_share is None


def test_why_names_where_a_report_waited_longest_and_what_else_happened() -> None:
    steps = [
        Step(T0, "status_changed", to="needs_info"),
        Step(T0 + 2 * DAY, "status_changed", to="received"),
        Step(T0 + 2 * DAY + HOUR, "status_changed", to="in_progress"),
        Step(T0 + 2 * DAY + 2 * HOUR, "sla_escalated", level=2),
        Step(T0 + 2 * DAY + 3 * HOUR, "sla_escalated", level=3),
        Step(T0 + 2 * DAY + 4 * HOUR, "status_changed", to="resolved"),
        Step(T0 + 3 * DAY, "status_changed", to="reopened"),
        Step(T0 + 3 * DAY + HOUR, "delivery_failed"),
        Step(T0 + 3 * DAY + HOUR, "delivery_failed"),
    ]
    said = figures.why(T0, T0 + 4 * DAY, steps)
    assert said == (
        "2 d waiting on the customer's answers (needs info); reopened once; escalated to level 3; "
        "2 deliveries failed"
    )
    spent = figures.phases(T0, T0 + 4 * DAY, steps)
    assert spent["reopened"] == DAY.total_seconds()  # reopened until the final resolution
    assert figures.why(T0, T0 + HOUR, []) == "1 h waiting to reach the team (received, not yet forwarded)"


# ---- charts ---------------------------------------------------------------------------------


def test_a_bar_chart_is_valid_accessible_svg_with_one_bar_per_row() -> None:
    bars = [Bar("#1 Checkout", 10, "10", "critical"), Bar("#2 Menu", 5, "5", "low"), Bar("#3 Zero", 0, "0")]
    svg = parse(charts.bar_chart("c1", "Slowest reports", "three bars", bars))
    assert svg.get("role") == "img" and svg.get("aria-labelledby") == "c1-title c1-desc"
    assert svg.find("s:title", NS).text == "Slowest reports"  # type: ignore[union-attr]
    assert svg.find("s:title", NS).get("id") == "c1-title"  # type: ignore[union-attr]
    assert svg.find("s:desc", NS).text == "three bars"  # type: ignore[union-attr]
    rects = svg.findall(".//s:rect", NS)
    assert len(rects) == 3
    widths = [float(r.get("width", "0")) for r in rects]
    assert widths[0] == 2 * widths[1] and widths[2] == 0  # lengths in proportion, from zero
    assert rects[0].get("class") == "bar tone-critical"
    labels = [t.text for t in svg.findall(".//s:text", NS) if t.get("class") == "label"]
    assert labels == ["#1 Checkout", "#2 Menu", "#3 Zero"]
    assert "style" not in charts.bar_chart("c1", "t", "d", bars)  # the CSP forbids inline styles


def test_chart_text_is_escaped_and_long_labels_are_cut() -> None:
    hostile = '<script>alert(1)</script>" onload="x()'
    out = charts.bar_chart('x" onload="y', hostile, hostile, [Bar(hostile * 3, 1, "<b>1</b>")])
    svg = parse(out)  # still well-formed
    assert "<script>" not in out and 'onload="x()' not in out
    assert svg.find("s:title", NS).text == hostile  # type: ignore[union-attr]
    label = next(t for t in svg.findall(".//s:text", NS) if t.get("class") == "label")
    assert label.text is not None and label.text.endswith("…") and len(label.text) <= charts.LABEL_CHARS
    assert [e for e in svg.iter() if e.tag.endswith("script")] == []
    assert all(not k.startswith("on") for e in svg.iter() for k in e.attrib)


def test_an_empty_bar_chart_is_still_valid() -> None:
    svg = parse(charts.bar_chart("e", "Nothing", "no data", []))
    assert svg.findall(".//s:rect", NS) == []


def test_a_spread_chart_draws_median_range_and_target_per_row() -> None:
    rows = [
        Spread("critical", 3 * 3600, 6 * 3600, 4 * 3600, "critical"),
        Spread("high", None, None, 8 * 3600, "high"),
        Spread("low", 5 * 86400, 13 * 86400, 14 * 86400, "low"),
    ]
    svg = parse(charts.spread_chart("s", "Time to resolution", "by severity", rows))
    bars = [r for r in svg.findall(".//s:rect", NS) if "bar" in r.get("class", "").split()]
    ranges = [r for r in svg.findall(".//s:rect", NS) if "range" in r.get("class", "").split()]
    assert len(bars) == len(ranges) == 2  # the row without reports has none
    assert len(svg.findall(".//s:line[@class='target']", NS)) == 3
    # Log axis: a median of 3 h is shorter than its 6 h range, and 5 d longer than 6 h.
    assert float(bars[0].get("width", 0)) < float(ranges[0].get("width", 0)) < float(bars[1].get("width", 0))
    ticks = [t.text for t in svg.findall(".//s:text", NS) if t.get("class") == "tick"]
    assert "1 h" in ticks and "1 d" in ticks and "2 w" in ticks
    assert "no reports" in [t.text for t in svg.findall(".//s:text", NS)]


# ---- CSV ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("a=1", "a=1"),
        ("", ""),
        (None, ""),
        (True, "yes"),
        (3, "3"),
    ],
)
def test_cells_that_a_spreadsheet_would_run_are_made_text(value: object, cell: str) -> None:
    assert export.cell(value) == cell


def test_the_csv_round_trips_quotes_commas_and_newlines() -> None:
    title = 'He said "no", then\nleft'
    text = export.to_csv(["a", "b"], [[title, "=x"]])
    assert text.endswith("\r\n")
    assert list(csv.reader(io.StringIO(text))) == [["a", "b"], [title, "'=x"]]
