"""Routing: a report's facts and a rule set in, where it goes and why out (pure, no I/O).

Rules are evaluated in order. Every rule whose conditions all hold sends to its targets;
rules accumulate unless one has ``stop = true``, which ends evaluation when it matches
(whether or not it found a connector: a feature request must not fall through to the
engineering helpdesk because the product board is switched off).

A connector chosen by several rules appears once in the plan, where the first rule put it.
Its options are merged key by key and the first rule to set a key wins (rules are ordered
by precedence, project rules before the defaults); a later rule only fills keys still
unset, and the trace notes every value it could not change. Tags are the union, in order.

Every rule gets a trace step saying, in plain words, why it matched or not and what it
sent: that trace is the dry-run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bugline.routing.facts import NEEDS_INFO, Connection, Facts, rank
from bugline.routing.glob import subjects
from bugline.routing.rules import Rule, RuleSet, Send, When
from bugline.triage.result import LEVELS


@dataclass(frozen=True, slots=True)
class Destination:
    """One connector a report goes to; ``options`` and ``tags`` become the connector's Target."""

    connector: str  # the connector's name in the project
    kind: str  # its registry kind
    options: dict[str, str] = field(default_factory=dict)  # queue / project / channel / assignee
    tags: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()  # the rules that chose it, in order

    def to_json(self) -> dict[str, Any]:
        return {
            "connector": self.connector,
            "kind": self.kind,
            "options": dict(self.options),
            "tags": list(self.tags),
            "rules": list(self.rules),
        }


@dataclass(frozen=True, slots=True)
class Step:
    """What one rule did with this report."""

    rule: str
    evaluated: bool  # False: an earlier rule stopped evaluation
    matched: bool
    reasons: tuple[str, ...]  # why it matched or not: "severity is high, rule wants critical"
    sent_to: tuple[str, ...] = ()  # connector names this rule chose
    notes: tuple[str, ...] = ()  # "no enabled connector has role 'finance' — nothing sent for this rule"
    stopped: bool = False  # matched with stop = true

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "evaluated": self.evaluated,
            "matched": self.matched,
            "reasons": list(self.reasons),
            "sent_to": list(self.sent_to),
            "notes": list(self.notes),
            "stopped": self.stopped,
        }


@dataclass(frozen=True, slots=True)
class Plan:
    """Where a report goes (``targets``) and why (``trace``, one step per rule)."""

    facts: Facts
    targets: tuple[Destination, ...]
    trace: tuple[Step, ...]
    blocked: str = ""  # why no rule was evaluated at all (a needs_info report), else ""

    @property
    def summary(self) -> str:
        if self.blocked:
            return f"not routed: {self.blocked}"
        if not self.targets:
            return "sent nowhere: no matching rule chose an enabled connector"
        names = ", ".join(d.connector for d in self.targets)
        return f"sent to {len(self.targets)} connector{'s' if len(self.targets) > 1 else ''}: {names}"

    def to_json(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "blocked": self.blocked,
            "targets": [d.to_json() for d in self.targets],
            "trace": [s.to_json() for s in self.trace],
            "facts": self.facts.to_json(),
        }


def route(facts: Facts, rules: RuleSet) -> Plan:
    """Evaluate ``rules`` for ``facts``. Never raises for facts of the declared types."""
    if facts.status == NEEDS_INFO:
        return Plan(
            facts,
            (),
            (),
            blocked="the report needs information from the customer (status needs_info); "
            "it is routed once they answer and triage finds it complete",
        )
    page = subjects(facts.page_url)
    chosen: dict[str, _Pick] = {}
    trace: list[Step] = []
    stopped_by = ""
    for rule in rules.rules:
        if stopped_by:
            trace.append(
                Step(rule.name, False, False, (f"not evaluated: rule {stopped_by!r} matched and stops",))
            )
            continue
        matched, reasons = _check(rule.when, facts, page)
        if not matched:
            trace.append(Step(rule.name, True, False, reasons))
            continue
        sent, notes = _send(rule, facts, chosen)
        if rule.stop:
            stopped_by = rule.name
            notes.append("stop = true: later rules are not evaluated")
        trace.append(Step(rule.name, True, True, reasons, tuple(sent), tuple(notes), rule.stop))
    targets = tuple(
        Destination(name, p.kind, p.options, tuple(p.tags), tuple(p.rules)) for name, p in chosen.items()
    )
    return Plan(facts, targets, tuple(trace))


# ---- conditions ---------------------------------------------------------------------------


