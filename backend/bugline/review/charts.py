"""Server-side SVG charts for the review, pure (no I/O, no scripts, no inline styles: the
dashboard's CSP allows neither). Every chart is ``<svg role="img">`` named by its
``<title>`` and described by its ``<desc>`` (which carries the numbers in words), and the
page puts a data table next to it, so nothing is said by the picture alone.

Colours are classes (``bar tone-critical``) that dash-review.css paints from CSS variables;
the ``fill`` attributes are only the fallback for an SVG opened on its own. Every piece of
text passes through ``escape``: labels are customers' report titles.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from bugline.review.figures import DAY, HOUR, MINUTE, span

NS = "http://www.w3.org/2000/svg"
WIDTH = 720
LABEL_W = 240  # the label column
VALUE_W = 150  # room for the value printed after a bar
ROW_H = 26
TOP = 12
LABEL_CHARS = 30  # what fits the label column at 13 px
FALLBACK = {
    "critical": "#b3261e",
    "high": "#c2410c",
    "medium": "#a16207",
    "low": "#57606a",
    "accent": "#0b5cad",
    "muted": "#9aa4ae",
}


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float
    text: str  # the value as printed after the bar ("3", "5 d 3 h")
    tone: str = "accent"  # critical | high | medium | low | accent | muted


@dataclass(frozen=True, slots=True)
class Spread:
    """One row of a spread chart: how long a severity's reports took (seconds)."""

    label: str
    median: float | None
    p90: float | None
    target: float | None
    tone: str = "accent"


