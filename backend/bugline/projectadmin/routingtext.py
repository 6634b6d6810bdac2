"""The routing rules textarea: TOML or JSON in the shape the agent API's ``PUT …/routing``
takes (``rules`` and ``replace_defaults``), checked by ``bugline.routing`` so every error
names the line (a syntax error) or the key path (``routing.rules[0].when.severity``)."""

from __future__ import annotations

import json
import tomllib
from typing import Any

from bugline.projectadmin.problems import one
from bugline.routing import RoutingError, RoutingSettings

MAX_TEXT = 64 * 1024  # as the agent API's body cap
FIELD = "rules"

EXAMPLE = """\
# Project rules run first, then the shipped defaults (replace_defaults = true drops those).
replace_defaults = false

[[rules]]
name = "billing to finance"
when = { category = ["billing"] }
send = [{ role = "finance" }]
"""


def parse_document(text: str) -> object:
    """TOML or JSON (a text starting with ``{``) to plain data; syntax errors give the line."""
    if len(text) > MAX_TEXT:
        raise one(FIELD, f"the rules are longer than {MAX_TEXT // 1024} KiB")
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise one(FIELD, f"JSON line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
        except RecursionError:
            raise one(FIELD, "the JSON is nested too deeply") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise one(FIELD, f"TOML: {exc}") from None
    except RecursionError:
        raise one(FIELD, "the TOML is nested too deeply") from None


def parse_rules_text(text: str) -> RoutingSettings | None:
    """The project's routing settings from the textarea; None (empty text) means the defaults."""
    if not text.strip():
        return None
    data = parse_document(text)
    try:
        settings = RoutingSettings.from_json(data)
        settings.effective()
    except RoutingError as exc:
        raise one(FIELD, str(exc)) from None
    return settings


def shown(saved: Any) -> str:
    """The saved rules as the textarea shows them (JSON: the format needs no extra library)."""
    if not saved:
        return ""
    return json.dumps(saved, indent=2, ensure_ascii=False)
