"""The one small interface every connector implements, and what it returns.

A connector turns a ``ReportDocument`` into a ticket, issue, message or mail in one
target. It never retries and never raises for a remote failure: it returns a result
that says what happened, and the outbox (``bugline.outbox``) decides when to try again.
That keeps every vendor module about the vendor, and every retry rule in one place.

Settings are validated once (``validate``) into plain values; secrets are marked so they
are masked wherever settings are shown (``mask``), and never logged.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

import httpx

from bugline.connectors.document import ReportDocument, Update

SettingKind = Literal["str", "url", "email", "int", "bool", "list", "secret", "choice"]


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting a connector needs, with the help text the CLI and dashboard show."""

    name: str
    help: str
    kind: SettingKind = "str"
    required: bool = True
    default: Any = None
    choices: tuple[str, ...] = ()

    @property
    def secret(self) -> bool:
        return self.kind == "secret"


class InvalidSettings(ValueError):
    """Settings that cannot work; ``errors`` maps each setting name to what to fix."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


# ---- what a delivery returns -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ticket:
    """Where the report landed: the vendor's id, a link people can open, and anything the
    connector needs later to update it (a Slack message's ``ts``, a Jira key)."""

    remote_id: str
    url: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Delivered:
    ticket: Ticket
    detail: str = ""  # "3 attachments uploaded", "found the ticket an earlier attempt created"


@dataclass(frozen=True, slots=True)
class Retry:
    """A failure worth trying again: 429, 5xx, timeout, connection refused, a bad answer."""

    reason: str
    after: float | None = None  # seconds, from Retry-After or a rate-limit reset header
    status: int | None = None


@dataclass(frozen=True, slots=True)
class Failed:
    """A failure that will not fix itself: bad credentials, unknown project, invalid
    request. The outbox stops and records it; a person has to act."""

    reason: str
    status: int | None = None


Result = Delivered | Retry | Failed


@dataclass(frozen=True, slots=True)
class Target:
    """Where inside the connector this delivery goes, as routing decided: a queue, project,
    channel or assignee (each connector reads the keys it knows), and extra tags."""

    options: dict[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Attempt:
    """What the outbox tells the connector about this attempt.

    ``key`` is stable across retries of the same delivery: connectors pass it as the
    vendor's idempotency key or hide it in the ticket (a label, a marker) and, when
    ``retry`` is true, look for a ticket an earlier, interrupted attempt created before
    creating another."""

    key: str
    number: int = 1

    @property
    def retry(self) -> bool:
        return self.number > 1


class Connector(ABC):
    """Base of every connector. Subclasses set the class attributes and the three methods."""

    kind: ClassVar[str]  # "zendesk"
    title: ClassVar[str]  # "Zendesk"
    settings: ClassVar[tuple[Setting, ...]]
    uploads_files: ClassVar[bool] = False  # False: media goes in as links

    def __init__(self, config: Mapping[str, Any], http: httpx.AsyncClient) -> None:
        """``config`` is the output of ``validate``; ``http`` is shared and has timeouts set."""
        self.config = dict(config)
        self.http = http

    @classmethod
    def validate(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Check and normalise settings; raise InvalidSettings naming every bad one.

        Subclasses may extend this (call super first) for checks across settings."""
        return validate_settings(cls.settings, raw)

    @abstractmethod
    async def deliver(self, doc: ReportDocument, target: Target, attempt: Attempt) -> Result:
        """Create the ticket for a report."""

    @abstractmethod
    async def update(self, ticket: Ticket, change: Update, attempt: Attempt) -> Result:
        """Add a comment/update to a ticket this connector created earlier."""

    async def escalate(self, ticket: Ticket, level: str, note: str, attempt: Attempt) -> Result:
        """An SLA escalation: raise the ticket's priority to ``level`` and say why. Connectors
        whose vendor has a priority field override this; the default adds ``note`` as an
        update, which every connector can do."""
        raise NotImplementedError

    @abstractmethod
    async def check(self) -> Result:
        """Check the connection and credentials without creating anything ("Check connection";
        "Send a test report" delivers ``connectors.sample`` through ``deliver`` instead)."""


# ---- settings validation -----------------------------------------------------------------

_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def validate_settings(spec: tuple[Setting, ...], raw: Mapping[str, Any]) -> dict[str, Any]:
    known = {s.name for s in spec}
    errors: dict[str, str] = {}
    for name in raw:
        if name not in known:
            errors[name] = f"unknown setting; this connector takes {', '.join(sorted(known))}"
    out: dict[str, Any] = {}
    for s in spec:
        value = raw.get(s.name)
        if value is None or value == "":
            if s.required and s.default is None:
                errors[s.name] = f"required: {s.help}"
            elif s.default is not None:
                out[s.name] = s.default
            continue
        try:
            out[s.name] = _coerce(s, value)
        except ValueError as exc:
            errors[s.name] = str(exc)
    if errors:
        raise InvalidSettings(errors)
    return out


def checked_settings(
    spec: tuple[Setting, ...], raw: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The base validation's values and errors, with every setting that passed kept even when
    another failed, so a connector's checks across settings can name every bad key at once."""
    try:
        return validate_settings(spec, raw), {}
    except InvalidSettings as exc:
        errors = dict(exc.errors)
    config: dict[str, Any] = {}
    for setting in spec:
        if setting.name not in errors:
            config.update(validate_settings((setting,), {setting.name: raw.get(setting.name)}))
    return config, errors


LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_SUBDOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def https_or_loopback(url: str) -> bool:
    """API credentials travel in every request, so vendor URLs must be https; plain http is
    accepted only for this machine, which is where the tests' fake vendors listen."""
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and (parts.hostname or "") in LOOPBACK)


def account_url(raw: str, vendor_domain: str) -> str:
    """``acme`` or ``https://acme.zendesk.com`` -> ``https://acme.zendesk.com``.

    Only an address: no path, query or credentials. Plain http only on loopback (tests)."""
    text = raw.strip().rstrip("/")
    if _SUBDOMAIN.match(text.lower()):
        return f"https://{text.lower()}.{vendor_domain}"
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        port = parts.port  # raises ValueError on a bad port
    except ValueError:
        raise ValueError(
            f"must be a subdomain (acme) or an address like https://acme.{vendor_domain}"
        ) from None
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError(f"must be a subdomain (acme) or an address like https://acme.{vendor_domain}")
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"must be just the address, like https://acme.{vendor_domain} (no path)")
    if parts.scheme == "http" and host not in LOOPBACK:
        raise ValueError("must use https:// (plain http only for a local test server)")
    netloc = host if port is None else f"{host}:{port}"
    if ":" in host:
        netloc = f"[{host}]" if port is None else f"[{host}]:{port}"
    return f"{parts.scheme}://{netloc.lower()}"


def account_settings(
    spec: tuple[Setting, ...],
    raw: Mapping[str, Any],
    *,
    vendor_domain: str,
    custom_fields: Callable[[list[str]], object],
    tag: Callable[[str], str],
) -> dict[str, Any]:
    """The settings of a helpdesk account (Zendesk, Freshdesk), checked the way both need:
    ``url`` on the vendor's domain (:func:`account_url`), ``custom_fields`` as entries the
    vendor's own parser accepts, a positive ``group_id``, and ``tags`` made tags in the
    vendor's rules. Every problem is reported at once (InvalidSettings)."""
    out, errors = checked_settings(spec, raw)
    if "url" not in errors and raw.get("url"):
        try:
            out["url"] = account_url(str(raw["url"]), vendor_domain)
        except ValueError as exc:
            errors["url"] = str(exc)
    if "custom_fields" not in errors and out.get("custom_fields"):
        try:
            custom_fields(out["custom_fields"])
        except ValueError as exc:
            errors["custom_fields"] = str(exc)
    if "group_id" not in errors and out.get("group_id") is not None and out["group_id"] <= 0:
        errors["group_id"] = "must be a positive group id"
    if errors:
        raise InvalidSettings(errors)
    out["tags"] = [t for t in (tag(x) for x in out.get("tags") or []) if t]
    return out


def _coerce(s: Setting, value: Any) -> Any:
    if s.kind == "int":
        if isinstance(value, bool):
            raise ValueError("must be a whole number")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ValueError("must be a whole number") from None
    if s.kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text not in ("1", "0", "true", "false", "yes", "no"):
            raise ValueError("must be true or false")
        return text in ("1", "true", "yes")
    if s.kind == "list":
        items = value if isinstance(value, list) else str(value).split(",")
        return [str(v).strip() for v in items if str(v).strip()]
    if not isinstance(value, str | int | float):
        raise ValueError("must be text")
    text = str(value).strip()
    if len(text) > 2000:
        raise ValueError("is longer than 2000 characters")
    if s.kind == "url":
        if not re.match(r"^https?://[^\s/?#]+", text):
            raise ValueError("must be an http:// or https:// URL")
        return text.rstrip("/")
    if s.kind == "email" and not _EMAIL.match(text):
        raise ValueError("must be an email address")
    if s.kind == "choice" and text not in s.choices:
        raise ValueError(f"must be one of {', '.join(s.choices)}")
    return text


def mask(spec: tuple[Setting, ...], config: Mapping[str, Any]) -> dict[str, Any]:
    """Settings as they may be shown back: secrets reduced to their last 4 characters."""
    secret = {s.name for s in spec if s.secret}
    shown: dict[str, Any] = {}
    for name, value in config.items():
        if name in secret and value:
            text = str(value)
            shown[name] = "…" + text[-4:] if len(text) >= 12 else "…"
        else:
            shown[name] = value
    return shown
