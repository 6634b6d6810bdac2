"""The account page: personal API tokens that really open the agent API (and stop when
revoked), a password change that signs out every other session, the display name; and an
admin's users page. Other people's tokens cannot be revoked, forms need CSRF, and what is
typed comes back escaped."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from bugline.db.engine import make_sessionmaker
from bugline.db.models import ApiToken, User
from bugline.tokens import verify_password
from tests.dashboard.conftest import PASSWORD, Dash

pytestmark = pytest.mark.anyio
TOKEN = re.compile(r'<pre id="new-token"[^>]*>(blt_[A-Za-z0-9_-]+)</pre>')
NEW_PASSWORD = "a different long passphrase"
XSS = "<script>alert(1)</script>"


async def test_a_token_opens_the_agent_api_until_revoked(dash: Dash) -> None:
    me = await dash.agent(role="agent")
    page = await me.post("/account/tokens", {"name": "CI " + XSS})
    assert page.status_code == 200
    match = TOKEN.search(page.text)
    assert match and 'data-copy="#new-token"' in page.text
    token = match.group(1)
    assert XSS not in page.text and "&lt;script&gt;" in page.text
    api = f"/api/v1/projects/{dash.project.id}/connectors"
    auth = {"Authorization": f"Bearer {token}"}
    assert (await dash.bugline.client.get(api, headers=auth)).status_code == 200
    listing = await me.get("/account")
    assert token not in listing.text  # shown once, never again
    assert "CI &lt;script&gt;" in listing.text and "never" not in listing.text  # it was just used
    async with make_sessionmaker(dash.bugline.engine)() as s:
        row = (await s.execute(select(ApiToken).where(ApiToken.user_id == me.user_id))).scalar_one()
    assert row.token_hash != token and token not in row.token_hash
    other = await dash.agent(role="agent")
    assert (await other.post(f"/account/tokens/{row.id}/revoke", {})).status_code == 404  # not theirs
    assert (await dash.bugline.client.get(api, headers=auth)).status_code == 200
    assert (await me.post(f"/account/tokens/{row.id}/revoke", {"csrf": None})).status_code == 403
    assert (await me.post(f"/account/tokens/{row.id}/revoke", {})).status_code == 303
    assert (await dash.bugline.client.get(api, headers=auth)).status_code == 401
    assert (await me.post(f"/account/tokens/{row.id}/revoke", {})).status_code == 404  # already gone


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
async def test_a_token_needs_a_sensible_name(dash: Dash, name: str) -> None:
    me = await dash.agent()
    res = await me.post("/account/tokens", {"name": name})
    assert res.status_code == 400 and "name the token" in res.text and not TOKEN.search(res.text)
    async with make_sessionmaker(dash.bugline.engine)() as s:
        assert (await s.execute(select(ApiToken).where(ApiToken.user_id == me.user_id))).first() is None


async def test_password_change_signs_out_other_sessions_and_keeps_this_one(dash: Dash) -> None:
    user = await dash.user()
    here = await dash.sign_in(user.email)
    elsewhere = await dash.sign_in(user.email)
    res = await here.post(
        "/account/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD},
    )
    assert res.status_code == 303 and res.headers["location"].startswith("/account")
    assert "bugline_session=" in res.headers["set-cookie"]  # a fresh session id for this browser
    page = await here.get(res.headers["location"])
    assert page.status_code == 200 and "Every other browser" in page.text
    assert (await elsewhere.get("/account")).status_code == 303  # signed out
    async with make_sessionmaker(dash.bugline.engine)() as s:
        stored = (await s.execute(select(User.password_hash).where(User.id == user.id))).scalar_one()
    assert verify_password(NEW_PASSWORD, stored) and not verify_password(PASSWORD, stored)
    again = await dash.sign_in(user.email, NEW_PASSWORD)
    assert (await again.get("/account")).status_code == 200


@pytest.mark.parametrize(
    ("form", "field"),
    [
        (
            {
                "current_password": "wrong password!!",
                "new_password": NEW_PASSWORD,
                "repeat_password": NEW_PASSWORD,
            },
            "current_password",
        ),
        ({"current_password": PASSWORD, "new_password": "short", "repeat_password": "short"}, "new_password"),
        (
            {
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "repeat_password": NEW_PASSWORD + "x",
            },
            "repeat_password",
        ),
        (
            {"current_password": PASSWORD, "new_password": "x" * 1001, "repeat_password": "x" * 1001},
            "new_password",
        ),
        (
            {
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "repeat_password": NEW_PASSWORD,
                "csrf": None,
            },
            "expired",
        ),
    ],
)
async def test_a_refused_password_change_changes_nothing(
    dash: Dash, form: dict[str, str | None], field: str
) -> None:
    user = await dash.user()
    here = await dash.sign_in(user.email)
    elsewhere = await dash.sign_in(user.email)
    res = await here.post("/account/password", form)
    assert res.status_code == (403 if field == "expired" else 400) and field in res.text
    assert NEW_PASSWORD not in res.text and PASSWORD not in res.text  # passwords are never echoed
    assert (await elsewhere.get("/account")).status_code == 200
    async with make_sessionmaker(dash.bugline.engine)() as s:
        stored = (await s.execute(select(User.password_hash).where(User.id == user.id))).scalar_one()
    assert verify_password(PASSWORD, stored)


async def test_guessing_the_current_password_is_limited(dash: Dash) -> None:
    me = await dash.agent()
    wrong = {
        "current_password": "not it at all!",
        "new_password": NEW_PASSWORD,
        "repeat_password": NEW_PASSWORD,
    }
    statuses = [(await me.post("/account/password", wrong)).text for _ in range(6)]
    assert "too many wrong passwords" in statuses[-1]
    right = {**wrong, "current_password": PASSWORD}
    res = await me.post("/account/password", right)
    assert res.status_code == 400 and "too many wrong passwords" in res.text  # even the right one waits


async def test_display_name_is_saved_and_escaped(dash: Dash) -> None:
    me = await dash.agent()
    assert (await me.post("/account/name", {"display_name": XSS})).status_code == 303
    page = await me.get("/account")
    assert XSS not in page.text and html.escape(XSS, quote=False) in page.text
    res = await me.post("/account/name", {"display_name": "n" * 101})
    assert res.status_code == 400 and "display_name" in res.text


async def test_admins_create_users_who_can_then_sign_in(dash: Dash) -> None:
    admin = await dash.agent(admin=True)
    page = await admin.get("/account/users")
    assert page.status_code == 200 and "New user" in page.text
    form = {"email": "New.Person@Example.com", "name": XSS, "password": "their first password", "admin": ""}
    assert (await admin.post("/account/users", form)).status_code == 303
    page = await admin.get("/account/users")
    assert "new.person@example.com" in page.text and XSS not in page.text
    assert "their first password" not in page.text
    dup = await admin.post("/account/users", form)
    assert dup.status_code == 400 and "exists already" in dup.text
    for bad, field in (
        ({"email": "nope"}, "email"),
        ({"password": "short"}, "password"),
        ({"name": "n" * 101}, "name"),
    ):
        res = await admin.post("/account/users", {**form, "email": "other@example.com", **bad})
        assert res.status_code == 400 and field in res.text
    signed = await dash.sign_in("new.person@example.com", "their first password")
    assert (await signed.get("/projects")).status_code == 200
    lead = await dash.agent(role="admin")  # a project admin is not a Bugline admin
    assert (await lead.get("/account/users")).status_code == 403
    assert (await lead.post("/account/users", {**form, "email": "x@example.com"})).status_code == 403
    async with make_sessionmaker(dash.bugline.engine)() as s:
        assert (await s.execute(select(User).where(User.email == "x@example.com"))).first() is None
