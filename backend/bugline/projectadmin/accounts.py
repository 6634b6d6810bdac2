"""The agent's own account: display name, password, personal API tokens; and, for admins,
new users. Tokens are listed and revoked only for their owner (a token id of someone else's
finds nothing); a new token's value is returned once and only its SHA-256 is stored."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bugline import apitokens
from bugline.db.models import ApiToken, User, utcnow
from bugline.projectadmin.problems import Problems, one

MIN_PASSWORD = 12  # long passphrases beat composition rules (NIST SP 800-63B 5.1.1)
MAX_PASSWORD = 1000  # the sign-in form reads no more
MAX_NAME = 100
MAX_TOKENS = 50  # active tokens per person
_EMAIL = re.compile(r"^[^@\s<>]{1,64}@[^@\s<>]+\.[^@\s<>]+$")


@dataclass(frozen=True, slots=True)
class TokenRow:
    id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None


def tokens(s: Session, user_id: str) -> list[TokenRow]:
    rows = s.execute(
        select(ApiToken.id, ApiToken.name, ApiToken.created_at, ApiToken.last_used_at)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc())
    ).all()
    return [TokenRow(str(i), str(n or ""), c, u) for i, n, c, u in rows]


def token_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise one("name", f"name the token (where it is used), at most {MAX_NAME} characters")
    return name


def create_token(s: Session, user_id: str, name: str) -> str:
    name = token_name(name)
    if len(tokens(s, user_id)) >= MAX_TOKENS:
        raise one("name", f"you have {MAX_TOKENS} tokens already; revoke one you no longer use")
    user = s.get(User, user_id)
    assert user is not None
    return apitokens.create(s, user, name)


def revoke_token(s: Session, user_id: str, token_id: str) -> bool:
    result = s.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def display_name(name: str) -> str:
    name = name.strip()
    if len(name) > MAX_NAME:
        raise one("display_name", f"at most {MAX_NAME} characters")
    return name


def check_new_password(password: str, repeated: str) -> None:
    problems: list[tuple[str, str]] = []
    if len(password) < MIN_PASSWORD:
        problems.append(("new_password", f"at least {MIN_PASSWORD} characters (a few words make a good one)"))
    elif len(password) > MAX_PASSWORD:
        problems.append(("new_password", f"at most {MAX_PASSWORD} characters"))
    elif password != repeated:
        problems.append(("repeat_password", "the two new passwords differ"))
    if problems:
        raise Problems(problems)


def read_new_user(email: str, name: str, password: str) -> tuple[str, str]:
    problems: list[tuple[str, str]] = []
    email = email.strip().lower()
    if len(email) > 320 or not _EMAIL.match(email):
        problems.append(("email", "an email address like someone@example.com"))
    if len(name.strip()) > MAX_NAME:
        problems.append(("name", f"at most {MAX_NAME} characters"))
    if len(password) < MIN_PASSWORD:
        problems.append(("password", f"at least {MIN_PASSWORD} characters"))
    elif len(password) > MAX_PASSWORD:
        problems.append(("password", f"at most {MAX_PASSWORD} characters"))
    if problems:
        raise Problems(problems)
    return email, name.strip()


def create_user(s: Session, email: str, name: str, password_hash: str, *, admin: bool) -> User:
    if s.execute(select(User.id).where(User.email == email)).first() is not None:
        raise one("email", "a user with this email address exists already")
    user = User(email=email, name=name, password_hash=password_hash, is_admin=admin)
    s.add(user)
    try:
        s.flush()
    except IntegrityError:  # created by someone else a moment ago
        raise one("email", "a user with this email address exists already") from None
    return user


def users(s: Session) -> list[User]:
    return list(s.execute(select(User).order_by(User.email)).scalars())
