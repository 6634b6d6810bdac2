"""A project's SLA targets: the shipped defaults (``defaults.toml`` next to this module, each
value with the SOP line it comes from), deep-merged with the project's ``settings["sla"]``.

Like the triage rules (``bugline.triage.rules``), an unknown key or a bad value is refused
with its path ("sla.critical.first_response: ..."), so a typo never leaves a default in place
silently. ``targets_for`` raises; the policy and the scheduler use ``targets_or_defaults``,
which logs and falls back, so a broken setting never blocks a status change.
"""

from __future__ import annotations

import json
import logging
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cache, lru_cache
from importlib import resources
from typing import Any

log = logging.getLogger("bugline.sla")

SEVERITIES = ("critical", "high", "medium", "low")
LEVELS = (2, 3)  # the SOP's escalation levels (level 1 is the frontline, where a report starts)
OFF = "off"
DEFAULT_SEVERITY = "medium"  # a report triage could not rate is treated as medium

_ROLE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")  # as connectors.configs.ROLE
_PART = re.compile(r"(\d{1,6})\s*([mhdw])")
_UNIT = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
MAX_DURATION = timedelta(days=366)
MIN_FOLLOW_UP = timedelta(hours=1)


class SlaError(ValueError):
    """An SLA setting is unknown or has a bad value; the message names the key's path."""


@dataclass(frozen=True, slots=True)
class Escalation:
    level: int  # 2 or 3
    after: timedelta  # from receipt


@dataclass(frozen=True, slots=True)
class SeverityTargets:
    first_response: timedelta | None
    resolution: timedelta
    escalations: tuple[Escalation, ...]  # in order of time


@dataclass(frozen=True, slots=True)
class Targets:
    """One project's targets. Methods take a severity; anything but the four levels (a report
    without a verdict) is read as medium."""

    severities: Mapping[str, SeverityTargets]
    follow_up: timedelta
    cannot_reproduce_close: timedelta
    lead_role: str
    owner_role: str

    def of(self, severity: str | None) -> SeverityTargets:
        if severity is None or severity not in self.severities:
            severity = DEFAULT_SEVERITY
        return self.severities[severity]

    def first_response(self, severity: str | None) -> timedelta | None:
        return self.of(severity).first_response

    def resolution(self, severity: str | None) -> timedelta:
        return self.of(severity).resolution

    def escalations(self, severity: str | None) -> tuple[Escalation, ...]:
        return self.of(severity).escalations

    def promise(self, severity: str | None) -> str:
        """The resolution target as the customer's escalation mail says it: "within 4 hours"."""
        return phrase(self.resolution(severity))


# ---- durations ---------------------------------------------------------------------------


def parse_duration(value: Any, where: str, *, allow_off: bool = False) -> timedelta | None:
    """ "30m", "2h", "1d", "2w", "1d12h" -> timedelta; "off" -> None where allowed."""
    example = '"30m", "2h" or "1d"' + (' (or "off")' if allow_off else "")
    if not isinstance(value, str):
        raise SlaError(f"{where} must be a duration like {example}, not {type(value).__name__}")
    text = value.strip().lower()
    if allow_off and text == OFF:
        return None
    if not text or _PART.sub("", text).strip():
        raise SlaError(f"{where} must be a duration like {example}, not {value!r}")
    total = sum((int(n) * _UNIT[u] for n, u in _PART.findall(text)), timedelta())
    if total <= timedelta(0):
        raise SlaError(f"{where} must be longer than zero")
    if total > MAX_DURATION:
        raise SlaError(f"{where} must be at most 366 days")
    return total


