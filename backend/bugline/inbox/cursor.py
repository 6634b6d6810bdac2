"""Keyset cursors: where the last page stopped, as an opaque URL-safe string.

A cursor is the sort's name, the segment of the sort it stopped in and the sort key values
of the last row shown. The next page starts strictly after that row, so its cost does not
grow with the page's depth (OFFSET would read and skip every earlier row) and rows arriving
meanwhile neither repeat nor shift the rest."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime

Value = str | int | datetime
MAX_CURSOR = 500  # a real cursor is ~120 characters


class CursorError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Cursor:
    sort: str
    segment: int
    values: tuple[Value, ...]


def _plain(value: Value) -> str | int | list[str]:
    if isinstance(value, datetime):
        return ["t", value.astimezone(UTC).isoformat()]
    return value


def encode(cursor: Cursor) -> str:
    raw = json.dumps([cursor.sort, cursor.segment, [_plain(v) for v in cursor.values]], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _value(item: object) -> Value:
    if isinstance(item, bool):
        raise CursorError("cursor value")
    if isinstance(item, int | str):
        return item
    if isinstance(item, list) and len(item) == 2 and item[0] == "t" and isinstance(item[1], str):
        at = datetime.fromisoformat(item[1])
        if at.tzinfo is None:
            raise CursorError("cursor time without a zone")
        return at
    raise CursorError("cursor value")


def decode(text: str) -> Cursor:
    """The cursor, or CursorError for anything we did not hand out (edited, truncated, foreign)."""
    if len(text) > MAX_CURSOR:
        raise CursorError("too long")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = json.loads(raw)
        if not (isinstance(data, list) and len(data) == 3):
            raise CursorError("shape")
        sort, segment, values = data
        if not isinstance(sort, str) or not isinstance(segment, int) or not isinstance(values, list):
            raise CursorError("shape")
        return Cursor(sort, segment, tuple(_value(v) for v in values))
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
        raise CursorError(str(exc)) from None
