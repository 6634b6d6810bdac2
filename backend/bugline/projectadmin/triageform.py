"""The triage form: the completeness threshold, each fact's weight in the completeness score,
and each keyword family's weight in the severity score, read into ``settings["triage"]``.

Other overrides a project set through the API or CLI (patterns, plans …) are kept as they
are. A value equal to the shipped default is left out, so the project keeps following the
defaults it did not change. The result is loaded by ``bugline.triage.rules`` before it is
saved: whatever that refuses is refused here too, with the key it names."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bugline.projectadmin.problems import Problems
from bugline.triage import rules
from bugline.triage.errors import RulesError
from bugline.triage.result import FACTS

MAX_WEIGHT = 1000  # completeness points per fact
MAX_SEVERITY = 100.0  # severity points one keyword family may add or take away


@dataclass(frozen=True, slots=True)
class Field:
    name: str  # the form field
    path: tuple[str, ...]  # where it lives in settings["triage"]
    label: str
    whole: bool  # whole numbers only
    least: float
    most: float

    @property
    def key(self) -> str:
        return "triage." + ".".join(self.path)


def families() -> tuple[str, ...]:
    keywords = rules.defaults("severity").get("keywords") or {}
    return tuple(keywords)


def fields() -> tuple[Field, ...]:
    out = [
        Field(
            "threshold",
            ("completeness", "score", "threshold"),
            "Completeness threshold (0 to 100)",
            True,
            0,
            100,
        )
    ]
    out += [
        Field(
            f"weight.{fact}",
            ("completeness", "score", "weights", fact),
            fact.replace("_", " "),
            True,
            0,
            MAX_WEIGHT,
        )
        for fact in FACTS
    ]
    out += [
        Field(
            f"severity.{name}",
            ("severity", "keywords", name, "weight"),
            name.replace("_", " "),
            False,
            -MAX_SEVERITY,
            MAX_SEVERITY,
        )
        for name in families()
    ]
    return tuple(out)


def _default(path: tuple[str, ...]) -> Any:
    value: Any = rules.defaults(path[0])
    for part in path[1:]:
        value = value[part]
    return value


def _lookup(table: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(table, Mapping) or part not in table:
            return None
        table = table[part]
    return table


def current(triage: Any) -> dict[str, str]:
    """The values the form shows: the project's own, else the defaults."""
    out: dict[str, str] = {}
    for f in fields():
        own = _lookup(triage, f.path)
        value = own if isinstance(own, int | float) and not isinstance(own, bool) else _default(f.path)
        out[f.name] = _number_text(value)
    return out


def _number_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _parse(f: Field, raw: str) -> int | float:
    what = (
        f"a whole number from {f.least:g} to {f.most:g}"
        if f.whole
        else f"a number from {f.least:g} to {f.most:g}"
    )
    try:
        value: int | float = int(raw) if f.whole else float(raw)
    except ValueError:
        raise ValueError(f"{f.key} must be {what}") from None
    if not math.isfinite(value) or not f.least <= value <= f.most:
        raise ValueError(f"{f.key} must be {what}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value


def _set(table: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        child = table.get(part)
        if not isinstance(child, dict):
            child = {}
            table[part] = child
        table = child
    table[path[-1]] = value


def _drop(table: dict[str, Any], path: tuple[str, ...]) -> None:
    """Remove the key and every table it leaves empty."""
    if len(path) == 1:
        table.pop(path[0], None)
        return
    child = table.get(path[0])
    if isinstance(child, dict):
        _drop(child, path[1:])
        if not child:
            table.pop(path[0], None)


def read_triage(form: Mapping[str, str], existing: Any) -> dict[str, Any]:
    """The new ``settings["triage"]``; Problems names each bad key
    (``triage.completeness.score.weights.actual``)."""
    triage: dict[str, Any] = copy.deepcopy(dict(existing)) if isinstance(existing, Mapping) else {}
    problems: list[tuple[str, str]] = []
    for f in fields():
        raw = (form.get(f.name) or "").strip()
        if not raw:
            _drop(triage, f.path)  # an emptied field goes back to the default
            continue
        try:
            value = _parse(f, raw[:40])
        except ValueError as exc:
            problems.append((f.name, str(exc)))
            continue
        if value == _default(f.path):
            _drop(triage, f.path)
        else:
            _set(triage, f.path, value)
    if not problems:
        try:
            rules.load_rules(triage)
        except RulesError as exc:
            problems.append(("triage", str(exc)))
    if problems:
        raise Problems(problems)
    return triage
