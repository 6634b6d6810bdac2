"""The permission matrix: EVERY dashboard page route and agent report API route, read from the
route lists themselves, against the people who must not get in.

For each route and method, with path ids that belong to project A:
  signed out                          -> GET: 303 to /login?next=...; POST: 303 to /login, 401 or 403
                                         (API: 401)
  a member of another project only    -> 404, the same as a missing id (never 200, never 403),
                                         and with their OWN project id in the path and A's
                                         report / connector / member id after it, the same
                                         refusal as for ids that exist nowhere
  an agent on a lead-only route       -> 403 (lead-only set-up: they know the project exists)
  another member, on what one person  -> 404 (a saved view, an API token: per person, not per project)
    owns
  a POST with a forged or missing CSRF token, or from another site's Origin -> 403
and the person who may use it is let through (neither 401, 403, 404 nor a server error).

A route that is not in EXPECTED fails ``test_every_route_is_in_the_matrix``: adding a page or
an API route means saying here who may use it, so nobody adds an unprotected route by accident.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import pytest
from sqlalchemy.orm import Session
from starlette.routing import BaseRoute, Route

from bugline import apitokens
from bugline.connectors import configs
from bugline.dashboard import sessions
from bugline.db.engine import make_sessionmaker
from bugline.db.models import AgentSession, ApiToken, Membership, Project, SavedView, User
from bugline.routes import agent, dashboard, reportapi, reportsapi
from bugline.tokens import token_hash
from tests.conftest import ORIGIN
from tests.dashboard.conftest import Dash, SignedIn

pytestmark = pytest.mark.anyio

Need = Literal["public", "signed_in", "agent", "lead", "admin", "site_admin"]


@dataclass(frozen=True)
class Rule:
    """Who may use one route and method.

    need:   public (nobody signed in), signed_in (any agent; nothing project-specific in the
            path), agent / lead / admin (that role in the project the path's ids belong to),
            site_admin (a user with is_admin: creating projects and accounts)
    owner:  the path's id is one person's own (a saved view, an API token): another member of
            the same project gets 404
    query:  a query string naming project A's ids (``project={project}``): a member of another
            project gets 404 for it, as for a path id
    form:   fields a permitted POST sends, so the permitted call is a real use of the route
    """

    need: Need
    owner: bool = False
    query: str = ""
    form: dict[str, str] = field(default_factory=dict)


PUBLIC = Rule("public")
SIGNED_IN = Rule("signed_in")
AGENT = Rule("agent")
LEAD = Rule("lead")
ADMIN = Rule("admin")
SITE_ADMIN = Rule("site_admin")
P = "/projects/{project_id:str}"

# Dashboard pages (cookie session, CSRF on every POST). "METHOD /path" exactly as routed.
PAGES: dict[str, Rule] = {
    "GET /login": PUBLIC,
    "POST /login": PUBLIC,  # its own signed form token against login CSRF: tests/dashboard/test_auth.py
    "POST /logout": SIGNED_IN,
    # The inbox of the agent's projects, or one of them named in the query; saved views are one
    # person's own.
    "GET /reports": Rule("signed_in", query="project={project}"),
    "GET /reports/views": SIGNED_IN,
    "POST /reports/views": Rule(
        "signed_in", form={"name": "Mine", "query": "project={project}&severity=high"}
    ),
    "POST /reports/views/{view_id}/delete": Rule("signed_in", owner=True),
    # The report page and its actions: any member of the report's project.
    "GET /reports/{report_id:str}": AGENT,
    "POST /reports/{report_id:str}/edit": Rule("agent", form={"title": "Export fails on March invoices"}),
    "POST /reports/{report_id:str}/severity": Rule(
        "agent", form={"severity": "high", "reason": "Blocks billing"}
    ),
    "POST /reports/{report_id:str}/status": Rule("agent", form={"status": "in_progress"}),
    "POST /reports/{report_id:str}/notes": Rule(
        "agent", form={"text": "Looked at it", "visibility": "internal"}
    ),
    "POST /reports/{report_id:str}/forward": AGENT,
    "POST /reports/{report_id:str}/redeliver": AGENT,
    "POST /reports/{report_id:str}/merge": AGENT,
    "POST /reports/{report_id:str}/split": AGENT,
    # Projects and their set-up: reading needs the agent role, changing it lead, members admin.
    "GET /projects": SIGNED_IN,
    "POST /projects": SITE_ADMIN,
    f"GET {P}": AGENT,
    f"POST {P}/name": LEAD,
    f"POST {P}/key": LEAD,
    f"POST {P}/origins": LEAD,
    f"GET {P}/connectors": AGENT,
    f"POST {P}/connectors": LEAD,
    f"GET {P}/connectors/new": LEAD,
    f"GET {P}/connectors/{{connector_id:str}}": LEAD,
    f"POST {P}/connectors/{{connector_id:str}}": LEAD,
    f"POST {P}/connectors/{{connector_id:str}}/enabled": LEAD,
    f"POST {P}/connectors/{{connector_id:str}}/remove": LEAD,
    f"POST {P}/connectors/{{connector_id:str}}/check": LEAD,
    f"POST {P}/connectors/{{connector_id:str}}/test": LEAD,
    f"GET {P}/routing": AGENT,
    f"POST {P}/routing": LEAD,
    f"POST {P}/routing/dry-run": AGENT,  # trying rules changes nothing
    f"GET {P}/sla": AGENT,
    f"POST {P}/sla": LEAD,
    f"GET {P}/triage": AGENT,
    f"POST {P}/triage": LEAD,
    f"GET {P}/notifications": AGENT,
    f"POST {P}/notifications": LEAD,
    f"GET {P}/notifications/{{kind:str}}": AGENT,
    f"POST {P}/notifications/{{kind:str}}": LEAD,
    f"POST {P}/notifications/{{kind:str}}/preview": AGENT,  # a preview changes nothing
    f"POST {P}/notifications/{{kind:str}}/reset": LEAD,
    f"GET {P}/members": AGENT,
    f"POST {P}/members": ADMIN,
    f"POST {P}/members/{{user_id:str}}": ADMIN,
    f"POST {P}/members/{{user_id:str}}/remove": ADMIN,
    # The agent's own account; tokens are one person's.
    "GET /account": SIGNED_IN,
    "POST /account/name": SIGNED_IN,
    "POST /account/password": SIGNED_IN,
    "POST /account/tokens": SIGNED_IN,
    "POST /account/tokens/{token_id:str}/revoke": Rule("signed_in", owner=True),
    "GET /account/users": SITE_ADMIN,
    "POST /account/users": SITE_ADMIN,
    # The monthly review of one project, named in the query.
    "GET /review": Rule("signed_in", query="project={project}"),
    "GET /review.csv": Rule("signed_in", query="project={project}"),
}

# The agent report API (bearer tokens, no cookies, so no CSRF).
R = "/api/v1/projects/{project_id:str}/reports/{report_id:str}"
API: dict[str, Rule] = {
    "GET /api/v1/projects/{project_id:str}/reports": AGENT,
    f"GET {R}": AGENT,
    f"PATCH {R}": Rule("agent", form={"title": "Export fails on March invoices"}),
    f"POST {R}/notes": Rule("agent", form={"text": "Looked at it", "visibility": "internal"}),
    f"POST {R}/merge": AGENT,
    f"POST {R}/split": AGENT,
    # The set-up API (routes/agent.py): reading needs agent, changing set-up lead.
    "GET /api/v1/connector-kinds": SIGNED_IN,
    "GET /api/v1/projects/{project_id:str}/connectors": AGENT,
    "POST /api/v1/projects/{project_id:str}/connectors": LEAD,
    "GET /api/v1/projects/{project_id:str}/connectors/{connector_id:str}": AGENT,
    "PATCH /api/v1/projects/{project_id:str}/connectors/{connector_id:str}": LEAD,
    "DELETE /api/v1/projects/{project_id:str}/connectors/{connector_id:str}": LEAD,
    "POST /api/v1/projects/{project_id:str}/connectors/{connector_id:str}/check": LEAD,
    "POST /api/v1/projects/{project_id:str}/connectors/{connector_id:str}/test": LEAD,
    "GET /api/v1/projects/{project_id:str}/routing": AGENT,
    "PUT /api/v1/projects/{project_id:str}/routing": LEAD,
    "POST /api/v1/projects/{project_id:str}/routing/dry-run": AGENT,
    f"POST {R}/forward": AGENT,
    "GET /api/v1/projects/{project_id:str}/deliveries": AGENT,
    "POST /api/v1/projects/{project_id:str}/deliveries/retry": AGENT,
}

EXPECTED = {**PAGES, **API}


def endpoints(routes: list[BaseRoute]) -> list[tuple[str, str]]:
    """(method, path) of each route; HEAD is GET's twin and left out."""
    out = []
    for route in routes:
        assert isinstance(route, Route), (
            f"{route!r}: only plain Routes are enumerated here; extend endpoints()"
        )
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                out.append((method, route.path))
    return out


PAGE_ENDPOINTS = endpoints(dashboard.routes)
API_ENDPOINTS = endpoints([*reportsapi.routes, *reportapi.routes, *agent.routes])
PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")
IDS = {"report_id", "connector_id", "view_id", "token_id", "user_id"}  # a project's things, by id


def test_every_route_is_in_the_matrix() -> None:
    routed = {f"{m} {p}" for m, p in PAGE_ENDPOINTS} | {f"{m} {p}" for m, p in API_ENDPOINTS}
    missing = sorted(routed - set(EXPECTED))
    stale = sorted(set(EXPECTED) - routed)
    assert not missing, (
        "routes nobody said who may use: add each to PAGES or API in tests/dashboard/test_permissions.py\n"
        + "\n".join(missing)
    )
    assert not stale, "matrix entries for routes that no longer exist:\n" + "\n".join(stale)
    assert set(PAGES) == {f"{m} {p}" for m, p in PAGE_ENDPOINTS}, "an API route listed as a page or back"


def test_public_routes_are_only_the_sign_in() -> None:
    """The one door open to strangers; any other public route is a decision to write down here."""
    assert sorted(k for k, r in EXPECTED.items() if r.need == "public") == ["GET /login", "POST /login"]


# -- the world each route is tried in --------------------------------------------------------------


@dataclass
class World:
    """Project A with one of everything a path can name, and the people who try it."""

    project: Project
    ids: dict[str, str]
    lead: SignedIn  # lead of A, owner of the saved view and the token
    agent: SignedIn  # agent of A
    peer: SignedIn  # another lead of A (owns nothing)
    outsider: SignedIn  # admin of another project only
    admin: SignedIn  # a site admin
    anonymous: httpx.AsyncClient
    tokens: dict[str, str]  # the same people's API tokens
    other_project: str  # the outsider's own project


async def member(dash: Dash, project: Project, user_id: str, role: str) -> None:
    async with make_sessionmaker(dash.bugline.engine)() as s, s.begin():
        s.add(Membership(project_id=project.id, user_id=user_id, role=role))


async def new_world_ids(dash: Dash, lead: SignedIn) -> tuple[Project, dict[str, str]]:
    """A fresh project A (so a permitted POST that deletes or changes something cannot spoil
    the next route's check), a report in it through the public API, a connector, and the
    lead's own saved view and API token."""
    project = await dash.bugline.new_project(name=f"A-{secrets.token_hex(3)}")
    res = await dash.bugline.client.post(
        "/api/v1/reports",
        json={"title": "Export fails", "actual": "The export button does nothing", "frequency": "always"},
        headers={"X-Bugline-Key": project.public_key, "Origin": ORIGIN},
    )
    assert res.status_code == 201, res.text
    report_id = res.json()["id"]
    await dash.bugline.triaged()

    def setup(s: Session) -> dict[str, str]:
        connector = configs.add(
            s,
            project.id,
            "webhook",
            # Loopback, nothing listening: a permitted "send test" is refused at once, on this machine.
            {"url": "http://127.0.0.1:9/bugline", "secret": secrets.token_urlsafe(24)},
            name="hook",
            roles=["escalation"],
        )
        view = SavedView(user_id=lead.user_id, name=f"Mine {secrets.token_hex(3)}", query="severity=high")
        s.add(view)
        user = s.get(User, lead.user_id)
        assert user is not None
        apitokens.create(s, user, "laptop")
        s.flush()
        token = s.query(ApiToken).filter_by(user_id=lead.user_id).order_by(ApiToken.created_at.desc()).first()
        assert token is not None
        return {"connector": connector.id, "view": view.id, "token": token.id}

    async with make_sessionmaker(dash.bugline.engine)() as s, s.begin():
        more = await s.run_sync(setup)
    # "kind" is a notification kind, not an id; "user" a member of A (the agent).
    return project, {"project": project.id, "report": report_id, "kind": "resolved", **more}


def fill(path: str, ids: dict[str, str]) -> str:
    """The path with each parameter set to project A's thing of that kind (by the name's stem:
    project_id, report_id / id under /reports, connector_id, view_id, token_id)."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        stem = name.removesuffix("_id")
        if stem == "id":
            stem = "report" if "/reports" in path else stem
        assert stem in ids, (
            f"{path}: no filler for path parameter {{{name}}}; teach new_world_ids() and fill() about it"
        )
        return ids[stem]

    return PARAM.sub(one, path)


def mixed_urls(path: str, w: World) -> tuple[str, str]:
    """The classic guess, (my project, your report): the path with the outsider's own project
    id and project A's other ids; and the same path with ids that exist nowhere. The guess must
    be refused exactly as the missing ids are, so it tells nothing."""
    names = [m.group(1) for m in PARAM.finditer(path)]
    if "project_id" not in names or not set(names) & IDS:
        return "", ""
    nowhere = {k: secrets.token_hex(16) for k in w.ids if k not in ("project", "kind")}
    return fill(path, {**w.ids, "project": w.other_project}), fill(
        path, {**w.ids, **nowhere, "project": w.other_project}
    )


def same_refusal(guess: httpx.Response, missing: httpx.Response) -> bool:
    return guess.status_code == missing.status_code and guess.status_code >= 400


async def token_for(dash: Dash, user_id: str) -> str:
    def make(s: Session) -> str:
        user = s.get(User, user_id)
        assert user is not None
        return apitokens.create(s, user, "matrix")

    async with make_sessionmaker(dash.bugline.engine)() as s, s.begin():
        return await s.run_sync(make)


async def signed_in(dash: Dash, user_id: str) -> SignedIn:
    """A fresh session for ``user_id``, as /login would start it (a permitted POST may end the
    session: sign out, a password change). Made in the database: /login itself is tested in
    test_auth.py, and its per-address limit would stop a matrix this size."""

    def start(s: Session) -> tuple[str, str, str]:
        user = s.get(User, user_id)
        assert user is not None
        value = sessions.start(s, user, ip="127.0.0.1", user_agent="matrix")
        row = s.get(AgentSession, token_hash(value))
        assert row is not None
        return value, row.csrf, user.email

    async with make_sessionmaker(dash.bugline.engine)() as s, s.begin():
        value, csrf, email = await s.run_sync(start)
    client = dash.new_client()
    client.cookies.set(sessions.cookie_name(False), value)
    return SignedIn(client, user_id, email, csrf)


@pytest.fixture
async def people(dash: Dash) -> dict[str, Any]:
    """The users, made once per test (scrypt is slow on purpose); their memberships in each
    route's fresh project A are added as it is made."""
    other = await dash.bugline.new_project(name="Other tenant")
    users = {
        "lead": await dash.user(role=None),
        "agent": await dash.user(role=None),
        "peer": await dash.user(role=None),
        # An admin of their own project: the strongest role that is still not A's.
        "outsider": await dash.user(role="admin", projects=[other]),
        "admin": await dash.user(role=None, admin=True),
    }
    ids = {name: u.id for name, u in users.items()}
    tokens = {}
    for name in ("lead", "agent", "peer", "outsider"):
        tokens[name] = await token_for(dash, ids[name])
    return {"ids": ids, "tokens": tokens, "other": other.id}


async def world(dash: Dash, people: dict[str, Any]) -> World:
    uid = people["ids"]
    lead = await signed_in(dash, uid["lead"])
    project, ids = await new_world_ids(dash, lead)
    ids["user"] = uid["agent"]
    for name, role in (("lead", "lead"), ("agent", "agent"), ("peer", "lead")):
        await member(dash, project, uid[name], role)
    return World(
        project,
        ids,
        lead,
        await signed_in(dash, uid["agent"]),
        await signed_in(dash, uid["peer"]),
        await signed_in(dash, uid["outsider"]),
        await signed_in(dash, uid["admin"]),
        dash.new_client(),
        people["tokens"],
        people["other"],
    )


# -- the checks ------------------------------------------------------------------------------------

Call = Callable[[], Awaitable[httpx.Response]]


def refused(res: httpx.Response) -> str:
    return f"{res.status_code} {res.headers.get('location', '')}".strip()


def allowed(res: httpx.Response) -> bool:
    if res.status_code >= 500 or res.status_code in (401, 403, 404):
        return False
    # Sent to sign in (/login?next=...) is a refusal; /logout's own 303 to /login is not.
    return not (res.status_code in (302, 303, 307) and res.headers.get("location", "").startswith("/login?"))


async def page_as(
    who: SignedIn | httpx.AsyncClient, method: str, path: str, form: dict[str, str]
) -> httpx.Response:
    if isinstance(who, SignedIn):
        if method == "GET":
            return await who.get(path)
        return await who.post(path, form)
    if method == "GET":
        return await who.get(path)
    return await who.post(path, data=form)


async def check_page(w: World, method: str, path: str, rule: Rule) -> list[str]:
    url = fill(path, w.ids)
    if rule.query:
        url += "?" + rule.query.format(**w.ids)
    has_ids = "{" in path or bool(rule.query) or any("{" in v for v in rule.form.values())
    form = {k: v.format(**w.ids) for k, v in rule.form.items()}
    bad: list[str] = []

    def expect(cond: bool, who: str, res: httpx.Response, wanted: str) -> None:
        if not cond:
            bad.append(f"{method} {path} as {who}: got {refused(res)}, expected {wanted}")

    if rule.need == "public":
        return bad

    res = await page_as(w.anonymous, method, url, form)
    if method == "GET":
        expect(
            res.status_code == 303 and res.headers.get("location", "").startswith("/login?next="),
            "signed out",
            res,
            "303 to /login?next=",
        )
    else:
        expect(
            (res.status_code == 303 and res.headers.get("location", "").startswith("/login"))
            or res.status_code in (401, 403),
            "signed out",
            res,
            "303 to /login, 401 or 403",
        )

    # The one who may: a lead (an admin for admin routes), the owner for owned things.
    permitted = w.admin if rule.need in ("admin", "site_admin") else w.lead
    if method == "POST":
        for label, data, headers in (
            ("a forged CSRF token", {**form, "csrf": "forged-" + secrets.token_hex(8)}, {}),
            ("no CSRF token", {**form, "csrf": None}, {}),
            ("another site's Origin", form, {"Origin": "https://evil.example"}),
        ):
            res = await permitted.post(url, data, headers=headers)
            expect(res.status_code == 403, f"{label}", res, "403")

    if has_ids:
        res = await page_as(w.outsider, method, url, form)
        expect(res.status_code == 404, "a member of another project", res, "404 (as for a missing id)")
    mixed, nowhere = mixed_urls(path, w)
    if mixed:  # their own project in the path, project A's report/connector/... after it
        res = await page_as(w.outsider, method, mixed, form)
        missing = await page_as(w.outsider, method, nowhere, form)
        expect(
            same_refusal(res, missing),
            "another project's admin, naming A's id under their own project",
            res,
            f"the refusal a missing id gets ({missing.status_code})",
        )
    if rule.owner:
        res = await page_as(w.peer, method, url, form)
        expect(res.status_code == 404, "another member who does not own it", res, "404")
    if rule.need in ("lead", "admin", "site_admin"):
        res = await page_as(w.agent, method, url, form)
        expect(res.status_code == 403, "an agent", res, "403 (needs the lead role)")
    if rule.need in ("admin", "site_admin"):
        res = await page_as(w.lead, method, url, form)
        expect(res.status_code == 403, "a lead", res, f"403 (needs {rule.need})")
    if rule.need == "agent" and not rule.owner:
        res = await page_as(w.agent, method, url, form)
        expect(allowed(res), "an agent of the project", res, "to be let in")
    res = await page_as(permitted, method, url, form)
    expect(allowed(res), "the one who may", res, "to be let in")
    return bad


async def check_api(dash: Dash, w: World, method: str, path: str, rule: Rule) -> list[str]:
    url = fill(path, w.ids)
    body: dict[str, Any] = dict(rule.form)
    bad: list[str] = []

    async def call(token: str | None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        kw: dict[str, Any] = {"headers": headers}
        if method not in ("GET", "DELETE"):
            kw["json"] = body
        return await dash.bugline.client.request(method, url, **kw)

    def expect(cond: bool, who: str, res: httpx.Response, wanted: str) -> None:
        if not cond:
            bad.append(f"{method} {path} as {who}: got {res.status_code} {res.text[:200]}, expected {wanted}")

    # Each route tries two bad tokens; the per-address limit on failed tokens (tested in the
    # agent API's own tests) would answer 429 after ten routes, so each route starts afresh.
    state = dash.bugline.app.state.bugline
    state.failed_auth = type(state.failed_auth)(state.failed_auth.capacity)
    res = await call(None)
    expect(res.status_code == 401, "no token", res, "401")
    res = await call("blt_" + secrets.token_urlsafe(30))
    expect(res.status_code == 401, "an unknown token", res, "401")
    if "{" in path:
        res = await call(w.tokens["outsider"])
        expect(res.status_code == 404, "a member of another project", res, "404")
    mixed, nowhere = mixed_urls(path, w)
    if mixed:
        headers = {"Authorization": f"Bearer {w.tokens['outsider']}"}
        kw: dict[str, Any] = (
            {"headers": headers} if method in ("GET", "DELETE") else {"headers": headers, "json": body}
        )
        res = await dash.bugline.client.request(method, mixed, **kw)
        missing = await dash.bugline.client.request(method, nowhere, **kw)
        expect(
            same_refusal(res, missing),
            "another project's admin, naming A's id under their own project",
            res,
            f"the refusal a missing id gets ({missing.status_code})",
        )
    if rule.need in ("lead", "admin"):
        res = await call(w.tokens["agent"])
        expect(res.status_code == 403, "an agent", res, "403")
    else:
        res = await call(w.tokens["agent"])
        expect(allowed(res), "an agent of the project", res, "to be let in")
    res = await call(w.tokens["lead"])
    expect(allowed(res), "a lead of the project", res, "to be let in")
    return bad


async def test_every_page_route_refuses_who_it_must(dash: Dash, people: dict[str, Any]) -> None:
    bad: list[str] = []
    reading = await world(dash, people)  # GETs change nothing: they share one world
    for method, path in PAGE_ENDPOINTS:
        rule = EXPECTED.get(f"{method} {path}")
        if rule is None:
            bad.append(f"{method} {path}: not in the matrix")
            continue
        try:
            w = reading if method == "GET" else await world(dash, people)
            bad += await check_page(w, method, path, rule)
        except Exception as exc:  # a server error (raised through the test transport): list it, go on
            bad.append(f"{method} {path}: raised {exc!r}")
    assert not bad, "\n".join(bad)


async def test_every_agent_api_route_refuses_who_it_must(dash: Dash, people: dict[str, Any]) -> None:
    assert API_ENDPOINTS or not API, "the API matrix lists routes that are not routed"
    bad: list[str] = []
    for method, path in API_ENDPOINTS:
        rule = EXPECTED.get(f"{method} {path}")
        if rule is None:
            bad.append(f"{method} {path}: not in the matrix")
            continue
        try:
            bad += await check_api(dash, await world(dash, people), method, path, rule)
        except Exception as exc:
            bad.append(f"{method} {path}: raised {exc!r}")
    assert not bad, "\n".join(bad)
