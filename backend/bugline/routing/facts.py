"""What a routing rule can look at: a triaged report and the project's connectors, as plain data.

The outbox builds ``Facts`` from the report row and its triage verdict; the CLI and agent API
build them from JSON for a dry-run (``Facts.from_json``). Nothing here reads the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from bugline.routing.errors import RoutingError
from bugline.triage.result import LEVELS, Kind, Level

KINDS: tuple[Kind, ...] = ("bug", "feature_request", "question")
# The categories triage assigns by default (triage/defaults/classification.toml); a project
# may add its own there, so rules accept any category name and only `lint` flags strangers.
CATEGORIES: tuple[str, ...] = ("billing", "security", "performance", "data", "ui", "integration", "account")
# "A connector without explicit roles is the helpdesk": installing one Zendesk and nothing
# else must route every bug there without writing a single rule.
DEFAULT_ROLE = "helpdesk"
NEEDS_INFO = "needs_info"

MAX_CONNECTORS = 200  # per project, in a dry-run's JSON
_MAX_TEXT = 4096  # characters of any string field read from JSON


def rank(level: str) -> int | None:
    """0 for critical ... 3 for low (lower is worse); None for anything else."""
    try:
        return LEVELS.index(cast(Level, level))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Connection:
    """One connector configured on the project, as routing sees it (never its settings)."""

    name: str  # unique within the project: "zendesk-main"
    kind: str  # registry kind: "zendesk", "slack", ...
    roles: tuple[str, ...] = ()  # "helpdesk", "alerts", "finance", "product", ... ; () = helpdesk
    enabled: bool = True

    @property
    def effective_roles(self) -> tuple[str, ...]:
        return self.roles or (DEFAULT_ROLE,)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "roles": list(self.roles), "enabled": self.enabled}


@dataclass(frozen=True, slots=True)
class Facts:
    """A report as routing sees it. ``completeness`` is triage's 0..100 score."""

    severity: Level
    kind: Kind
    categories: frozenset[str] = frozenset()
    completeness: int = 100
    status: str = "received"  # needs_info reports are never routed
    plan: str | None = None  # the reporter's account plan in the host app
    account: str | None = None
    page_url: str | None = None
    connectors: tuple[Connection, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "kind": self.kind,
            "categories": sorted(self.categories),
            "completeness": self.completeness,
            "status": self.status,
            "plan": self.plan,
            "account": self.account,
            "page_url": self.page_url,
            "connectors": [c.to_json() for c in self.connectors],
        }

    @classmethod
    def from_json(cls, data: object, where: str = "facts") -> Facts:
        """Validated facts from JSON (a dry-run request); RoutingError names the bad key."""
        if not isinstance(data, Mapping):
            raise RoutingError(f"{where} must be an object")
        known = {
            "severity",
            "kind",
            "categories",
            "completeness",
            "status",
            "plan",
            "account",
            "page_url",
            "connectors",
        }
        for key in data:
            if key not in known:
                raise RoutingError(f"{where}.{key} is not a fact; known: {', '.join(sorted(known))}")
        severity = data.get("severity")
        if severity not in LEVELS:
            raise RoutingError(f"{where}.severity must be one of {', '.join(LEVELS)}")
        kind = data.get("kind", "bug")
        if kind not in KINDS:
            raise RoutingError(f"{where}.kind must be one of {', '.join(KINDS)}")
        categories = data.get("categories", [])
        if (
            not isinstance(categories, list | tuple)
            or len(categories) > 50
            or not all(isinstance(c, str) and 0 < len(c) <= 100 for c in categories)
        ):
            raise RoutingError(f"{where}.categories must be a list of up to 50 category names")
        completeness = data.get("completeness", 100)
        if (
            isinstance(completeness, bool)
            or not isinstance(completeness, int | float)
            or not 0 <= completeness <= 100  # also refuses NaN; compares 10**400 without overflow
        ):
            raise RoutingError(f"{where}.completeness must be a number from 0 to 100")
        raw = data.get("connectors", [])
        if not isinstance(raw, list | tuple) or len(raw) > MAX_CONNECTORS:
            raise RoutingError(f"{where}.connectors must be a list of up to {MAX_CONNECTORS} connectors")
        return cls(
            severity=cast(Level, severity),
            kind=cast(Kind, kind),
            categories=frozenset(categories),
            completeness=round(completeness),
            status=_text(data, "status", where) or "received",
            plan=_text(data, "plan", where),
            account=_text(data, "account", where),
            page_url=_text(data, "page_url", where),
            connectors=tuple(_connection(c, f"{where}.connectors[{i}]") for i, c in enumerate(raw)),
        )


def _text(data: Mapping[str, Any], key: str, where: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > _MAX_TEXT:
        raise RoutingError(f"{where}.{key} must be a string of at most {_MAX_TEXT} characters, or null")
    return value or None


def _connection(data: object, where: str) -> Connection:
    if not isinstance(data, Mapping):
        raise RoutingError(f"{where} must be an object with name, kind, roles and enabled")
    for key in data:
        if key not in ("name", "kind", "roles", "enabled"):
            raise RoutingError(f"{where}.{key} is not a connector field; known: enabled, kind, name, roles")
    name, kind = data.get("name"), data.get("kind", "")
    if not isinstance(name, str) or not 0 < len(name) <= 100:
        raise RoutingError(f"{where}.name must be a non-empty string of at most 100 characters")
    if not isinstance(kind, str) or len(kind) > 100:
        raise RoutingError(f"{where}.kind must be a string")
    roles = data.get("roles", [])
    if (
        not isinstance(roles, list | tuple)
        or len(roles) > 20
        or not all(isinstance(r, str) and 0 < len(r) <= 40 for r in roles)
    ):
        raise RoutingError(f"{where}.roles must be a list of up to 20 role names")
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        raise RoutingError(f"{where}.enabled must be true or false")
    return Connection(name=name, kind=kind, roles=tuple(roles), enabled=enabled)
