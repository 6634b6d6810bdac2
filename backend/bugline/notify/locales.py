"""Which language a customer is written to in, and the few words that are not in a template.

A translation is a folder ``notify/templates/<locale>/`` holding every kind's subject, text
and HTML, the footer, and ``phrases.toml`` (durations, the default team's name). English is
built in and the fallback; adding a language is adding a folder, no code.

The reporter's own language wins when the project has a translation for it: first
``reporter.locale`` (the host app says it), then the language the report is written in (a
customer who writes in French is answered in French, whatever the browser says), then the
browser's locale captured with the report; a regional tag falls back to its language
("de-AT" -> "de"). Otherwise the
project's default (``settings["notifications"]["locale"]``), otherwise English. A project
may narrow the languages it writes in with ``settings["notifications"]["locales"]``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from bugline.triage import language
from bugline.triage.result import FACTS

TEMPLATES = Path(__file__).parent / "templates"
FALLBACK = "en"
_TAG = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})*$")


@cache
def builtin() -> tuple[str, ...]:
    """The translations shipped: every folder under templates/ that is not a shared part."""
    return tuple(sorted(p.name for p in TEMPLATES.iterdir() if p.is_dir() and not p.name.startswith("_")))


def normalise(tag: Any) -> str | None:
    """ "de_DE" / "DE-de" / "de-DE,de;q=0.9" -> "de-de"; None for anything that is no tag."""
    if not isinstance(tag, str):
        return None
    first = tag.split(",", 1)[0].split(";", 1)[0].strip().replace("_", "-").lower()
    return first if _TAG.match(first) else None


def of_report(reporter_locale: Any, environment: Any, written: Sequence[str | None] = ()) -> tuple[Any, ...]:
    """The languages a report's mails and pages are written in, first choice first: the
    reporter's own (the host app says it), the one the report is written in (``written``: its
    title and texts, see triage.language.code, read with the browser's locale as triage reads
    it, so a mail never speaks French to a report triage told is Italian), then the browser's
    captured with the report."""
    captured = environment.get("locale") if isinstance(environment, Mapping) else None
    return (reporter_locale, language.code(written, captured) or None, captured)


def available(notifications: Mapping[str, Any]) -> tuple[str, ...]:
    """The languages a project writes in: the shipped ones, narrowed by its ``locales``."""
    wanted = notifications.get("locales")
    shipped = builtin()
    if not isinstance(wanted, list) or not wanted:
        return shipped
    chosen = {normalise(w) for w in wanted}
    return tuple(loc for loc in shipped if loc in chosen) or (FALLBACK,)


def choose(candidates: Iterable[Any], notifications: Mapping[str, Any]) -> str:
    """The first candidate the project has a translation for (exact tag, then its language),
    else the project's default, else English."""
    have = available(notifications)
    for candidate in candidates:
        tag = normalise(candidate)
        if tag is None:
            continue
        if tag in have:
            return tag
        language = tag.split("-", 1)[0]
        if language in have:
            return language
    default = normalise(notifications.get("locale"))
    if default is not None:
        if default in have:
            return default
        if default.split("-", 1)[0] in have:
            return default.split("-", 1)[0]
    return FALLBACK if FALLBACK in have else have[0]


# ---- the words outside the templates ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Phrases:
    """A translation's ``phrases.toml``: durations as a promise ("within 4 hours") and the team
    named when a project names none. Each duration text has ``{n}``; singular forms are their
    own keys because "within a working day" is not "within 1 working days"."""

    words: Mapping[str, str]
    # fact -> the question in this language. The engine asks in English, naming what the
    # customer did in their own words ("when you clicked Pay"); a translation asks the plain
    # question instead, so a mail never mixes languages. English has none: the engine's own wins.
    questions: Mapping[str, str] = field(default_factory=dict)

    def get(self, key: str) -> str:
        return self.words[key]

    def question(self, fact: str, asked: str) -> str:
        """The question for ``fact`` in this language; ``asked`` (the engine's) if none."""
        return self.questions.get(fact, asked)

    def within(self, delta: timedelta) -> str:
        """The resolution target as a promise. The rounding is the SLA module's
        (``bugline.sla.targets.phrase``): always up, and whole days become working days, so
        the promise is never tighter than the target the timers measure."""
        minutes = max(1, int(delta.total_seconds() // 60))
        if minutes < 60:
            return self.words["minutes"].format(n=minutes)
        if minutes % (60 * 24) and minutes < 60 * 48:
            hours = -(-minutes // 60)
            return self.words["hour"] if hours == 1 else self.words["hours"].format(n=hours)
        days = -(-minutes // (60 * 24))
        if days % 7 == 0:
            weeks = days // 7
            return self.words["week"] if weeks == 1 else self.words["weeks"].format(n=weeks)
        return self.words["working_day"] if days == 1 else self.words["working_days"].format(n=days)


PHRASE_KEYS = ("minutes", "hour", "hours", "working_day", "working_days", "week", "weeks", "team")


@cache
def phrases(locale: str) -> Phrases:
    path = TEMPLATES / locale / "phrases.toml"
    words = tomllib.loads(path.read_text("utf-8"))
    missing = [k for k in PHRASE_KEYS if not isinstance(words.get(k), str)]
    if missing:
        raise ValueError(f"{path} lacks {', '.join(missing)}")
    questions = words.pop("questions", {})
    if not isinstance(questions, dict) or not all(
        fact in FACTS and isinstance(text, str) and text.strip() for fact, text in questions.items()
    ):
        raise ValueError(f"{path}: [questions] maps checklist facts ({', '.join(FACTS)}) to questions")
    return Phrases(words, questions)
