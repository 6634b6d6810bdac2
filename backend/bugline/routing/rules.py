"""Routing rules: parsed, validated and cached; the shipped defaults plus a project's own.

A rule set is an ordered list of rules (format and examples: docs/routing.md). The defaults
are ``defaults.toml`` next to this module, written from the support SOPs. A project adds
or replaces rules in its settings::

    project.settings["routing"] = {"rules": [...], "replace_defaults": false}

Its rules run first, then the defaults (a project rule named like a default leaves that
default out; ``replace_defaults = true`` leaves all of them out). Every error names the
key path (``routing.rules[2].when.severity``) and the rule, so a typo never silently
sends reports nowhere. Sizes are capped before anything is iterated: a hostile PUT of a
million-item list is refused at its length, not walked.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any, cast

from bugline.routing.errors import RoutingError
from bugline.routing.facts import CATEGORIES, KINDS, Connection
from bugline.routing.glob import UrlGlob
from bugline.triage.result import LEVELS, Kind, Level

MAX_RULES = 100
MAX_TARGETS = 10  # send entries per rule
MAX_VALUES = 50  # entries in one condition's list
MAX_GLOBS = 20
MAX_TAGS = 20
MAX_NAME = 80  # rule names
MAX_TEXT = 200  # option values, plans, accounts, connector names
MAX_TAG = 100
MAX_DESCRIPTION = 500

OPTIONS = ("queue", "project", "channel", "assignee")  # what a target may set; connectors read theirs
PLACEHOLDERS = ("severity", "kind")  # filled in per report: "severity:{severity}" -> "severity:high"

_CONDITIONS = (
    "severity",
    "severity_at_least",
    "kind",
    "category",
    "completeness_below",
    "completeness_at_least",
    "plan",
    "account",
    "url",
)
_RULE_KEYS = ("name", "description", "when", "send", "stop")
_TARGET_KEYS = ("connector", "role", *OPTIONS, "tags")
_SLUG = re.compile(r"[a-z][a-z0-9_-]{0,39}")
_PLACEHOLDER = re.compile(r"\{(\w*)\}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPACE = re.compile(r"[\s,]")


@dataclass(frozen=True, slots=True)
class When:
    """A rule's conditions. All that are set must hold; each list matches any of its values.
    An empty tuple or None is "no condition on this"; a rule with none matches every report."""

    severity: tuple[Level, ...] = ()
    severity_at_least: Level | None = None
    kind: tuple[Kind, ...] = ()
    category: tuple[str, ...] = ()
    completeness_below: int | None = None
    completeness_at_least: int | None = None
    plan: tuple[str, ...] = ()  # compared case-insensitively
    account: tuple[str, ...] = ()  # compared case-insensitively
    url: tuple[UrlGlob, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in _CONDITIONS:
            value = getattr(self, key)
            if value is None or value == ():
                continue
            out[key] = (
                [g.text for g in value]
                if key == "url"
                else list(value)
                if isinstance(value, tuple)
                else value
            )
        return out


@dataclass(frozen=True, slots=True)
class Send:
    """One action: a named connector, or every enabled connector with a role, with options."""

    connector: str | None = None
    role: str | None = None
    options: tuple[tuple[str, str], ...] = ()  # (key, value) in OPTIONS order; may hold placeholders
    tags: tuple[str, ...] = ()  # may hold placeholders

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"connector": self.connector} if self.connector else {"role": self.role}
        out.update(self.options)
        if self.tags:
            out["tags"] = list(self.tags)
        return out


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    when: When
    send: tuple[Send, ...]
    stop: bool = False
    description: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.description:
            out["description"] = self.description
        out["when"] = self.when.to_json()
        out["send"] = [s.to_json() for s in self.send]
        out["stop"] = self.stop
        return out


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The rules one project's reports are routed by, in evaluation order."""

    rules: tuple[Rule, ...]

    def to_json(self) -> list[dict[str, Any]]:
        return [r.to_json() for r in self.rules]

    @classmethod
    def from_json(cls, data: object, where: str = "routing.rules") -> RuleSet:
        return cls(parse_rules(data, where))


