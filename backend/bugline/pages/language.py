"""The language of the customer's pages: the one their mails are written in (pure once loaded).

The words live in ``pages/words/<language>.toml``, English being the source and the fallback.
A page about a report picks exactly the language its mails are written in
(``notify.locales.of_report`` then ``choose``: the reporter's own language, then the
browser's captured with the report, then the project's default), so the page a mail links to
speaks the mail's language. Only a page that leads to no report (a mistyped link) reads the
visitor's ``Accept-Language``, since it has nothing else. A question from the triage
engine reads in English with the customer's own words in it ("when you clicked Pay"); in
another language the page asks the translation's plain question (``Phrases.question``),
as the mails do.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from bugline.notify import locales

WORDS = Path(__file__).resolve().parent / "words"
SOURCE = "en"  # the language every other one translates, and the fallback
MAX_ACCEPT = 8  # Accept-Language entries read: a browser sends a handful, an attacker thousands


@dataclass(frozen=True, slots=True)
class Words:
    locale: str
    table: Mapping[str, Any]

    def __call__(self, key: str, **values: Any) -> str:
        """The sentence ``key`` with its ``{names}`` filled; numbers as this language writes them."""
        filled = {
            k: self.number(v) if isinstance(v, int) and not isinstance(v, bool) else v
            for k, v in values.items()
        }
        return str(self.table[key]).format(**filled)

    def number(self, n: int) -> str:
        return f"{n:,}".replace(",", str(self.table["thousands"]))

    def when(self, at: datetime) -> str:
        """ "3 March 2025, 14:05 UTC": unambiguous in every locale's reading of numbers."""
        at = at.astimezone(UTC)
        month = self.table["months"][at.month - 1]
        day = str(self.table["day_one"]) if at.day == 1 else str(at.day)
        return self("when", day=day, month=month, year=str(at.year), time=f"{at:%H:%M}")

    def question(self, fact: str, asked: str) -> str:
        """The engine's question ``asked`` for ``fact``, or this language's plain question."""
        if self.locale == SOURCE:
            return asked
        return locales.phrases(self.locale).question(fact, asked)


@cache
def shipped() -> tuple[str, ...]:
    """Languages with both page words and mail templates (a page must match its mails)."""
    return tuple(sorted(p.stem for p in WORDS.glob("*.toml") if p.stem in locales.builtin()))


@cache
def words(locale: str) -> Words:
    table = tomllib.loads((WORDS / f"{locale}.toml").read_text("utf-8"))
    return Words(locale, table)


ENGLISH = words(SOURCE)


def choose(candidates: Iterable[Any], notifications: Mapping[str, Any]) -> Words:
    """The words for the first candidate language the project writes in (see the module)."""
    locale = locales.choose(candidates, notifications)
    return words(locale if locale in shipped() else SOURCE)


def accepted(header: str) -> list[str]:
    """The languages of an ``Accept-Language`` header, most wanted first (``q=0`` left out)."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header[:1000].split(",")[:MAX_ACCEPT]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and q > 0:
            ranked.append((-q, i, tag))
    return [tag for _, _, tag in sorted(ranked)]
