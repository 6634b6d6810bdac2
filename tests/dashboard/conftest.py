"""Dashboard fixtures: agents with roles in projects, signed in through the real /login.

async def test_x(dash: Dash) -> None:
    alice = await dash.agent(role="lead")            # member of dash.project
    page = await alice.get("/reports")
    res = await alice.post("/reports/views", {"name": "Mine"})   # CSRF token added
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bugline.dashboard import sessions
from bugline.db.engine import make_sessionmaker
from bugline.db.models import AgentSession, Membership, Project, User
from bugline.tokens import hash_password, token_hash
from tests.conftest import PUBLIC_URL, Bugline, Router

PASSWORD = "correct horse battery staple"
_FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


@dataclass
class SignedIn:
    """A browser-like client with a session cookie, and the session's CSRF token."""

    client: httpx.AsyncClient
    user_id: str
    email: str
    csrf: str

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.get(path, **kw)

    async def post(self, path: str, data: dict[str, Any] | None = None, **kw: Any) -> httpx.Response:
        """A form POST as the browser sends it, with the CSRF token (unless ``csrf=None``)."""
        body = dict(data or {})
        body.setdefault("csrf", self.csrf)
        if body["csrf"] is None:
            del body["csrf"]
        return await self.client.post(path, data=body, **kw)


@dataclass
class Dash:
    bugline: Bugline
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    @property
    def project(self) -> Project:
        return self.bugline.project

    async def user(
        self,
        *,
        role: str | None = "agent",
        projects: list[Project] | None = None,
        admin: bool = False,
        email: str | None = None,
        name: str = "",
        password: str = PASSWORD,
    ) -> User:
        """A user; a member with ``role`` of ``projects`` (default: the fixture's project)."""
        email = email or f"agent-{secrets.token_hex(4)}@example.com"
        async with make_sessionmaker(self.bugline.engine)() as s, s.begin():
            user = User(
                email=email.lower(),
                name=name or email.split("@")[0],
                password_hash=hash_password(password),
                is_admin=admin,
            )
            s.add(user)
            await s.flush()
            if role is not None:
                for project in projects if projects is not None else [self.project]:
                    s.add(Membership(project_id=project.id, user_id=user.id, role=role))
        return user

    def new_client(self) -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=Router(self.bugline.app), base_url=PUBLIC_URL, timeout=60)
        self.clients.append(client)
        return client

    async def sign_in(self, email: str, password: str = PASSWORD) -> SignedIn:
        client = self.new_client()
        form = await client.get("/login")
        token = _FORM_TOKEN.search(form.text)
        assert token, form.text
        res = await client.post(
            "/login", data={"email": email, "password": password, "form_token": token.group(1)}
        )
        assert res.status_code == 303, res.text
        value = client.cookies.get(sessions.cookie_name(False))
        assert value
        async with make_sessionmaker(self.bugline.engine)() as s:
            row = (
                await s.execute(select(AgentSession).where(AgentSession.id == token_hash(value)))
            ).scalar_one()
            user = await s.get(User, row.user_id)
            assert user is not None
        return SignedIn(client, row.user_id, user.email, row.csrf)

    async def agent(
        self, role: str = "agent", projects: list[Project] | None = None, admin: bool = False
    ) -> SignedIn:
        user = await self.user(role=role if not admin else None, projects=projects, admin=admin)
        return await self.sign_in(user.email)


@pytest.fixture
async def dash(bugline: Bugline) -> AsyncIterator[Dash]:
    d = Dash(bugline)
    yield d
    for client in d.clients:
        await client.aclose()
