"""The review's CSV export, pure. Report titles are the customers' words and a spreadsheet
runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (CSV injection,
https://owasp.org/www-community/attacks/CSV_Injection): such cells get a leading ``'``, which
spreadsheets show as text. Tab and carriage return count too: some spreadsheets strip them
and then read the formula behind."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bugline.review.data import Row
from bugline.review.month import Month
from bugline.sla.targets import Targets

RISKY = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    return "'" + text if text.startswith(RISKY) else text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180 line ends
    writer.writerow([cell(h) for h in header])
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return out.getvalue()


HEADER = (
    "number",
    "report_id",
    "title",
    "link",
    "severity",
    "kind",
    "category",
    "status",
    "received_at",
    "first_response_at",
    "first_response_hours",
    "first_response_target_hours",
    "first_response_within_target",
    "resolved_at",
    "resolution_hours",
    "resolution_target_hours",
    "resolution_within_target",
    "missed_targets_this_month",
    "severity_changed_by_hand",
    "duplicate_group",
    "group_reports",
    "received_this_month",
    "resolved_this_month",
)


def _iso(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if at else ""


def _hours(delta: timedelta | None) -> str:
    return "" if delta is None else f"{delta.total_seconds() / 3600:.2f}"


def _within(delta: timedelta | None, target: timedelta | None) -> bool | None:
    return None if delta is None or target is None else delta <= target


def month_csv(
    rows: Sequence[Row],
    *,
    month: Month,
    targets: Targets,
    missed: Mapping[str, Sequence[str]],
    changed: Mapping[str, Sequence[str]],
    link: str,
) -> str:
    """One line per report of the month (received in it, or resolved in it), with its times
    against its targets; ``link`` is the dashboard's base URL for the report page."""

    def line(r: Row) -> list[Any]:
        first, resolution = targets.first_response(r.severity), targets.resolution(r.severity)
        return [
            r.number,
            r.id,
            r.title,
            f"{link}/reports/{r.id}",
            r.severity or "",
            r.kind or "",
            r.category or "",
            r.status,
            _iso(r.received),
            _iso(r.first_response),
            _hours(r.response_time),
            _hours(first),
            _within(r.response_time, first),
            _iso(r.resolved),
            _hours(r.resolution_time),
            _hours(resolution),
            _within(r.resolution_time, resolution),
            "; ".join(t.replace("_", " ") for t in missed.get(r.id, ())),
            "; ".join(changed.get(r.id, ())),
            r.group_id or "",
            r.group_reports if r.group_id else "",
            month.start <= r.created_at < month.end,
            r.resolved is not None and month.start <= r.resolved < month.end,
        ]

    return to_csv(HEADER, (line(r) for r in rows))
