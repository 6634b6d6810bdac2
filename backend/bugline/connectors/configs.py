"""The connectors a project has configured: add, change, list, remove, show (masked).

Used by the CLI (`bugline connector ...`) and the agent API alike, so both validate the
same way: the kind's own settings check (``Connector.validate``), a name people can type,
and roles routing rules can address. Secrets are never shown back in full (``mask``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from bugline.connectors import registry
from bugline.connectors.base import Connector, InvalidSettings, mask
from bugline.db.models import ConnectorConfig, utcnow

NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")
ROLE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
DEFAULT_ROLES = ("helpdesk",)
MAX_PER_PROJECT = 50


class ConfigError(ValueError):
    """What to fix, per field (``settings.token``, ``name``, ``kind`` ...)."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


def parse_pairs(pairs: Sequence[str]) -> dict[str, str]:
    """``key=value`` arguments of the CLI into a mapping; a value may contain ``=``."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError({pair: "expected key=value"})
        out[key.strip()] = value
    return out


def _roles(value: Any) -> list[str]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or len(items) > 10:
        raise ConfigError({"roles": "a list of at most 10 role names"})
    roles = [str(r).strip() for r in items if str(r).strip()]
    bad = [r for r in roles if not ROLE.match(r)]
    if bad:
        raise ConfigError({"roles": f"{bad[0]!r} is not a role name (lowercase letters, digits, - and _)"})
    return sorted(set(roles)) or list(DEFAULT_ROLES)


def _validated(kind: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    try:
        cls = registry.get(kind)
    except KeyError as exc:
        raise ConfigError({"kind": str(exc.args[0])}) from None
    try:
        return cls.validate(settings)
    except InvalidSettings as exc:
        raise ConfigError({f"settings.{k}": v for k, v in exc.errors.items()}) from None


def add(
    s: Session,
    project_id: str,
    kind: str,
    settings: Mapping[str, Any],
    *,
    name: str | None = None,
    roles: Iterable[str] | str | None = None,
    enabled: bool = True,
) -> ConnectorConfig:
    config = _validated(kind, settings)
    name = (name or kind).strip().lower()
    if not NAME.match(name):
        raise ConfigError({"name": "lowercase letters, digits, '.', '-' and '_', at most 100"})
    existing = list(
        s.execute(select(ConnectorConfig.name).where(ConnectorConfig.project_id == project_id)).scalars()
    )
    if name in existing:
        raise ConfigError({"name": f"the project already has a connector named {name!r}"})
    if len(existing) >= MAX_PER_PROJECT:
        raise ConfigError({"project": f"a project has at most {MAX_PER_PROJECT} connectors"})
    row = ConnectorConfig(
        project_id=project_id,
        name=name,
        kind=kind,
        config=config,
        roles=_roles(list(roles) if roles is not None and not isinstance(roles, str) else roles or []),
        enabled=enabled,
    )
    s.add(row)
    s.flush()
    return row


def instance(row: ConnectorConfig, http: httpx.AsyncClient) -> Connector:
    """The saved connector, ready to call; InvalidSettings when its settings no longer pass
    the kind's checks (saved by an older version with other rules)."""
    cls = registry.get(row.kind)
    return cls(cls.validate(row.config), http)


def find(s: Session, project_id: str, ref: str) -> ConnectorConfig | None:
    """By id or by name, only within the project (another project's id finds nothing)."""
    return s.execute(
        select(ConnectorConfig).where(
            ConnectorConfig.project_id == project_id,
            (ConnectorConfig.id == ref) | (ConnectorConfig.name == ref),
        )
    ).scalar_one_or_none()


def change(
    s: Session,
    row: ConnectorConfig,
    *,
    settings: Mapping[str, Any] | None = None,
    roles: Iterable[str] | str | None = None,
    enabled: bool | None = None,
) -> ConnectorConfig:
    """Settings given are merged over the saved ones (so a secret need not be re-entered to
    change a channel); ``null`` removes a setting."""
    if settings is not None:
        # A masked value sent back unchanged ("…f00d", as shown) keeps the saved secret.
        given = {k: v for k, v in settings.items() if not (isinstance(v, str) and v.startswith("…"))}
        merged = {**row.config, **given}
        row.config = _validated(row.kind, {k: v for k, v in merged.items() if v is not None})
    if roles is not None:
        row.roles = _roles(list(roles) if not isinstance(roles, str) else roles)
    if enabled is not None:
        row.enabled = enabled
    row.updated_at = utcnow()
    s.flush()
    return row


def listing(s: Session, project_id: str) -> list[ConnectorConfig]:
    return list(
        s.execute(
            select(ConnectorConfig)
            .where(ConnectorConfig.project_id == project_id)
            .order_by(ConnectorConfig.name)
        ).scalars()
    )


def shown(row: ConnectorConfig) -> dict[str, Any]:
    """What the API and CLI show: everything, with secrets masked."""
    try:
        cls = registry.get(row.kind)
        settings = mask(cls.settings, row.config)
        title = cls.title
    except KeyError:  # a kind this version no longer ships: show nothing that could be secret
        settings, title = {}, row.kind
    return {
        "id": row.id,
        "name": row.name,
        "kind": row.kind,
        "title": title,
        "roles": list(row.roles),
        "enabled": row.enabled,
        "settings": settings,
        "created_at": row.created_at.isoformat(),
    }
