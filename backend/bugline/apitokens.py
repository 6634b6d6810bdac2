"""Personal API tokens for the agent API: ``blt_`` + 32 random bytes, shown once; only the
SHA-256 is stored (a token is high-entropy, so a slow hash adds nothing)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bugline.db.engine import make_sync_engine
from bugline.db.models import ApiToken, Membership, User, utcnow
from bugline.settings import Settings
from bugline.tokens import token_hash

PREFIX = "blt_"
ROLES = ("agent", "lead", "admin")  # in increasing power


@dataclass(frozen=True, slots=True)
class Caller:
    """Who an API request comes from, and the projects they may see with their role there."""

    user_id: str
    email: str
    is_admin: bool
    roles: dict[str, str]  # project id -> agent | lead | admin

    def role(self, project_id: str) -> str | None:
        if self.is_admin:
            return "admin"
        return self.roles.get(project_id)

    def may(self, project_id: str, needed: str) -> bool:
        role = self.role(project_id)
        return role is not None and ROLES.index(role) >= ROLES.index(needed)


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def create(s: Session, user: User, name: str) -> str:
    token = new_token()
    s.add(ApiToken(user_id=user.id, name=name[:100], token_hash=token_hash(token)))
    s.flush()
    return token


def create_for_email(settings: Settings, email: str, name: str) -> str:
    engine = make_sync_engine(settings.effective_database_url)
    try:
        with Session(engine) as s, s.begin():
            user = s.execute(select(User).where(User.email == email.lower())).scalar_one_or_none()
            if user is None:
                raise SystemExit(
                    f"bugline: no user with the email {email}; create it with `bugline create-user`"
                )
            return create(s, user, name)
    finally:
        engine.dispose()


def authenticate(s: Session, token: str) -> Caller | None:
    """The caller behind a token, or None (unknown, revoked, or not even shaped like one)."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    row = s.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == token_hash(token), ApiToken.revoked_at.is_(None))
    ).one_or_none()
    if row is None:
        return None
    api_token, user = row
    s.execute(update(ApiToken).where(ApiToken.id == api_token.id).values(last_used_at=utcnow()))
    memberships = s.execute(
        select(Membership.project_id, Membership.role).where(Membership.user_id == user.id)
    )
    roles = {str(project_id): str(role) for project_id, role in memberships}
    return Caller(user.id, user.email, user.is_admin, roles)