def _check(when: When, facts: Facts, page: tuple[str, str] | None) -> tuple[bool, tuple[str, ...]]:
    """All conditions are checked, so a rule that misses says every reason it missed."""
    hits: list[str] = []
    misses: list[str] = []

    def note(ok: bool, text: str) -> None:
        (hits if ok else misses).append(text)

    severity = str(facts.severity)
    if when.severity:
        ok = severity in when.severity
        note(ok, f"severity is {severity}" + ("" if ok else f", rule wants {_or(when.severity)}"))
    if when.severity_at_least is not None:
        mine, floor = rank(severity), LEVELS.index(when.severity_at_least)
        ok = mine is not None and mine <= floor
        worse = f"{when.severity_at_least} or worse" if when.severity_at_least != "critical" else "critical"
        note(
            ok,
            f"severity is {severity}"
            + (f", at least {when.severity_at_least}" if ok else f", rule wants {worse}"),
        )
    if when.kind:
        ok = facts.kind in when.kind
        note(
            ok,
            f"kind is {_kind(facts.kind)}"
            + ("" if ok else f", rule wants {_or([_kind(k) for k in when.kind])}"),
        )
    if when.category:
        both = [c for c in when.category if c in facts.categories]
        if both:
            note(True, f"category {_and(both)}")
        elif facts.categories:
            have = sorted(facts.categories)
            noun = "category is" if len(have) == 1 else "categories are"
            note(False, f"{noun} {_and(have)}; rule wants {_or(when.category)}")
        else:
            note(False, f"no category; rule wants {_or(when.category)}")
    score = facts.completeness
    if when.completeness_below is not None:
        ok = score < when.completeness_below
        note(ok, f"completeness {score} is {'' if ok else 'not '}below {when.completeness_below}")
    if when.completeness_at_least is not None:
        ok = score >= when.completeness_at_least
        note(
            ok,
            f"completeness {score} is "
            + (
                f"at least {when.completeness_at_least}"
                if ok
                else f"below {when.completeness_at_least}, rule wants at least that"
            ),
        )
    if when.plan:
        note(*_named("plan", facts.plan, when.plan))
    if when.account:
        note(*_named("account", facts.account, when.account))
    if when.url:
        globs = ", ".join(g.text for g in when.url)
        if page is None:
            note(False, f"no page URL; rule wants {globs}")
        else:
            path, full = page
            hit = next((g for g in when.url if g.matches(path if g.on_path else full)), None)
            shown = _clip(path)
            note(
                hit is not None,
                f"page {shown} matches {hit.text}" if hit else f"page {shown} matches none of {globs}",
            )
    if misses:
        return False, tuple(misses)
    return True, tuple(hits) or ("no conditions: every report matches",)


def _named(what: str, value: str | None, wanted: tuple[str, ...]) -> tuple[bool, str]:
    if not value:
        return False, f"no {what} known; rule wants {_or(wanted)}"
    folded = value.casefold()
    ok = any(folded == w.casefold() for w in wanted)
    return ok, f"{what} is {_clip(value)}" + ("" if ok else f", rule wants {_or(wanted)}")


# ---- sending ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Pick:
    kind: str
    options: dict[str, str]
    tags: list[str]
    rules: list[str]
    setters: dict[str, str]  # option key -> the rule that set it, for the trace


def _send(rule: Rule, facts: Facts, chosen: dict[str, _Pick]) -> tuple[list[str], list[str]]:
    sent: list[str] = []
    notes: list[str] = []
    if not rule.send:
        notes.append("sends nothing (send = [])")
    for target in rule.send:
        scope = "this rule" if len(rule.send) == 1 else "this target"
        for connection in _resolve(target, facts.connectors, scope, notes):
            _merge(chosen, connection, target, rule.name, facts, notes)
            if connection.name not in sent:
                sent.append(connection.name)
    return sent, notes


def _resolve(
    target: Send, connectors: tuple[Connection, ...], scope: str, notes: list[str]
) -> list[Connection]:
    if target.connector is not None:
        found = next((c for c in connectors if c.name == target.connector), None)
        if found is None:
            notes.append(f"no connector named {target.connector!r} — nothing sent for {scope}")
            return []
        if not found.enabled:
            notes.append(f"connector {target.connector!r} is disabled — nothing sent for {scope}")
            return []
        return [found]
    role = target.role or ""
    having = [c for c in connectors if role in c.effective_roles]
    enabled = [c for c in having if c.enabled]
    if not enabled:
        off = f" ({_and([repr(c.name) for c in having])} disabled)" if having else ""
        notes.append(f"no enabled connector has role {role!r}{off} — nothing sent for {scope}")
    return enabled


def _merge(
    chosen: dict[str, _Pick], connection: Connection, target: Send, rule: str, facts: Facts, notes: list[str]
) -> None:
    pick = chosen.get(connection.name)
    if pick is None:
        pick = chosen[connection.name] = _Pick(connection.kind, {}, [], [], {})
    if rule not in pick.rules:
        pick.rules.append(rule)
    for key, raw in target.options:
        value = _fill(raw, facts)
        current = pick.options.get(key)
        if current is None:
            pick.options[key] = value
            pick.setters[key] = rule
        elif current != value:
            by = pick.setters[key]
            notes.append(
                f"{connection.name}: {key} {value!r} not used, rule {by!r} already chose {current!r}"
            )
    for raw in target.tags:
        tag = _fill(raw, facts)
        if tag not in pick.tags:
            pick.tags.append(tag)


def _fill(text: str, facts: Facts) -> str:
    if "{" not in text:
        return text
    return text.replace("{severity}", str(facts.severity)).replace("{kind}", str(facts.kind))


# ---- words --------------------------------------------------------------------------------


def _kind(kind: str) -> str:
    return str(kind).replace("_", " ")


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _or(items: tuple[str, ...] | list[str]) -> str:
    return _join([_clip(i, 40) for i in items], "or")


def _and(items: list[str]) -> str:
    return _join([_clip(i, 40) for i in items], "and")


def _join(items: list[str], word: str) -> str:
    if len(items) > 6:
        items = [*items[:5], f"{len(items) - 5} more"]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"