def short(text: str, limit: int = LABEL_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _fill(tone: str) -> str:
    return FALLBACK.get(tone, FALLBACK["accent"])


def _tone(tone: str) -> str:
    return tone if tone in FALLBACK else "accent"


def _open(chart_id: str, title: str, desc: str, height: int) -> list[str]:
    cid = escape(chart_id)
    return [
        f'<svg xmlns="{NS}" class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" aria-labelledby="{cid}-title {cid}-desc" '
        'preserveAspectRatio="xMinYMin meet" font-family="system-ui, sans-serif" font-size="13">',
        f'<title id="{cid}-title">{escape(title)}</title>',
        f'<desc id="{cid}-desc">{escape(desc)}</desc>',
    ]


def bar_chart(chart_id: str, title: str, desc: str, bars: Sequence[Bar]) -> Markup:
    """Horizontal bars, one row each: label, bar (length by value, from zero), printed value."""
    height = TOP * 2 + ROW_H * max(1, len(bars))
    out = _open(chart_id, title, desc, height)
    peak = max((b.value for b in bars), default=0.0)
    room = WIDTH - LABEL_W - VALUE_W
    for i, b in enumerate(bars):
        y = TOP + i * ROW_H
        # A zero is no bar; anything above it at least a sliver, so it never reads as zero.
        length = 0.0 if peak <= 0 or b.value <= 0 else max(2.0, room * b.value / peak)
        tone = _tone(b.tone)
        out.append(f'<g class="row"><title>{escape(b.label)}: {escape(b.text)}</title>')
        out.append(
            f'<text class="label" x="{LABEL_W - 8}" y="{y + ROW_H / 2 + 4:.1f}" text-anchor="end" '
            f'fill="#1b1f24">{escape(short(b.label))}</text>'
        )
        out.append(
            f'<rect class="bar tone-{tone}" x="{LABEL_W}" y="{y + 4}" width="{length:.1f}" '
            f'height="{ROW_H - 8}" fill="{_fill(tone)}"/>'
        )
        out.append(
            f'<text class="value" x="{LABEL_W + length + 6:.1f}" y="{y + ROW_H / 2 + 4:.1f}" '
            f'fill="#1b1f24">{escape(b.text)}</text></g>'
        )
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every text and attribute above is escaped


# ---- spread: durations on a logarithmic axis ------------------------------------------------

TICKS = (
    (MINUTE, "1 min"),
    (15 * MINUTE, "15 min"),
    (HOUR, "1 h"),
    (4 * HOUR, "4 h"),
    (DAY, "1 d"),
    (3 * DAY, "3 d"),
    (7 * DAY, "1 w"),
    (14 * DAY, "2 w"),
    (30 * DAY, "30 d"),
    (90 * DAY, "90 d"),
    (365 * DAY, "1 y"),
)


def spread_chart(chart_id: str, title: str, desc: str, rows: Sequence[Spread]) -> Markup:
    """Per row: a light bar to the 90th percentile, a dark bar to the median, and a dashed
    line at the target. The axis is logarithmic: a critical report's 4 hours and a low one's
    two weeks must both be readable on one chart."""
    legend_h = 22
    axis_h = 26
    height = TOP + legend_h + ROW_H * max(1, len(rows)) + axis_h
    out = _open(chart_id, title, desc, height)
    values = [v for r in rows for v in (r.median, r.p90, r.target) if v]
    lo = math.log10(MINUTE)
    hi = math.log10(max([HOUR, *values]) * 1.3)
    room = WIDTH - LABEL_W - 40

    def x(seconds: float) -> float:
        at = (math.log10(max(MINUTE, seconds)) - lo) / (hi - lo)
        return LABEL_W + room * min(1.0, max(0.0, at))

    out.append(
        f'<text class="legend" x="8" y="{TOP + 4}" fill="#57606a">'
        "Dark bar: median (half took less). Light bar: 90th percentile. Dashed line: target.</text>"
    )
    top = TOP + legend_h
    for i, r in enumerate(rows):
        y = top + i * ROW_H
        tone = _tone(r.tone)
        said = (
            f"median {span(r.median)}, 90th percentile {span(r.p90)}"
            if r.median is not None
            else "no reports"
        )
        target = f", target {span(r.target)}" if r.target else ", no target"
        out.append(f'<g class="row"><title>{escape(r.label)}: {escape(said + target)}</title>')
        out.append(
            f'<text class="label" x="{LABEL_W - 8}" y="{y + ROW_H / 2 + 4:.1f}" text-anchor="end" '
            f'fill="#1b1f24">{escape(short(r.label))}</text>'
        )
        if r.median is not None and r.p90 is not None:
            out.append(
                f'<rect class="range tone-{tone}" x="{LABEL_W}" y="{y + 5}" width="{x(r.p90) - LABEL_W:.1f}" '
                f'height="{ROW_H - 10}" fill="{_fill(tone)}" fill-opacity="0.35"/>'
            )
            out.append(
                f'<rect class="bar tone-{tone}" x="{LABEL_W}" y="{y + 8}" '
                f'width="{x(r.median) - LABEL_W:.1f}" height="{ROW_H - 16}" fill="{_fill(tone)}"/>'
            )
        else:
            out.append(
                f'<text class="value" x="{LABEL_W + 4}" y="{y + ROW_H / 2 + 4:.1f}" '
                'fill="#57606a">no reports</text>'
            )
        if r.target:
            tx = x(r.target)
            out.append(
                f'<line class="target" x1="{tx:.1f}" x2="{tx:.1f}" y1="{y + 2}" y2="{y + ROW_H - 2}" '
                'stroke="#1b1f24" stroke-width="2" stroke-dasharray="3 2"/>'
            )
        out.append("</g>")
    axis_y = top + ROW_H * max(1, len(rows)) + 4
    out.append(
        f'<line class="axis" x1="{LABEL_W}" x2="{LABEL_W + room}" y1="{axis_y}" y2="{axis_y}" '
        'stroke="#57606a"/>'
    )
    for seconds, name in TICKS:
        if lo <= math.log10(seconds) <= hi:
            tx = x(seconds)
            out.append(
                f'<line class="tick" x1="{tx:.1f}" x2="{tx:.1f}" y1="{axis_y}" y2="{axis_y + 4}" '
                'stroke="#57606a"/>'
                f'<text class="tick" x="{tx:.1f}" y="{axis_y + 17}" text-anchor="middle" '
                f'fill="#57606a">{name}</text>'
            )
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every text and attribute above is escaped
