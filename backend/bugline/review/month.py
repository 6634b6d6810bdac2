"""Which month a review is about: "2025-06" in the query string, checked before any query."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")  # ASCII digits only (\d takes any script's)
NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
FIRST_YEAR, LAST_YEAR = 2000, 2999  # wide enough for any real review; keeps datetime arithmetic safe


class MonthError(ValueError):
    """A month that cannot be read; the message says what to give instead."""


@dataclass(frozen=True, slots=True, order=True)
class Month:
    year: int
    month: int

    @property
    def label(self) -> str:
        """The machine form, as the query string and the CSV name carry it: "2025-06"."""
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def title(self) -> str:
        """The people form: "June 2025"."""
        return f"{NAMES[self.month - 1]} {self.year}"

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant of the next month (the range is [start, end))."""
        return self.following().start

    def following(self) -> Month:
        return Month(self.year + (self.month == 12), self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)


def parse(text: str) -> Month:
    value = text.strip()
    found = _MONTH.match(value) if len(value) <= 7 else None
    if not found:
        raise MonthError("Give the month as YYYY-MM, for example 2025-06.")
    year, month = int(found.group(1)), int(found.group(2))
    if not 1 <= month <= 12:
        raise MonthError(f"There is no month {month:02d}: give the month as YYYY-MM, with MM from 01 to 12.")
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise MonthError(f"Give a year from {FIRST_YEAR} to {LAST_YEAR}.")
    return Month(year, month)


def of(at: datetime) -> Month:
    at = at.astimezone(UTC)
    return Month(at.year, at.month)


def default(now: datetime) -> Month:
    """The month just ended: the SOP's review happens "on the first Monday of every month",
    about the month before."""
    return of(now).previous()


def recent(now: datetime, count: int = 13) -> list[Month]:
    """The selector's choices, newest first: this month and the twelve before it."""
    out = [of(now)]
    while len(out) < count:
        out.append(out[-1].previous())
    return out
