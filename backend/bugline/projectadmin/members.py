"""A project's members: who may open it and with which role. Every query is scoped to the
project; a user id from another project finds nothing. A project that has an admin member
keeps at least one: the last one can be neither removed nor demoted."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bugline.apitokens import ROLES
from bugline.db.models import Membership, User
from bugline.projectadmin.problems import one

MAX_EMAIL = 320


@dataclass(frozen=True, slots=True)
class Member:
    user_id: str
    email: str
    name: str
    role: str


def listing(s: Session, project_id: str) -> list[Member]:
    rows = s.execute(
        select(User.id, User.email, User.name, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.project_id == project_id)
        .order_by(User.email)
    ).all()
    return [Member(str(i), str(e), str(n or ""), str(r)) for i, e, n, r in rows]


def check_role(role: str) -> str:
    if role not in ROLES:
        raise one("role", f"choose one of {', '.join(ROLES)}")
    return role


def add(s: Session, project_id: str, email: str, role: str) -> Member:
    role = check_role(role)
    email = email.strip().lower()
    if not email or len(email) > MAX_EMAIL:
        raise one("email", "enter the email address of an existing user")
    user = s.execute(select(User).where(User.email == email)).scalar_one_or_none()
    if user is None:
        raise one("email", "there is no user with this email address; an admin creates users under Account")
    if s.get(Membership, (project_id, user.id)) is not None:
        raise one("email", "this user is already a member of the project; change their role below")
    s.add(Membership(project_id=project_id, user_id=user.id, role=role))
    s.flush()
    return Member(user.id, user.email, user.name or "", role)


def _admins(s: Session, project_id: str) -> int:
    return int(
        s.execute(
            select(func.count())
            .select_from(Membership)
            .where(Membership.project_id == project_id, Membership.role == "admin")
        ).scalar_one()
    )


def _keeps_an_admin(s: Session, membership: Membership) -> None:
    if membership.role == "admin" and _admins(s, membership.project_id) <= 1:
        raise one("role", "a project must keep at least one admin: make someone else admin first")


def change(s: Session, project_id: str, user_id: str, role: str) -> bool:
    """False when the user is not a member of this project."""
    membership = s.get(Membership, (project_id, user_id))
    if membership is None:  # before the role is read: another project's user id is just missing
        return False
    role = check_role(role)
    if role != "admin":
        _keeps_an_admin(s, membership)
    membership.role = role
    s.flush()
    return True


def remove(s: Session, project_id: str, user_id: str) -> bool:
    membership = s.get(Membership, (project_id, user_id))
    if membership is None:
        return False
    _keeps_an_admin(s, membership)
    s.delete(membership)
    s.flush()
    return True
