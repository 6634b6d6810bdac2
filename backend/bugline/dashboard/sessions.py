"""Dashboard sessions: a random cookie value, stored only as its SHA-256, with an idle and
an absolute lifetime, revocable one by one or all at once (a password change).

The cookie is ``HttpOnly`` and ``SameSite=Lax``; over HTTPS it is also ``Secure`` and
named with the ``__Host-`` prefix, which browsers only accept from the exact host, over
HTTPS, for path ``/`` (https://datatracker.ietf.org/doc/html/draft-ietf-httpbis-rfc6265bis#section-4.1.3.2).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bugline.apitokens import Caller
from bugline.db.models import AgentSession, Membership, Project, User, utcnow
from bugline.tokens import token_hash

IDLE = timedelta(hours=12)  # a working day; the next morning starts with a sign-in
ABSOLUTE = timedelta(days=7)  # even a session in constant use signs in again each week
TOUCH_EVERY = timedelta(
    minutes=5
)  # last_seen_at is written at most this often (one UPDATE, not one per page)
COOKIE_VALUE_MAX = 100


def cookie_name(secure: bool) -> str:
    return "__Host-bugline_session" if secure else "bugline_session"


@dataclass(frozen=True, slots=True)
class ProjectRef:
    id: str
    name: str
    role: str


@dataclass(frozen=True, slots=True)
class Agent:
    """Who is signed in, their projects with their role there, and the session's CSRF secret."""

    caller: Caller  # the same permission object the agent API uses
    name: str
    session_id: str
    csrf: str
    projects: tuple[ProjectRef, ...]  # every project they may open, by name

    @property
    def user_id(self) -> str:
        return self.caller.user_id

    @property
    def email(self) -> str:
        return self.caller.email

    @property
    def is_admin(self) -> bool:
        return self.caller.is_admin

    def role(self, project_id: str) -> str | None:
        return self.caller.role(project_id)

    def may(self, project_id: str, needed: str = "agent") -> bool:
        return self.caller.may(project_id, needed)

    @property
    def project_ids(self) -> list[str]:
        return [p.id for p in self.projects]


def start(
    s: Session, user: User, *, ip: str | None, user_agent: str | None, now: datetime | None = None
) -> str:
    """A new session for ``user``; returns the cookie value (shown to nobody else, never stored)."""
    now = now or utcnow()
    value = secrets.token_urlsafe(32)
    s.add(
        AgentSession(
            id=token_hash(value),
            user_id=user.id,
            csrf=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            expires_at=now + ABSOLUTE,
            ip=(ip or "")[:64] or None,
            user_agent=(user_agent or "")[:300] or None,
        )
    )
    s.flush()
    return value


def load(s: Session, value: str, *, now: datetime | None = None) -> Agent | None:
    """The agent behind a cookie value, or None (unknown, revoked, idle too long, expired)."""
    if not value or len(value) > COOKIE_VALUE_MAX or not value.isascii():
        return None
    now = now or utcnow()
    row = s.execute(
        select(AgentSession, User)
        .join(User, User.id == AgentSession.user_id)
        .where(AgentSession.id == token_hash(value), AgentSession.revoked_at.is_(None))
    ).one_or_none()
    if row is None:
        return None
    session, user = row
    if now >= session.expires_at or now - session.last_seen_at >= IDLE:
        return None
    if now - session.last_seen_at >= TOUCH_EVERY:
        s.execute(update(AgentSession).where(AgentSession.id == session.id).values(last_seen_at=now))
    if user.is_admin:
        rows = s.execute(select(Project.id, Project.name).order_by(Project.name)).all()
        projects = tuple(ProjectRef(str(pid), str(name), "admin") for pid, name in rows)
    else:
        member = s.execute(
            select(Project.id, Project.name, Membership.role)
            .join(Membership, Membership.project_id == Project.id)
            .where(Membership.user_id == user.id)
            .order_by(Project.name)
        ).all()
        projects = tuple(ProjectRef(str(pid), str(name), str(role)) for pid, name, role in member)
    roles = {p.id: p.role for p in projects if not user.is_admin}
    caller = Caller(user.id, user.email, user.is_admin, roles)
    return Agent(caller, user.name or user.email, session.id, session.csrf, projects)


def end(s: Session, session_id: str, *, now: datetime | None = None) -> None:
    s.execute(
        update(AgentSession)
        .where(AgentSession.id == session_id, AgentSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )


def end_all(s: Session, user_id: str, *, now: datetime | None = None) -> int:
    """Signs the user out everywhere (after a password change or on an admin's request)."""
    result = s.execute(
        update(AgentSession)
        .where(AgentSession.user_id == user_id, AgentSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
