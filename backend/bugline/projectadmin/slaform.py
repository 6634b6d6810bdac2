"""The SLA form: one text field per target (``critical.first_response``, ``follow_up`` …),
read into the override ``settings["sla"]`` holds. Only values that differ from the shipped
defaults are saved, so a project keeps following the defaults it never changed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bugline.connectors.configs import ROLE  # the role names connectors carry
from bugline.projectadmin.problems import Problems
from bugline.sla import targets
from bugline.sla.targets import SEVERITIES, SlaError

MAX_TEXT = 40


@dataclass(frozen=True, slots=True)
class Field:
    name: str  # the form field and the key path under sla: "critical.escalation.level_2"
    label: str
    allow_off: bool = False
    role: bool = False


PER_SEVERITY = (
    ("first_response", "First response", True),
    ("resolution", "Resolution", False),
    ("escalation.level_2", "Escalate to level 2", True),
    ("escalation.level_3", "Escalate to level 3", True),
)
FIELDS: tuple[Field, ...] = (
    *(
        Field(f"{sev}.{key}", f"{sev.capitalize()}: {label}", off)
        for sev in SEVERITIES
        for key, label, off in PER_SEVERITY
    ),
    Field("follow_up", "Follow-up reminder every"),
    Field("cannot_reproduce_close", "Close 'cannot reproduce' after"),
    Field("lead_role", "Escalations go to connectors with the role", role=True),
    Field("owner_role", "Follow-ups go to connectors with the role", role=True),
)


def _get(table: Mapping[str, Any], path: str) -> Any:
    value: Any = table
    for part in path.split("."):
        value = value[part]
    return value


def _put(table: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        table = table.setdefault(part, {})
    table[last] = value


def current(sla: Any) -> dict[str, str]:
    """The form's values: the project's settings over the defaults (defaults if they do not load)."""
    try:
        merged = targets.merge(targets.defaults(), sla if isinstance(sla, Mapping) else {}, "sla")
        return {f.name: str(_get(merged, f.name)) for f in FIELDS}
    except (SlaError, KeyError, TypeError):
        return {f.name: str(_get(targets.defaults(), f.name)) for f in FIELDS}


def read_sla(form: Mapping[str, str]) -> dict[str, Any]:
    """The override for ``settings["sla"]``; Problems names each bad field (``critical.resolution``)."""
    problems: list[tuple[str, str]] = []
    override: dict[str, Any] = {}
    defaults = targets.defaults()
    for f in FIELDS:
        raw = (form.get(f.name) or "").strip()
        default = _get(defaults, f.name)
        if not raw:
            raw = str(default)  # an emptied field goes back to the default
        if len(raw) > MAX_TEXT:
            problems.append((f.name, f"at most {MAX_TEXT} characters"))
            continue
        try:
            if f.role:
                if not ROLE.match(raw):
                    raise SlaError(
                        f'sla.{f.name} must be a role name like "lead" (lower case, digits, - and _)'
                    )
            else:
                targets.parse_duration(raw, f"sla.{f.name}", allow_off=f.allow_off)
        except SlaError as exc:
            problems.append((f.name, str(exc)))
            continue
        value = raw.lower() if not f.role else raw
        if value != str(default):
            _put(override, f.name, value)
    if not problems:
        try:
            targets.check(override)  # across fields: first response before resolution, levels in order
        except SlaError as exc:
            problems.append(("sla", str(exc)))
    if problems:
        raise Problems(problems)
    return override