@dataclass(frozen=True, slots=True)
class RoutingSettings:
    """A project's ``settings["routing"]``: its own rules and whether the defaults still apply."""

    rules: tuple[Rule, ...] = ()
    replace_defaults: bool = False

    @classmethod
    def from_json(cls, data: object, where: str = "routing") -> RoutingSettings:
        if data is None:
            return cls()
        table = _table(data, where, ("rules", "replace_defaults"), "a routing setting")
        replace = table.get("replace_defaults", False)
        if not isinstance(replace, bool):
            raise RoutingError(f"{where}.replace_defaults must be true or false")
        return cls(parse_rules(table.get("rules", []), f"{where}.rules"), replace)

    def to_json(self) -> dict[str, Any]:
        return {"rules": [r.to_json() for r in self.rules], "replace_defaults": self.replace_defaults}

    def effective(self) -> RuleSet:
        """The project's rules, then the defaults it neither replaced nor renamed."""
        if self.replace_defaults:
            return RuleSet(self.rules)
        own = {r.name for r in self.rules}
        return RuleSet(self.rules + tuple(r for r in default_rules().rules if r.name not in own))


def parse_rules(data: object, where: str = "routing.rules") -> tuple[Rule, ...]:
    if not isinstance(data, list | tuple):
        raise RoutingError(f"{where} must be a list of rules")
    if len(data) > MAX_RULES:
        raise RoutingError(f"{where} has {len(data)} rules; at most {MAX_RULES} are allowed")
    rules = tuple(_rule(item, f"{where}[{i}]") for i, item in enumerate(data))
    seen: dict[str, int] = {}
    for i, rule in enumerate(rules):
        if rule.name in seen:
            raise RoutingError(
                f"{where}[{i}].name: rule name {rule.name!r} is already used by {where}[{seen[rule.name]}]; "
                "names must be unique (the dry-run trace refers to rules by name)"
            )
        seen[rule.name] = i
    return rules


def load_rules(settings: object = None) -> RuleSet:
    """The effective rules for a project, from its ``settings.get("routing")`` (None: defaults).

    Cached by the settings' canonical JSON, like the triage rules: a worker routes every
    report with the same few rule sets, so parsing happens once per distinct set.
    """
    if settings is None:
        return default_rules()
    try:
        key = json.dumps(settings, sort_keys=True, allow_nan=False)
    # A set, bytes, a non-string key, NaN, a cycle, nesting too deep: all refused with one message.
    except (TypeError, ValueError, RecursionError) as e:
        raise RoutingError(
            f"routing settings must be plain JSON (objects, lists, strings, numbers): {e}"
        ) from e
    return _load(key)


@lru_cache(maxsize=256)
def _load(key: str) -> RuleSet:
    return RoutingSettings.from_json(json.loads(key)).effective()


@cache
def default_rules() -> RuleSet:
    """The shipped rules from defaults.toml (the SOP's escalation paths)."""
    text = resources.files("bugline.routing").joinpath("defaults.toml").read_text("utf-8")
    data = tomllib.loads(text)
    return RuleSet(parse_rules(data.get("rules", []), "defaults.toml rules"))


def lint(
    rules: RuleSet, connectors: tuple[Connection, ...], categories: tuple[str, ...] = CATEGORIES
) -> tuple[str, ...]:
    """Warnings (not errors) for rules that cannot send anything with these connectors today:
    shown when rules are saved, since a connector may be added after the rule that uses it."""
    names = {c.name for c in connectors}
    roles = {r for c in connectors if c.enabled for r in c.effective_roles}
    out: list[str] = []
    for rule in rules.rules:
        for s in rule.send:
            if s.connector and s.connector not in names:
                out.append(
                    f"rule {rule.name!r} sends to connector {s.connector!r}, which this project does not have"
                )
            if s.role and s.role not in roles:
                out.append(f"rule {rule.name!r} sends to role {s.role!r}, which no enabled connector has")
        out.extend(
            f"rule {rule.name!r} wants category {c!r}, which triage does not assign by default"
            for c in rule.when.category
            if c not in categories
        )
    return tuple(out)


