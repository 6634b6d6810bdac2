"""What every dashboard route does first: who is signed in, may they see this project, is
this form ours.

    agent = await require_agent(request)              # else 303 to /login?next=...
    require_project(agent, project_id, "lead")        # else the same 404 as a missing project
    form = await read_form(request, agent)            # POST: body capped, CSRF checked

A project the agent is not a member of answers exactly like one that does not exist
(404), so ids cannot be probed; a member without the needed role gets 403 (they know the
project exists). Unsafe requests must carry the session's CSRF token, in the form's
``csrf`` field or an ``X-CSRF-Token`` header, and an ``Origin``, when the browser sends
one, must be our own: https://cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html
"""

from __future__ import annotations

import hmac
from urllib.parse import quote, urlsplit

from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request

from bugline.dashboard import sessions
from bugline.dashboard.sessions import Agent
from bugline.pages.formbody import FormError, clean, read_pairs
from bugline.routes.edge import app_state

FORM_LIMIT = 256 * 1024  # the biggest dashboard form (a notification template) fits many times over
MAX_FIELDS = 500  # a bulk action's checked reports, a settings form's many fields
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class DashError(Exception):
    """Answered with the dashboard's error page (or JSON for fetch requests)."""

    def __init__(self, status: int, title: str, text: str = "") -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.text = text


class LoginRequired(Exception):
    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def secure(request: Request) -> bool:
    return app_state(request).settings.effective_public_url.startswith("https://")


async def current_agent(request: Request) -> Agent | None:
    """The signed-in agent, read once per request (cached on the request)."""
    if "bugline.agent" in request.scope:
        cached: Agent | None = request.scope["bugline.agent"]
        return cached
    value = request.cookies.get(sessions.cookie_name(secure(request)), "")
    agent = None
    if value:
        state = app_state(request)
        async with state.sessions() as session, session.begin():
            agent = await session.run_sync(lambda s: sessions.load(s, value))
    request.scope["bugline.agent"] = agent
    return agent


def safe_next(path: str | None) -> str:
    """Only a path on this site: never ``//evil.example`` or ``https://evil.example``."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/reports"
    parts = urlsplit(path)
    if parts.scheme or parts.netloc:
        return "/reports"
    return path[:2000]


async def require_agent(request: Request) -> Agent:
    agent = await current_agent(request)
    if agent is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target if request.method == "GET" else "/reports")
    if request.method in UNSAFE:
        _check_origin(request)
    return agent


def require_project(agent: Agent, project_id: str, needed: str = "agent") -> None:
    if agent.role(project_id) is None:
        raise DashError(404, "Not found", "There is no such page, or you are not a member of its project.")
    if not agent.may(project_id, needed):
        raise DashError(403, "Not allowed", f"This needs the {needed} role in this project.")


def _check_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin is None:  # same-origin navigations from old browsers; CSRF still applies
        return
    public = urlsplit(app_state(request).settings.effective_public_url)
    ours = {f"{public.scheme}://{public.netloc}", f"{request.url.scheme}://{request.url.netloc}"}
    if origin not in ours:
        raise DashError(403, "Refused", "This form was sent from another site.")


def check_csrf(agent: Agent, token: str | None) -> None:
    if not token or not hmac.compare_digest(token.encode(), agent.csrf.encode()):
        raise DashError(
            403,
            "This form has expired",
            "Go back, reload the page and send it again (the form's token did not match).",
        )


async def read_form(request: Request, agent: Agent, limit: int = FORM_LIMIT) -> ImmutableMultiDict[str, str]:
    """The POSTed form (urlencoded or multipart, no files), size-capped, control characters
    out, CSRF-checked (field ``csrf`` or header ``X-CSRF-Token``). ``form.get(name)`` and
    ``form.getlist(name)`` read it."""
    if not request.headers.get("content-type") and request.headers.get("content-length", "0") == "0":
        pairs: list[tuple[str, str]] = []  # an empty POST: a button with no fields (still needs CSRF)
    else:
        pairs = await _pairs(request, limit)
    form = ImmutableMultiDict([(name, clean(value)) for name, value in pairs])
    check_csrf(agent, form.get("csrf") or request.headers.get("x-csrf-token"))
    return form


async def _pairs(request: Request, limit: int) -> list[tuple[str, str]]:
    try:
        return await read_pairs(request, limit, max_fields=MAX_FIELDS)
    except FormError as exc:
        raise DashError(exc.status, "The form could not be read", exc.message) from None


def login_url(next_path: str) -> str:
    return "/login?next=" + quote(next_path, safe="/")
