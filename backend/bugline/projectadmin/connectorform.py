"""The connector forms: one field per setting a connector kind declares (``Setting``), read
into the mapping ``connectors.configs.add`` / ``change`` validate, the same code the agent
API and the CLI use. Secret fields are never filled in on the page; left empty when editing,
the saved secret stays."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bugline.connectors.base import Setting
from bugline.connectors.configs import ConfigError
from bugline.projectadmin.problems import Problems

PREFIX = "setting."
TRUE = ("on", "true", "1", "yes")


@dataclass(frozen=True, slots=True)
class Input:
    """How a setting appears on the page."""

    setting: Setting
    field: str  # the form field's name
    type: str  # text | url | email | number | password | checkbox | select
    required: bool


def inputs(spec: tuple[Setting, ...]) -> list[Input]:
    types = {
        "url": "url",
        "email": "email",
        "int": "number",
        "secret": "password",
        "bool": "checkbox",
        "choice": "select",
    }
    return [
        Input(s, PREFIX + s.name, types.get(s.kind, "text"), s.required and s.default is None) for s in spec
    ]


def read_settings(spec: tuple[Setting, ...], form: Mapping[str, str], *, editing: bool) -> dict[str, Any]:
    """Settings for ``configs.add`` (``editing=False``) or ``configs.change`` (merged over the
    saved ones: an empty secret keeps the saved one, an emptied field is removed)."""
    out: dict[str, Any] = {}
    for s in spec:
        raw = form.get(PREFIX + s.name)
        if s.kind == "bool":
            out[s.name] = (raw or "").strip().lower() in TRUE
            continue
        value = (raw or "").strip()
        if s.secret and not value:
            continue  # never shown, so empty means "keep" when editing and "missing" when adding
        if not value:
            if editing:
                out[s.name] = None
            continue
        out[s.name] = value
    return out


def roles_text(form: Mapping[str, str]) -> str | None:
    text = (form.get("roles") or "").strip()
    return text or None


def problems_of(exc: ConfigError) -> Problems:
    """``settings.token`` -> the form field ``setting.token``; other keys as they are."""
    return Problems(
        (PREFIX + key.removeprefix("settings.") if key.startswith("settings.") else key, message)
        for key, message in exc.errors.items()
    )
