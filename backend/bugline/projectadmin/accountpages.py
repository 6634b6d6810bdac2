"""The agent's account: display name, password, personal API tokens; and, for Bugline
admins, the users.

    GET  /account                          name, password, tokens
    POST /account/name
    POST /account/password                 current password required; every session ends and
                                           this browser gets a new one (no fixation)
    POST /account/tokens                   a new token, shown once on the answer page
    POST /account/tokens/{token_id}/revoke
    GET/POST /account/users                (admins) every user, a new one
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from bugline.dashboard import sessions
from bugline.dashboard.auth import DashError, read_form, require_agent, secure
from bugline.dashboard.sessions import Agent
from bugline.dashboard.view import redirect, render
from bugline.db.models import User
from bugline.projectadmin import accounts, page
from bugline.projectadmin.problems import Problems, one
from bugline.routes.edge import app_state, client_ip
from bugline.tokens import hash_password, verify_password

NOTICES = {
    "name": "Your name is saved.",
    "password": "Your password is changed. Every other browser and device is signed out.",
    "revoked": "The token is revoked: requests with it are refused from now on.",
}
USER_NOTICES = {"created": "The user is created. Add them to projects on each project's Members page."}


async def _page(request: Request, agent: Agent, *, status: int = 200, **context: Any) -> Response:
    rows = await page.read(request, lambda s: accounts.tokens(s, agent.user_id))
    context.setdefault("problems", [])
    context.setdefault("notice", "")
    context.setdefault("new_token", None)
    context.setdefault("values", {})
    context.setdefault("bad", set())
    return render(request, agent, "account/index.html", status=status, tokens=rows, **context)


def _problems(exc: Problems) -> dict[str, Any]:
    return {"problems": exc.items, "bad": exc.fields}


async def account(request: Request) -> Response:
    agent = await require_agent(request)
    return await _page(request, agent, notice=page.notice_of(request, NOTICES))


async def name(request: Request) -> Response:
    agent = await require_agent(request)
    form = await read_form(request, agent)
    try:
        value = accounts.display_name(form.get("display_name") or "")
    except Problems as exc:
        return await _page(
            request, agent, status=400, values={"name": form.get("display_name", "")}, **_problems(exc)
        )

    def save(s: Session) -> None:
        user = s.get(User, agent.user_id)
        assert user is not None
        user.name = value

    await page.write(request, save)
    return redirect("/account", done="name")


async def password(request: Request) -> Response:
    agent = await require_agent(request)
    form = await read_form(request, agent)
    state = app_state(request)
    current, new, repeated = (
        form.get(k) or "" for k in ("current_password", "new_password", "repeat_password")
    )
    try:
        if state.login_email.wait(agent.email):  # a stolen session must not guess the password here
            raise one("current_password", "too many wrong passwords; wait a minute and try again")
        accounts.check_new_password(new, repeated)
        stored = await page.read(
            request,
            lambda s: s.execute(select(User.password_hash).where(User.id == agent.user_id)).scalar_one(),
        )
        if not await asyncio.to_thread(verify_password, current[: accounts.MAX_PASSWORD], stored):
            wait = state.login_email.hit(agent.email)
            text = (
                f"too many wrong passwords; wait {math.ceil(wait)} seconds"
                if wait
                else "this is not your current password"
            )
            raise one("current_password", text)
    except Problems as exc:
        return await _page(request, agent, status=400, **_problems(exc))
    hashed = await asyncio.to_thread(hash_password, new)
    ip = client_ip(request, state.settings.trusted_proxies)
    user_agent = request.headers.get("user-agent")

    def save(s: Session) -> str:
        user = s.get(User, agent.user_id)
        assert user is not None
        user.password_hash = hashed
        sessions.end_all(s, user.id)  # every session, this one too: it gets a fresh id below
        return sessions.start(s, user, ip=ip, user_agent=user_agent)

    value = await page.write(request, save)
    response = redirect("/account", done="password")
    is_secure = secure(request)
    response.set_cookie(
        sessions.cookie_name(is_secure),
        value,
        max_age=int(sessions.ABSOLUTE.total_seconds()),
        path="/",
        secure=is_secure,
        httponly=True,
        samesite="lax",
    )
    return response


async def create_token(request: Request) -> Response:
    agent = await require_agent(request)
    form = await read_form(request, agent)
    try:
        token = await page.write(
            request, lambda s: accounts.create_token(s, agent.user_id, form.get("name") or "")
        )
    except Problems as exc:
        return await _page(
            request, agent, status=400, values={"token_name": form.get("name", "")}, **_problems(exc)
        )
    # Shown on this answer only (no redirect, not stored, no-store): copy it now or make another.
    return await _page(request, agent, new_token=token)


async def revoke_token(request: Request) -> Response:
    agent = await require_agent(request)
    await read_form(request, agent)
    token_id = str(request.path_params["token_id"])
    if not await page.write(request, lambda s: accounts.revoke_token(s, agent.user_id, token_id)):
        raise DashError(404, "Not found", "You have no such token.")
    return redirect("/account", done="revoked")


async def users(request: Request) -> Response:
    agent = await require_agent(request)
    if not agent.is_admin:
        raise DashError(403, "Not allowed", "Only admins manage users.")
    if request.method == "GET":
        return await _users_page(request, agent, notice=page.notice_of(request, USER_NOTICES))
    form = await read_form(request, agent)
    values = {"email": form.get("email", ""), "name": form.get("name", ""), "admin": form.get("admin", "")}
    try:
        email, display = accounts.read_new_user(
            form.get("email") or "", form.get("name") or "", form.get("password") or ""
        )
        hashed = await asyncio.to_thread(hash_password, form.get("password") or "")
        admin = form.get("admin") == "on"
        await page.write(request, lambda s: accounts.create_user(s, email, display, hashed, admin=admin))
    except Problems as exc:
        return await _users_page(request, agent, status=400, values=values, **_problems(exc))
    return redirect("/account/users", done="created")


async def _users_page(request: Request, agent: Agent, *, status: int = 200, **context: Any) -> Response:
    rows = await page.read(request, accounts.users)
    context.setdefault("problems", [])
    context.setdefault("bad", set())
    context.setdefault("notice", "")
    context.setdefault("values", {})
    return render(request, agent, "account/users.html", status=status, users=rows, **context)
