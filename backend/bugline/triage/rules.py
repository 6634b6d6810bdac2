"""A project's triage rules: the shipped defaults, deep-merged with the project's overrides.

The defaults are readable TOML files next to this module (``defaults/<part>.toml``), one per
part of the engine, each key commented. A project overrides any of them in its settings
under ``triage``, with the same shape (``{"severity": {"keywords": {...}}}``); an unknown
key is refused with its path, so a typo never silently leaves a default in place.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bugline.triage import language
from bugline.triage.classify import ClassificationRules
from bugline.triage.completeness import CompletenessRules
from bugline.triage.defaultfile import read_defaults
from bugline.triage.duplicates import DuplicateRules
from bugline.triage.errors import RulesError
from bugline.triage.severity import SeverityRules

PARTS = ("completeness", "severity", "classification", "duplicates")


def defaults(part: str) -> Mapping[str, Any]:
    """The shipped defaults of one part, as parsed from its TOML file."""
    if part not in PARTS:
        raise RulesError(f"unknown triage part {part!r}: use one of {', '.join(PARTS)}")
    return read_defaults(part)


def merge(
    base: Mapping[str, Any], override: Mapping[str, Any], path: str, *, root: bool = True
) -> dict[str, Any]:
    """``override`` laid over ``base``; tables merge key by key, anything else replaces.

    Only keys the defaults know are accepted. Tables whose keys are free (keyword families,
    plan names) are declared open by an empty ``[...]`` default or by their TOML comment;
    those are recognised as tables that hold tables or lists of their own. A part's top
    level is never open: its sections are fixed.
    """
    out = dict(base)
    for key, value in override.items():
        where = f"{path}.{key}"
        if key not in base:
            # Any table of phrases may list words in another language (``de = [...]``).
            if not root and key in language.EXTRA and isinstance(base.get("patterns"), list):
                out[key] = value
                continue
            if not root and _open_table(base):
                out[key] = value
                continue
            known = ", ".join(sorted(base)) or "none"
            raise RulesError(f"unknown setting {where} (known here: {known})")
        current = base[key]
        if isinstance(current, Mapping):
            if not isinstance(value, Mapping):
                raise RulesError(f"{where} must be a table of settings")
            out[key] = merge(current, value, where, root=False)
        else:
            if isinstance(current, bool) != isinstance(value, bool) or (
                isinstance(current, int | float) and not isinstance(value, int | float)
            ):
                raise RulesError(f"{where} must be {type(current).__name__}, not {type(value).__name__}")
            if isinstance(current, str) and not isinstance(value, str):
                raise RulesError(f"{where} must be a string")
            if isinstance(current, list) and not isinstance(value, list):
                raise RulesError(f"{where} must be a list")
            out[key] = value
    return out


def _open_table(table: Mapping[str, Any]) -> bool:
    """A table of named entries (every value a table or a list): a project may add its own."""
    return bool(table) and all(isinstance(v, Mapping | list) for v in table.values())


@dataclass(frozen=True, slots=True)
class TriageRules:
    completeness: CompletenessRules
    severity: SeverityRules
    classification: ClassificationRules
    duplicates: DuplicateRules


def load_rules(overrides: Mapping[str, Any] | None = None) -> TriageRules:
    """The rules for a project: defaults with ``overrides`` (a project's ``settings["triage"]``)."""
    overrides = overrides or {}
    if not isinstance(overrides, Mapping):
        raise RulesError("triage settings must be a table with parts " + ", ".join(PARTS))
    unknown = sorted(set(overrides) - set(PARTS))
    if unknown:
        raise RulesError(f"unknown triage part {unknown[0]!r}: use one of {', '.join(PARTS)}")
    return _load(json.dumps(overrides, sort_keys=True, default=str))


@lru_cache(maxsize=256)
def _load(key: str) -> TriageRules:
    # Cached by the overrides' canonical JSON: compiling every keyword family's regexes on
    # each report would cost more than scoring it.
    overrides: dict[str, Any] = json.loads(key)

    def part(name: str) -> dict[str, Any]:
        value = overrides.get(name, {})
        if not isinstance(value, Mapping):
            raise RulesError(f"triage.{name} must be a table of settings")
        return merge(defaults(name), value, f"triage.{name}")

    return TriageRules(
        completeness=CompletenessRules.from_mapping(part("completeness")),
        severity=SeverityRules.from_mapping(part("severity")),
        classification=ClassificationRules.from_mapping(part("classification")),
        duplicates=DuplicateRules.from_mapping(part("duplicates")),
    )


def default_rules() -> TriageRules:
    return load_rules(None)