# ---- parsing one rule ---------------------------------------------------------------------


def _rule(data: object, where: str) -> Rule:
    table = _table(data, where, _RULE_KEYS, "a rule key")
    name = table.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME or _CONTROL.search(name):
        raise RoutingError(f"{where}.name must be a non-empty line of text of at most {MAX_NAME} characters")
    named = f" (rule {name!r})"
    try:
        description = table.get("description", "")
        if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
            raise RoutingError(f"{where}.description must be text of at most {MAX_DESCRIPTION} characters")
        if "send" not in table:
            raise RoutingError(
                f"{where}.send is missing: list where to send, or [] for a rule that only stops"
            )
        sends = table["send"]
        if not isinstance(sends, list | tuple):
            raise RoutingError(f'{where}.send must be a list of targets like {{ role = "helpdesk" }}')
        if len(sends) > MAX_TARGETS:
            raise RoutingError(f"{where}.send has {len(sends)} targets; at most {MAX_TARGETS} are allowed")
        stop = table.get("stop", False)
        if not isinstance(stop, bool):
            raise RoutingError(f"{where}.stop must be true or false")
        return Rule(
            name=name.strip(),
            when=_when(table.get("when", {}), f"{where}.when"),
            send=tuple(_send(s, f"{where}.send[{i}]") for i, s in enumerate(sends)),
            stop=stop,
            description=description.strip(),
        )
    except RoutingError as e:
        raise RoutingError(f"{e}{named}") from None


def _when(data: object, where: str) -> When:
    table = _table(data, where, _CONDITIONS, "a condition")
    below = _percent(table, "completeness_below", where)
    at_least = _percent(table, "completeness_at_least", where)
    if below is not None and at_least is not None and at_least >= below:
        raise RoutingError(
            f"{where}: completeness_at_least {at_least} and completeness_below {below} can never both hold"
        )
    severity_at_least = table.get("severity_at_least")
    if severity_at_least is not None and severity_at_least not in LEVELS:
        raise RoutingError(f"{where}.severity_at_least must be one of {', '.join(LEVELS)}")
    globs = _list(table.get("url"), f"{where}.url", MAX_GLOBS)
    return When(
        severity=cast(
            tuple[Level, ...], _choices(table.get("severity"), f"{where}.severity", LEVELS, "a severity")
        ),
        severity_at_least=cast(Level | None, severity_at_least),
        kind=cast(tuple[Kind, ...], _choices(table.get("kind"), f"{where}.kind", KINDS, "a kind")),
        category=_slugs(table.get("category"), f"{where}.category", "category"),
        completeness_below=below,
        completeness_at_least=at_least,
        plan=_texts(table.get("plan"), f"{where}.plan"),
        account=_texts(table.get("account"), f"{where}.account"),
        url=tuple(UrlGlob.parse(g, f"{where}.url[{i}]") for i, g in enumerate(globs)),
    )


def _send(data: object, where: str) -> Send:
    table = _table(data, where, _TARGET_KEYS, "a target key")
    connector, role = table.get("connector"), table.get("role")
    if (connector is None) == (role is None):
        raise RoutingError(f'{where} needs exactly one of connector = "name" or role = "alerts"')
    if connector is not None:
        connector = _line(connector, f"{where}.connector")
    if role is not None and (not isinstance(role, str) or not _SLUG.fullmatch(role)):
        raise RoutingError(f'{where}.role must be a role name like "helpdesk" (lower case, digits, - and _)')
    options = tuple(
        (key, _template(_line(table[key], f"{where}.{key}"), f"{where}.{key}"))
        for key in OPTIONS
        if key in table
    )
    tags: list[str] = []
    for i, tag in enumerate(_list(table.get("tags"), f"{where}.tags", MAX_TAGS, condition=False)):
        at = f"{where}.tags[{i}]"
        if not isinstance(tag, str) or not tag or len(tag) > MAX_TAG:
            raise RoutingError(f"{at} must be a non-empty string of at most {MAX_TAG} characters")
        # Jira labels and Zendesk tags cannot hold spaces (a space splits a Zendesk tag in two).
        if _SPACE.search(tag) or _CONTROL.search(tag):
            raise RoutingError(
                f"{at}: {tag!r} has a space or comma; tags are single words like severity:high"
            )
        tag = _template(tag, at)
        if tag not in tags:
            tags.append(tag)
    return Send(connector=connector, role=role, options=options, tags=tuple(tags))


