"""The review page's charts, from a ``Review`` (pure). Each is drawn only when it has
something to show; the page prints the same numbers in a table beside it."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

from bugline.review.answers import name, plural
from bugline.review.charts import Bar, Spread, bar_chart, spread_chart
from bugline.review.data import Review
from bugline.review.figures import Timing, span
from bugline.sla.targets import SEVERITIES


def tone(severity: str | None) -> str:
    return severity if severity in SEVERITIES else "muted"


def _spread(chart_id: str, title: str, timings: Sequence[Timing]) -> Markup | None:
    if not any(t.count for t in timings):
        return None
    said = "; ".join(
        f"{t.severity}: {plural(t.count, 'report')}, median {span(t.median)}, 90th percentile {span(t.p90)}, "
        f"target {span(t.target) if t.target else 'none'}"
        if t.count
        else f"{t.severity}: no reports"
        for t in timings
    )
    rows = [Spread(t.severity, t.median, t.p90, t.target, tone(t.severity)) for t in timings]
    return spread_chart(chart_id, title, said + ".", rows)


def charts(r: Review) -> dict[str, Markup]:
    out: dict[str, Markup] = {}
    if r.slowest:
        bars = [Bar(name(s.report), s.took, span(s.took), tone(s.report.severity)) for s in r.slowest]
        out["slowest"] = bar_chart(
            "chart-slowest",
            f"The {len(bars)} slowest reports resolved in {r.month.title}",
            "; ".join(f"{b.label}: {b.text}" for b in bars) + ".",
            bars,
        )
    for key, title, timings in (
        ("resolution", "Time to resolution by severity", r.resolution),
        ("first_response", "Time to first response by severity", r.first_response),
    ):
        chart = _spread(f"chart-{key.replace('_', '-')}", f"{title}, {r.month.title}", timings)
        if chart is not None:
            out[key] = chart
    if r.breaches:
        counts = {s: 0 for s in SEVERITIES}
        for b in r.breaches:
            counts[b.severity if b.severity in counts else "medium"] += 1
        bars = [Bar(s, n, str(n), tone(s)) for s, n in counts.items()]
        out["breaches"] = bar_chart(
            "chart-breaches",
            f"Missed SLA targets by severity, {r.month.title}",
            "; ".join(f"{b.label}: {b.text}" for b in bars) + ".",
            bars,
        )
    if r.change_pairs:
        bars = [Bar(f"{b} → {a}", n, str(n), tone(a)) for (b, a), n in r.change_pairs.items()]
        out["changes"] = bar_chart(
            "chart-changes",
            f"Severity changed by hand, from triage's to the agent's, {r.month.title}",
            "; ".join(f"{b.label}: {b.text}" for b in bars) + ".",
            bars,
        )
    if r.repeated:
        bars = [
            Bar(name(g.primary) if g.primary else "(report gone)", g.this_month, str(g.this_month))
            for g in r.repeated
        ]
        out["repeated"] = bar_chart(
            "chart-repeated",
            f"Most repeated problems: reports received in {r.month.title}",
            "; ".join(f"{b.label}: {b.text}" for b in bars) + ".",
            bars,
        )
    return out
