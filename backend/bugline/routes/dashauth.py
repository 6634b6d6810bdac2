"""Signing in and out of the dashboard.

    GET/POST  /login     email and password; ?next= returns to the page that asked
    POST      /logout    ends this session (CSRF-checked)

The login form carries a signed form token (``pages.formtoken``) so another site cannot
sign a browser into an attacker's account (login CSRF). Attempts are rate limited per
client IP and failures per email address; an unknown email costs the same scrypt as a
wrong password, so timing does not tell which accounts exist. A successful sign-in starts
a new session (the id is never reused from before sign-in: no session fixation).
"""

from __future__ import annotations

import asyncio
import math

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bugline.dashboard import sessions
from bugline.dashboard.auth import current_agent, read_form, require_agent, safe_next, secure
from bugline.dashboard.view import render
from bugline.db.models import User, utcnow
from bugline.pages import formtoken
from bugline.pages.formbody import FormError, clean
from bugline.pages.formbody import read_form as read_plain_form
from bugline.routes.edge import app_state, client_ip, ip_identity
from bugline.tokens import hash_password, verify_password

LOGIN_BODY = 16 * 1024
PURPOSE = "login"
LOCKED = "Too many failed sign-ins for this email address. Wait a minute and try again."
# Compared against when the email is unknown, so that path costs one scrypt too.
_DUMMY = hash_password("not a password anyone has")


def _form(
    request: Request,
    *,
    status: int = 200,
    email: str = "",
    error: str = "",
    headers: dict[str, str] | None = None,
    next_path: str | None = None,
) -> Response:
    """The sign-in form; ``next_path`` (the posted one after a failed attempt) wins over ?next=,
    so a mistyped password does not lose the page the agent asked for."""
    state = app_state(request)
    token = formtoken.issue(state.settings.secret_key, PURPOSE, PURPOSE, utcnow())
    return render(
        request,
        None,
        "login.html",
        status=status,
        headers=headers,
        email=email,
        error=error,
        form_token=token,
        next=safe_next(next_path or request.query_params.get("next")),
    )


async def login(request: Request) -> Response:
    if request.method == "GET":
        if await current_agent(request) is not None:
            return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
        return _form(request)
    state = app_state(request)
    ip = ip_identity(client_ip(request, state.settings.trusted_proxies))
    wait = state.login_ip.hit(ip)
    if wait:
        seconds = str(math.ceil(wait))
        return _form(
            request,
            status=429,
            error=f"Too many sign-in attempts. Wait {seconds} seconds and try again.",
            headers={"Retry-After": seconds},
        )
    try:
        fields = await read_plain_form(request, LOGIN_BODY)
    except FormError as exc:
        return _form(request, status=exc.status, error=exc.message)
    email = clean(fields.get("email", "")).lower()[:320]
    password = fields.get("password", "")[:1000]
    check = formtoken.check(state.settings.secret_keys, PURPOSE, PURPOSE, fields.get("form_token"), utcnow())
    if check is not formtoken.Check.VALID:
        return _form(
            request,
            next_path=fields.get("next"),
            status=403,
            email=email,
            error="The sign-in form had expired. Please sign in again.",
        )
    if not email or not password:
        return _form(
            request,
            next_path=fields.get("next"),
            status=400,
            email=email,
            error="Enter your email address and your password.",
        )
    if state.login_email.wait(email):  # refused before the password is even compared
        return _form(
            request,
            next_path=fields.get("next"),
            status=429,
            email=email,
            error=LOCKED,
            headers={"Retry-After": "60"},
        )
    async with state.sessions() as session, session.begin():
        user = (await session.execute(select(User).where(User.email == email))).scalar_one_or_none()
    good = await asyncio.to_thread(verify_password, password, user.password_hash if user else _DUMMY)
    if user is None or not good:
        wait = state.login_email.hit(email)
        status = 429 if wait else 401
        message = LOCKED if wait else "The email address or the password is not right."
        return _form(request, next_path=fields.get("next"), status=status, email=email, error=message)
    agent_ip = client_ip(request, state.settings.trusted_proxies)
    ua = request.headers.get("user-agent")

    def start(s: Session) -> str:
        return sessions.start(s, s.merge(user), ip=agent_ip, user_agent=ua)

    async with state.sessions() as session, session.begin():
        value = await session.run_sync(start)
    is_secure = secure(request)
    response = RedirectResponse(safe_next(fields.get("next")), status_code=303)
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


async def logout(request: Request) -> Response:
    agent = await require_agent(request)
    await read_form(request, agent)
    state = app_state(request)
    async with state.sessions() as session, session.begin():
        await session.run_sync(lambda s: sessions.end(s, agent.session_id))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        sessions.cookie_name(secure(request)), path="/", secure=secure(request), httponly=True, samesite="lax"
    )
    return response


routes = [
    Route("/login", login, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
]
