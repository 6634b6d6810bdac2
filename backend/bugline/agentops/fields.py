"""The report's editable checklist: which column holds each SOP fact, its label, its cap,
and the checks an agent's edit goes through (pure).

The caps are intake's (intake/schema.py), so an edited report is one intake would have
accepted and the engine reads it the same way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bugline.agentops.errors import OpError
from bugline.pages.answers import AFFECTED_WORDS, FREQUENCY_WORDS
from bugline.pages.formbody import clean


@dataclass(frozen=True, slots=True)
class Field:
    name: str  # the report column, the form field and the API key
    label: str
    fact: str  # the checklist fact it answers (triage.result.FACTS); "" for none
    cap: int = 20_000
    choices: Mapping[str, str] = field(default_factory=dict)  # value -> words
    multiline: bool = True


FIELDS: tuple[Field, ...] = (
    Field("title", "Title", "", cap=300, multiline=False),
    Field("trying_to_do", "What they were trying to do", "trying_to_do"),
    Field("expected", "What they expected", "expected"),
    Field("actual", "What happened instead", "actual"),
    Field("error_text", "Error message", "error_text"),
    Field("steps", "Steps to reproduce", "steps_to_reproduce"),
    Field("frequency", "How often", "frequency", choices=FREQUENCY_WORDS, multiline=False),
    Field("people_affected", "Who is affected", "affected", choices=AFFECTED_WORDS, multiline=False),
    Field("description", "Description (free text)", "", cap=100_000),
)
BY_NAME = {f.name: f for f in FIELDS}


def checked(values: Mapping[str, object]) -> dict[str, str | None]:
    """The edits to apply (column -> value; None clears a choice), or an OpError naming
    the first field to fix. Unknown names are refused, not ignored: a typo must not look
    like a saved edit."""
    out: dict[str, str | None] = {}
    for name, raw in values.items():
        f = BY_NAME.get(name)
        if f is None:
            raise OpError(422, "unknown_field", f"{name!r} is not an editable field", name)
        if raw is None:
            if not f.choices:
                raise OpError(422, "invalid_field", f"{f.label}: give text (an empty text clears it)", name)
            out[name] = None
            continue
        if not isinstance(raw, str):
            raise OpError(422, "invalid_field", f"{f.label}: must be text", name)
        value = clean(raw).strip()
        if f.choices:
            if value and value not in f.choices:
                raise OpError(422, "invalid_choice", f"{f.label}: choose one of {', '.join(f.choices)}", name)
            out[name] = value or None
            continue
        if not f.multiline:
            value = " ".join(value.split())
        if len(value) > f.cap:
            raise OpError(
                422,
                "too_long",
                f"{f.label} is {len(value):,} characters long; shorten it to {f.cap:,} or fewer",
                name,
            )
        out[name] = value
    return out