# ---- small validators ---------------------------------------------------------------------


def _table(data: object, where: str, known: tuple[str, ...], what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise RoutingError(f"{where} must be a table (an object), not {type(data).__name__}")
    if len(data) > len(known):  # bounded: a table with a million keys is refused before reading them
        raise RoutingError(f"{where} has {len(data)} keys; known keys are {', '.join(known)}")
    for key in data:
        if key not in known:
            raise RoutingError(f"{where}.{str(key)[:50]} is not {what}; known: {', '.join(known)}")
    return data


def _list(value: object, where: str, limit: int, *, condition: bool = True) -> list[Any] | tuple[Any, ...]:
    """A list (a single string counts as a one-item list); empty when absent. An empty list is
    refused in a condition, where it could only mean "never match"."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list | tuple):
        raise RoutingError(f"{where} must be a list, not {type(value).__name__}")
    if len(value) > limit:
        raise RoutingError(f"{where} has {len(value)} entries; at most {limit} are allowed")
    if not value and condition:
        raise RoutingError(f"{where} is an empty list, which no report matches; leave the key out instead")
    return value


def _choices(value: object, where: str, allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
    out: list[str] = []
    for i, item in enumerate(_list(value, where, MAX_VALUES)):
        if item not in allowed:
            # Never repr() a container: one nested a million deep would overflow the stack.
            shown = (
                repr(item)[:40] if isinstance(item, str | int | float | None) else f"a {type(item).__name__}"
            )
            raise RoutingError(f"{where}[{i}]: {shown} is not {what}; use {', '.join(allowed)}")
        if item not in out:
            out.append(item)
    return tuple(out)


def _slugs(value: object, where: str, what: str) -> tuple[str, ...]:
    out: list[str] = []
    for i, item in enumerate(_list(value, where, MAX_VALUES)):
        if not isinstance(item, str) or not _SLUG.fullmatch(item):
            raise RoutingError(f'{where}[{i}] must be a {what} name like "billing" (lower case)')
        if item not in out:
            out.append(item)
    return tuple(out)


def _texts(value: object, where: str) -> tuple[str, ...]:
    out: list[str] = []
    for i, item in enumerate(_list(value, where, MAX_VALUES)):
        item = _line(item, f"{where}[{i}]")
        if item.casefold() not in (o.casefold() for o in out):
            out.append(item)
    return tuple(out)


def _line(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT or _CONTROL.search(value):
        raise RoutingError(f"{where} must be a non-empty line of text of at most {MAX_TEXT} characters")
    return value.strip()


def _percent(table: Mapping[str, Any], key: str, where: str) -> int | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RoutingError(f"{where}.{key} must be a number from 0 to 100")
    # Range first: math.isfinite(10**400) raises OverflowError, a comparison never does.
    if not 0 <= value <= 100 or value != int(value):
        raise RoutingError(f"{where}.{key} must be a whole number from 0 to 100, not {value}")
    return int(value)


def _template(text: str, where: str) -> str:
    for m in _PLACEHOLDER.finditer(text):
        if m.group(1) not in PLACEHOLDERS:
            known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise RoutingError(f"{where}: {{{m.group(1)}}} is not a placeholder; use {known}")
    rest = _PLACEHOLDER.sub("", text)
    if "{" in rest or "}" in rest:
        raise RoutingError(f"{where}: unmatched {{ or }}; placeholders look like {{severity}}")
    return text
