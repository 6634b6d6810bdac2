"""Project pages as agents, leads, admins and outsiders use them: every page renders for a
member, set-up changes need a lead, another project's member gets the same 404 as a missing
id on every URL, forms without the session's CSRF token are refused, bad values get a 400
that names what to fix and change nothing, and hostile text comes back escaped."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from bugline.db.engine import make_sessionmaker
from bugline.db.models import ConnectorConfig, Membership, Project
from tests.conftest import ORIGIN
from tests.dashboard.conftest import Dash
from tests.integration.test_intake import report_body
from tests.support.vendors.receiver import SECRET

pytestmark = pytest.mark.anyio
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'

PAGES = (
    "",
    "/connectors",
    "/routing",
    "/sla",
    "/notifications",
    "/notifications/resolved",
    "/triage",
    "/members",
)
# Every POST, with a body that would be valid for a lead (or admin, for members).
POSTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("/name", {"name": "Renamed"}),
    ("/key", {"confirm": "yes"}),
    ("/origins", {"origins": "https://shop.example"}),
    (
        "/connectors",
        {"kind": "webhook", "name": "hook", "setting.url": "https://x.example/h", "setting.secret": SECRET},
    ),
    ("/routing", {"rules": '[[rules]]\nname = "a"\nsend = [{ role = "alerts" }]\n'}),
    ("/routing/dry-run", {"severity": "high", "kind": "bug"}),
    ("/sla", {"critical.resolution": "5h"}),
    ("/triage", {"threshold": "70"}),
    ("/notifications/resolved", {"subject": "Fixed: {{ report.title }}"}),
    ("/notifications/resolved/preview", {"subject": "Fixed"}),
    ("/notifications/resolved/reset", {}),
    ("/members", {"email": "nobody@example.com", "role": "agent"}),
)


async def project_row(dash: Dash, project_id: str | None = None) -> Project:
    async with make_sessionmaker(dash.bugline.engine)() as s:
        row = await s.get(Project, project_id or dash.project.id)
        assert row is not None
        return row


def url(dash: Dash, suffix: str = "", project_id: str | None = None) -> str:
    return f"/projects/{project_id or dash.project.id}{suffix}"


async def test_projects_list_shows_only_the_agents_projects_with_their_role(dash: Dash) -> None:
    other = await dash.bugline.new_project(name="Secret Other Project")
    agent = await dash.agent(role="lead")
    page = await agent.get("/projects")
    assert page.status_code == 200
    assert dash.project.name in page.text and "lead" in page.text
    assert "Secret Other Project" not in page.text and other.id not in page.text
    assert "New project" not in page.text  # only admins create projects
    admin = await dash.agent(admin=True)
    page = await admin.get("/projects")
    assert "Secret Other Project" in page.text and "New project" in page.text


@pytest.mark.parametrize("role", ["agent", "lead", "admin"])
async def test_every_page_renders_for_every_role(dash: Dash, role: str) -> None:
    member = await dash.agent(role=role)
    for suffix in PAGES:
        page = await member.get(url(dash, suffix))
        assert page.status_code == 200, (suffix, page.text)
        assert "<script>" not in page.text.replace('<script src="', "")  # no inline script (CSP)
        assert "script-src 'self'" in page.headers["content-security-policy"]
    connectors_page = await member.get(url(dash, "/connectors"))
    assert ("Add a connector" in connectors_page.text) == (role != "agent")


async def test_a_member_of_another_project_gets_404_on_every_url(dash: Dash) -> None:
    other = await dash.bugline.new_project(name="Theirs")
    async with make_sessionmaker(dash.bugline.engine)() as s, s.begin():
        s.add(
            ConnectorConfig(project_id=other.id, name="theirs", kind="webhook", config={}, roles=["helpdesk"])
        )
    outsider = await dash.agent(role="admin", projects=[other])
    missing = "0" * 32
    for project_id in (dash.project.id, missing):
        for suffix in PAGES:
            res = await outsider.get(url(dash, suffix, project_id))
            assert res.status_code == 404, (project_id, suffix)
            assert "not a member" in res.text
        for suffix, body in POSTS:
            res = await outsider.post(url(dash, suffix, project_id), body)
            assert res.status_code == 404, (project_id, suffix)
    admin = await dash.agent(admin=True)  # sees every project, yet a made-up id is still missing
    for suffix in PAGES:
        assert (await admin.get(url(dash, suffix, missing))).status_code == 404
    before = await project_row(dash)
    assert before.name == dash.project.name and before.public_key == dash.project.public_key


async def test_agents_may_look_but_not_change_the_set_up(dash: Dash) -> None:
    agent = await dash.agent(role="agent")
    allowed = {"/routing/dry-run", "/notifications/resolved/preview"}  # they change nothing
    for suffix, body in POSTS:
        res = await agent.post(url(dash, suffix), body)
        assert res.status_code == (200 if suffix in allowed else 403), (suffix, res.text)
    lead = await dash.agent(role="lead")
    res = await lead.post(url(dash, "/members"), {"email": "x@example.com", "role": "admin"})
    assert res.status_code == 403  # members are the project admins' to manage
    row = await project_row(dash)
    assert row.public_key == dash.project.public_key and row.name == dash.project.name
    assert row.settings == dash.project.settings and row.allowed_origins == dash.project.allowed_origins


@pytest.mark.parametrize("csrf", [None, "forged-token", ""])
async def test_forms_without_the_sessions_csrf_token_are_refused(dash: Dash, csrf: str | None) -> None:
    admin = await dash.agent(role="admin")
    for suffix, body in POSTS:
        res = await admin.post(url(dash, suffix), {**body, "csrf": csrf})
        assert res.status_code == 403, suffix
    res = await admin.post("/projects", {"name": "x", "csrf": csrf})
    assert res.status_code == 403
    row = await project_row(dash)
    assert row.public_key == dash.project.public_key and row.name == dash.project.name
    assert row.settings == dash.project.settings


async def test_a_form_from_another_site_is_refused(dash: Dash) -> None:
    lead = await dash.agent(role="lead")
    res = await lead.post(url(dash, "/name"), {"name": "evil"}, headers={"Origin": "https://evil.example"})
    assert res.status_code == 403
    assert (await project_row(dash)).name == dash.project.name


async def test_signed_out_visitors_are_sent_to_sign_in(dash: Dash) -> None:
    client = dash.new_client()
    res = await client.get(url(dash, "/connectors"))
    assert res.status_code == 303 and res.headers["location"].startswith("/login?next=/projects/")
    res = await client.post(url(dash, "/name"), data={"name": "x"})
    assert res.status_code == 303 and (await project_row(dash)).name == dash.project.name


# ---- the widget: snippet, key, origins, name --------------------------------------------------


async def test_the_snippet_holds_the_projects_key_and_rotating_needs_confirmation(dash: Dash) -> None:
    lead = await dash.agent(role="lead")
    page = await lead.get(url(dash))
    snippet = re.search(r'<pre id="snippet"[^>]*>(.*?)</pre>', page.text, re.S)
    assert snippet and f'data-bugline-key="{dash.project.public_key}"' in html.unescape(snippet.group(1))
    assert 'data-copy="#snippet"' in page.text
    res = await lead.post(url(dash, "/key"), {})
    assert res.status_code == 400 and "confirm" in res.text
    assert (await project_row(dash)).public_key == dash.project.public_key
    res = await lead.post(url(dash, "/key"), {"confirm": "yes"})
    assert res.status_code == 303
    new_key = (await project_row(dash)).public_key
    assert new_key != dash.project.public_key
    page = await lead.get(res.headers["location"])
    assert new_key in page.text and dash.project.public_key not in page.text
    assert "the old key no longer works" in page.text
    # Intake takes the new key at once and refuses the old one (this process's cache forgot it).
    old = await dash.bugline.client.post(
        "/api/v1/reports",
        json=report_body(),
        headers={"X-Bugline-Key": dash.project.public_key, "Origin": ORIGIN},
    )
    new = await dash.bugline.client.post(
        "/api/v1/reports", json=report_body(), headers={"X-Bugline-Key": new_key, "Origin": ORIGIN}
    )
    assert old.status_code == 403 and old.json()["error"]["code"] == "invalid_key"
    assert new.status_code in (201, 202), new.text


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("ftp://files.example", "entry 1"),
        ("https://ok.example\nhttps://app.example/path", "entry 2"),
        ("https://*.*.example", "wildcard"),
        ("https://a.example:99999", "invalid port"),
        (XSS, "entry 1"),
        ("\n".join(f"https://h{i}.example" for i in range(101)), "at most 100"),
    ],
)
async def test_bad_origins_are_refused_with_what_to_fix(dash: Dash, text: str, named: str) -> None:
    lead = await dash.agent(role="lead")
    res = await lead.post(url(dash, "/origins"), {"origins": text})
    assert res.status_code == 400 and named in res.text
    assert "<script>alert" not in res.text and "onerror=alert(1)>" not in res.text
    assert (await project_row(dash)).allowed_origins == dash.project.allowed_origins


async def test_origins_are_normalised_and_saved(dash: Dash) -> None:
    lead = await dash.agent(role="lead")
    res = await lead.post(
        url(dash, "/origins"),
        {"origins": "HTTPS://Shop.Example:443/\nhttps://*.example.org, http://localhost:3000"},
    )
    assert res.status_code == 303
    row = await project_row(dash)
    assert row.allowed_origins == ["http://localhost:3000", "https://*.example.org", "https://shop.example"]


async def test_project_names_render_escaped(dash: Dash) -> None:
    lead = await dash.agent(role="lead")
    assert (await lead.post(url(dash, "/name"), {"name": XSS})).status_code == 303
    for suffix in ("", "/connectors", "/members"):
        page = await lead.get(url(dash, suffix))
        assert XSS not in page.text and "&lt;script&gt;alert(" in page.text
    page = await lead.get("/projects")
    assert XSS not in page.text
    res = await lead.post(url(dash, "/name"), {"name": "x" * 201})
    assert res.status_code == 400 and "name" in res.text
    assert (await lead.post(url(dash, "/name"), {"name": "   "})).status_code == 400


async def test_admins_create_projects_and_become_their_admin(dash: Dash) -> None:
    admin = await dash.agent(admin=True)
    res = await admin.post("/projects", {"name": "Brand new", "origins": "https://new.example"})
    assert res.status_code == 303
    project_id = res.headers["location"].split("/")[2].split("?")[0]
    async with make_sessionmaker(dash.bugline.engine)() as s:
        project = await s.get(Project, project_id)
        member = await s.get(Membership, (project_id, admin.user_id))
    assert project is not None and project.allowed_origins == ["https://new.example"]
    assert member is not None and member.role == "admin"
    page = await admin.get(res.headers["location"])
    assert project.public_key in page.text
    res = await admin.post("/projects", {"name": "", "origins": "nope"})
    assert res.status_code == 400 and "name" in res.text and "entry 1" in res.text
    lead = await dash.agent(role="admin")  # a project admin is not a Bugline admin
    assert (await lead.post("/projects", {"name": "Mine"})).status_code == 403


async def test_oversized_forms_are_refused_before_anything_is_read(dash: Dash) -> None:
    lead = await dash.agent(role="lead")
    for suffix in ("/routing", "/origins", "/notifications/resolved"):
        res = await lead.post(
            url(dash, suffix), {"rules": "x" * 300_000, "origins": "y" * 300_000, "text": "z" * 300_000}
        )
        assert res.status_code == 413, suffix
    row = await project_row(dash)
    assert row.settings == dash.project.settings and row.allowed_origins == dash.project.allowed_origins
