"""The notification preferences form (pure): ``settings["notifications"]`` as form values and
back, checked by the same ``notify.preferences.check`` as the agent API.

Fields: ``enabled`` (checkbox), ``from_name``, ``reply_to``, ``locale`` (the default language),
``locales`` (checkboxes; none ticked = every shipped language), ``team.<lang>`` (who escalated
reports go to, per language; the same name in every field is saved as one name) and ``teams``
(one ``category = team`` per line).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.datastructures import ImmutableMultiDict

from bugline.notify import preferences
from bugline.notify.locales import FALLBACK, builtin
from bugline.projectadmin.problems import Problems

MAX_TEAM_LINES = preferences.MAX_TEAMS
FORM_KEYS = ("enabled", "from_name", "reply_to", "locale", "locales", "team", "teams")


def current(notifications: Mapping[str, Any]) -> dict[str, Any]:
    """The form's values for the saved settings."""
    team = notifications.get("team")
    # One name for every language fills every field; a name per language fills its own.
    per_language = (
        team if isinstance(team, Mapping) else dict.fromkeys(builtin(), team) if isinstance(team, str) else {}
    )
    teams = notifications.get("teams")
    teams = teams if isinstance(teams, Mapping) else {}
    locales = notifications.get("locales")
    return {
        "enabled": notifications.get("enabled") is not False,
        "from_name": str(notifications.get("from_name") or ""),
        "reply_to": str(notifications.get("reply_to") or ""),
        "locale": str(notifications.get("locale") or FALLBACK),
        "locales": list(locales) if isinstance(locales, list) else [],
        **{f"team.{lang}": str(per_language.get(lang) or "") for lang in builtin()},
        "teams": "\n".join(f"{c} = {n}" for c, n in teams.items() if isinstance(n, str)),
        # Categories named per language come from the agent API; the form keeps them as they are.
        "teams_per_language": sorted(c for c, n in teams.items() if isinstance(n, Mapping)),
    }


def typed(form: ImmutableMultiDict[str, str]) -> dict[str, Any]:
    """The form's values as the agent sent them, to show the form again with its problems."""
    values = current({})
    values.update({k: form.get(k) or "" for k in values if isinstance(values[k], str)})
    values["enabled"] = form.get("enabled") == "on"
    values["locales"] = form.getlist("locales")
    return values


def read(form: ImmutableMultiDict[str, str]) -> dict[str, Any]:
    """The checked settings (the keys of FORM_KEYS that are set); Problems names the field."""
    names = {lang: (form.get(f"team.{lang}") or "").strip() for lang in builtin()}
    too_long = [lang for lang, name in names.items() if len(name) > preferences.NAME_LIMIT]
    if too_long:
        raise Problems(
            (f"team.{lang}", f"must be 1 to {preferences.NAME_LIMIT} characters") for lang in too_long
        )
    filled = {lang: name for lang, name in names.items() if name}
    team: Any = None
    if len(filled) == len(names) and len(set(filled.values())) == 1:
        team = next(iter(filled.values()))  # the same name in every language: one name
    elif filled:
        team = filled  # a language left empty says "our engineering team" in that language
    raw = {
        "enabled": form.get("enabled") == "on",
        "from_name": (form.get("from_name") or "").strip() or None,
        "reply_to": (form.get("reply_to") or "").strip() or None,
        "locale": form.get("locale") or None,
        "locales": form.getlist("locales") or None,
        "team": team,
        "teams": _teams(form.get("teams") or ""),
    }
    try:
        return preferences.check(raw)
    except preferences.PreferencesProblem as exc:
        raise Problems((_field(path), why) for path, why in exc.errors.items()) from None


def _teams(text: str) -> dict[str, str] | None:
    out: dict[str, str] = {}
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > MAX_TEAM_LINES:
        raise Problems([("teams", f"at most {MAX_TEAM_LINES} categories")])
    for number, line in enumerate(lines, 1):
        category, sep, name = line.partition("=")
        if not sep or not category.strip() or not name.strip():
            raise Problems(
                [("teams", f"line {number}: write category = team, like billing = the billing team")]
            )
        out[category.strip()] = name.strip()
    return out or None


def _field(path: str) -> str:
    """``notifications.teams.billing`` -> the form field that holds it (``teams``)."""
    key = path.removeprefix("notifications.").split(".", 1)[0]
    return f"team.{FALLBACK}" if key == "team" else key


def merged(notifications: Mapping[str, Any], chosen: Mapping[str, Any]) -> dict[str, Any]:
    """The project's notification settings with the form's keys replaced (templates kept);
    a key the form left empty goes back to its default."""
    out = {k: v for k, v in notifications.items() if k not in FORM_KEYS}
    out.update(chosen)
    old = notifications.get("teams")
    kept = {c: n for c, n in old.items() if isinstance(n, Mapping)} if isinstance(old, Mapping) else {}
    if kept:
        out["teams"] = {**kept, **(out.get("teams") or {})}
    return out
