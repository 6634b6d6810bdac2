"""A project's notification settings, ``settings["notifications"]``, checked before they are saved.

enabled     false: no customer mail at all (each notification is recorded as skipped)
locale      the language used when the customer's is not available ("en")
locales     the languages the project writes in (default: every shipped translation)
team        who escalated reports go to, as it reads in "has been passed to ...":
            "the payments team", or {"en": "the payments team", "de": "das Payments-Team"}
teams       the same per report category: {"billing": "the billing team"}
from_name   the sender's display name (default: BUGLINE_MAIL_FROM's, else the project's name)
reply_to    where the customer's replies go (a plain address)
templates   the project's own templates (``bugline.notify.templates``; saved one kind at a
            time through the agent API)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bugline.mail.smtp import ADDRESS
from bugline.notify.locales import builtin, normalise
from bugline.render import common

KEYS = ("enabled", "locale", "locales", "team", "teams", "from_name", "reply_to")
NAME_LIMIT = 100
MAX_TEAMS = 100


class PreferencesProblem(ValueError):
    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        path, why = next(iter(self.errors.items()))
        super().__init__(f"{path}: {why}")


def check(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The cleaned settings (``templates`` excluded); PreferencesProblem names every bad key."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    shipped = builtin()
    for key, value in raw.items():
        path = f"notifications.{key}"
        if key not in KEYS:
            errors[path] = f"unknown setting (known: {', '.join(KEYS)})"
        elif value is None:
            continue
        elif key == "enabled":
            if isinstance(value, bool):
                out[key] = value
            else:
                errors[path] = "must be true or false"
        elif key == "locale":
            tag = normalise(value)
            if tag is None or (tag not in shipped and tag.split("-", 1)[0] not in shipped):
                errors[path] = f"must be one of the shipped languages: {', '.join(shipped)}"
            else:
                out[key] = tag if tag in shipped else tag.split("-", 1)[0]
        elif key == "locales":
            tags = [normalise(v) for v in value] if isinstance(value, list) else [None]
            if not tags or any(t not in shipped for t in tags):
                errors[path] = f"must be a list of shipped languages: {', '.join(shipped)}"
            else:
                out[key] = list(dict.fromkeys(t for t in tags if t))
        elif key == "team":
            team, why = _team(value)
            if why:
                errors[path] = why
            else:
                out[key] = team
        elif key == "teams":
            if not isinstance(value, Mapping) or len(value) > MAX_TEAMS:
                errors[path] = f"must be an object of category -> team (at most {MAX_TEAMS})"
                continue
            teams = {}
            for category, item in value.items():
                team, why = _team(item)
                if why:
                    errors[f"{path}.{category}"] = why
                else:
                    teams[str(category)[:50]] = team
            out[key] = teams
        elif key == "from_name":
            if not isinstance(value, str) or len(value) > NAME_LIMIT:
                errors[path] = f"must be a name of at most {NAME_LIMIT} characters"
            else:
                out[key] = common.one_line(value, NAME_LIMIT)
        elif key == "reply_to":
            if not isinstance(value, str) or not ADDRESS.match(value.strip()):
                errors[path] = "must be a plain address like support@example.com"
            else:
                out[key] = value.strip()
    if errors:
        raise PreferencesProblem(errors)
    return out


def _team(value: Any) -> tuple[Any, str]:
    if isinstance(value, str):
        if not value.strip() or len(value) > NAME_LIMIT:
            return None, f"must be a team's name of 1 to {NAME_LIMIT} characters"
        return common.one_line(value, NAME_LIMIT), ""
    if isinstance(value, Mapping) and value:
        shipped = builtin()
        out = {}
        for locale, name in value.items():
            tag = normalise(locale) or ""
            tag = tag if tag in shipped else tag.split("-", 1)[0]
            if tag not in shipped:
                return None, f"{locale!r} is not a shipped language ({', '.join(shipped)})"
            if not isinstance(name, str) or not name.strip() or len(name) > NAME_LIMIT:
                return None, f"the {locale} name must be 1 to {NAME_LIMIT} characters"
            out[tag] = common.one_line(name, NAME_LIMIT)
        return out, ""
    return None, 'must be a name, or {"en": name, "de": name, ...}'