def phrase(delta: timedelta) -> str:
    """A duration in the customer's words. Days become working days: the promise is never
    tighter than the calendar target the timers use."""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"within {minutes} minutes"
    if minutes % (60 * 24) and minutes < 60 * 48:
        hours = -(-minutes // 60)  # round up: promise no less time than the target
        return "within an hour" if hours == 1 else f"within {hours} hours"
    days = -(-minutes // (60 * 24))
    if days % 7 == 0:
        weeks = days // 7
        return "within a week" if weeks == 1 else f"within {weeks} weeks"
    return "within a working day" if days == 1 else f"within {days} working days"


def format_duration(delta: timedelta) -> str:
    """Compact form for notes and events: "2h", "1d4h", "45m"."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 60 * 24)
    hours, mins = divmod(rest, 60)
    out = (f"{days}d" if days else "") + (f"{hours}h" if hours else "") + (f"{mins}m" if mins else "")
    return out or "0m"


# ---- loading -----------------------------------------------------------------------------


@cache
def defaults() -> Mapping[str, Any]:
    """The shipped defaults as parsed (shared: copy before changing)."""
    text = resources.files("bugline.sla").joinpath("defaults.toml").read_text("utf-8")
    return tomllib.loads(text)


def merge(base: Mapping[str, Any], override: Mapping[str, Any], path: str) -> dict[str, Any]:
    """``override`` laid over ``base``, table by table; only keys the defaults know."""
    out = dict(base)
    for key, value in override.items():
        where = f"{path}.{key}"
        if key not in base:
            raise SlaError(f"unknown setting {where} (known here: {', '.join(sorted(base))})")
        if isinstance(base[key], Mapping):
            if not isinstance(value, Mapping):
                raise SlaError(f"{where} must be a table of settings")
            out[key] = merge(base[key], value, where)
        else:
            out[key] = value
    return out


def targets_for(project_settings: Mapping[str, Any] | None) -> Targets:
    """The targets of a project, from its whole settings (reads ``settings["sla"]``)."""
    raw = (project_settings or {}).get("sla") or {}
    if not isinstance(raw, Mapping):
        raise SlaError("sla must be a table of settings")
    return _load(json.dumps(raw, sort_keys=True, default=str))


def targets_or_defaults(project_settings: Mapping[str, Any] | None) -> Targets:
    """``targets_for``, or the defaults (logged) when the project's settings do not load:
    a status change or a timer must never fail on a setting someone mistyped."""
    try:
        return targets_for(project_settings)
    except SlaError as exc:
        log.error("SLA settings of a project do not load (%s); using the defaults", exc)
        return targets_for(None)


def check(sla: Any) -> None:
    """Validate a would-be ``settings["sla"]`` value; raises SlaError naming the key."""
    targets_for({"sla": sla})


@lru_cache(maxsize=256)
def _load(key: str) -> Targets:
    merged = merge(defaults(), json.loads(key), "sla")
    severities = {s: _severity(merged[s], f"sla.{s}") for s in SEVERITIES}
    follow_up = parse_duration(merged["follow_up"], "sla.follow_up")
    assert follow_up is not None
    if follow_up < MIN_FOLLOW_UP:
        raise SlaError("sla.follow_up must be at least 1h (a reminder more often is noise)")
    close = parse_duration(merged["cannot_reproduce_close"], "sla.cannot_reproduce_close")
    assert close is not None
    return Targets(
        severities=severities,
        follow_up=follow_up,
        cannot_reproduce_close=close,
        lead_role=_role(merged["lead_role"], "sla.lead_role"),
        owner_role=_role(merged["owner_role"], "sla.owner_role"),
    )


def _severity(table: Mapping[str, Any], path: str) -> SeverityTargets:
    first = parse_duration(table["first_response"], f"{path}.first_response", allow_off=True)
    resolution = parse_duration(table["resolution"], f"{path}.resolution")
    assert resolution is not None
    if first is not None and first > resolution:
        raise SlaError(
            f"{path}.first_response ({format_duration(first)}) must not be later than "
            f"{path}.resolution ({format_duration(resolution)})"
        )
    escalations: list[Escalation] = []
    for level in LEVELS:
        where = f"{path}.escalation.level_{level}"
        after = parse_duration(table["escalation"][f"level_{level}"], where, allow_off=True)
        if after is None:
            continue
        if escalations and after <= escalations[-1].after:
            raise SlaError(
                f"{where} ({format_duration(after)}) must be later than level_{escalations[-1].level} "
                f"({format_duration(escalations[-1].after)})"
            )
        escalations.append(Escalation(level, after))
    return SeverityTargets(first, resolution, tuple(escalations))


def _role(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _ROLE.match(value):
        raise SlaError(f'{where} must be a role name like "lead" (lower case, digits, - and _)')
    return value
