"""Project members: only the project's admins change them; a user is added by email with a
role, roles change, members leave; the last admin stays; another project's member ids are
not found through this project."""

from __future__ import annotations

import pytest

from bugline.db.engine import make_sessionmaker
from bugline.db.models import Membership
from tests.dashboard.conftest import Dash

pytestmark = pytest.mark.anyio
XSS = "<script>alert(1)</script>"


async def role_of(dash: Dash, user_id: str, project_id: str | None = None) -> str | None:
    async with make_sessionmaker(dash.bugline.engine)() as s:
        row = await s.get(Membership, (project_id or dash.project.id, user_id))
        return row.role if row else None


async def test_admins_add_change_and_remove_members(dash: Dash) -> None:
    admin = await dash.agent(role="admin")
    base = f"/projects/{dash.project.id}/members"
    newcomer = await dash.user(role=None, name=XSS)
    res = await admin.post(base, {"email": newcomer.email.upper(), "role": "lead"})
    assert res.status_code == 303 and await role_of(dash, newcomer.id) == "lead"
    page = await admin.get(base)
    assert newcomer.email in page.text and XSS not in page.text
    again = await admin.post(base, {"email": newcomer.email, "role": "agent"})
    assert again.status_code == 400 and "already a member" in again.text
    assert (await admin.post(f"{base}/{newcomer.id}", {"role": "agent"})).status_code == 303
    assert await role_of(dash, newcomer.id) == "agent"
    assert (await admin.post(f"{base}/{newcomer.id}", {"role": "owner"})).status_code == 400
    assert (await admin.post(f"{base}/{newcomer.id}/remove", {})).status_code == 303
    assert await role_of(dash, newcomer.id) is None
    for body, text in (
        ({"email": "ghost@example.com", "role": "agent"}, "no user"),
        ({"email": "", "role": "agent"}, "email"),
    ):
        res = await admin.post(base, body)
        assert res.status_code == 400 and text in res.text


async def test_the_last_admin_stays(dash: Dash) -> None:
    admin = await dash.agent(role="admin")
    base = f"/projects/{dash.project.id}/members"
    res = await admin.post(f"{base}/{admin.user_id}", {"role": "lead"})
    assert res.status_code == 400 and "at least one admin" in res.text
    res = await admin.post(f"{base}/{admin.user_id}/remove", {})
    assert res.status_code == 400 and await role_of(dash, admin.user_id) == "admin"
    second = await dash.agent(role="admin")
    assert (await second.post(f"{base}/{admin.user_id}/remove", {})).status_code == 303
    assert await role_of(dash, admin.user_id) is None
    assert (await admin.get(base)).status_code == 404  # no longer a member


async def test_leads_and_agents_cannot_change_members(dash: Dash) -> None:
    target = await dash.agent(role="agent")
    for role in ("agent", "lead"):
        member = await dash.agent(role=role)
        base = f"/projects/{dash.project.id}/members"
        page = await member.get(base)
        assert page.status_code == 200 and "Add a member" not in page.text
        assert (await member.post(base, {"email": "x@example.com", "role": "admin"})).status_code == 403
        assert (await member.post(f"{base}/{target.user_id}", {"role": "admin"})).status_code == 403
        assert (await member.post(f"{base}/{member.user_id}", {"role": "admin"})).status_code == 403
        assert (await member.post(f"{base}/{target.user_id}/remove", {})).status_code == 403
    assert await role_of(dash, target.user_id) == "agent"


async def test_another_projects_member_is_not_found_here(dash: Dash) -> None:
    other = await dash.bugline.new_project(name="Other")
    theirs = await dash.agent(role="agent", projects=[other])
    admin = await dash.agent(role="admin")
    base = f"/projects/{dash.project.id}/members"
    assert (await admin.post(f"{base}/{theirs.user_id}", {"role": "lead"})).status_code == 404
    assert (await admin.post(f"{base}/{theirs.user_id}/remove", {})).status_code == 404
    assert await role_of(dash, theirs.user_id, other.id) == "agent"
    assert await role_of(dash, theirs.user_id) is None
