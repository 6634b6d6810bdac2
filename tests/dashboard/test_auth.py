"""Signing in and out, sessions, CSRF and the login rate limits, as an attacker would try them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from bugline.dashboard import sessions
from bugline.db.engine import make_sessionmaker
from bugline.db.models import AgentSession, utcnow
from tests.dashboard.conftest import PASSWORD, Dash

pytestmark = pytest.mark.anyio
TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


async def login_form(dash: Dash) -> tuple[object, str]:
    client = dash.new_client()
    page = await client.get("/login")
    assert page.status_code == 200
    match = TOKEN.search(page.text)
    assert match
    return client, match.group(1)


async def test_a_page_asks_for_sign_in_and_returns_to_it(dash: Dash) -> None:
    user = await dash.user()
    client = dash.new_client()
    res = await client.get("/reports?severity=critical")
    assert res.status_code == 303
    assert res.headers["location"] == "/login?next=/reports%3Fseverity%3Dcritical"
    page = await client.get(res.headers["location"])
    token = TOKEN.search(page.text)
    assert token and 'value="/reports?severity=critical"' in page.text
    res = await client.post(
        "/login",
        data={
            "email": user.email.upper(),
            "password": PASSWORD,
            "form_token": token.group(1),
            "next": "/reports?severity=critical",
        },
    )
    assert res.status_code == 303 and res.headers["location"] == "/reports?severity=critical"
    cookie = res.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
async def test_next_never_leaves_the_site(dash: Dash, target: str) -> None:
    user = await dash.user()
    client, token = await login_form(dash)
    res = await client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "form_token": token, "next": target}
    )  # type: ignore[attr-defined]
    assert res.status_code == 303 and res.headers["location"] == "/reports"


async def test_wrong_password_and_unknown_email_read_the_same(dash: Dash) -> None:
    user = await dash.user()
    client, token = await login_form(dash)
    wrong = await client.post("/login", data={"email": user.email, "password": "nope", "form_token": token})  # type: ignore[attr-defined]
    unknown = await client.post(
        "/login", data={"email": "nobody@example.com", "password": "nope", "form_token": token}
    )  # type: ignore[attr-defined]
    assert wrong.status_code == unknown.status_code == 401
    assert "The email address or the password is not right." in wrong.text
    assert "The email address or the password is not right." in unknown.text
    assert "set-cookie" not in wrong.headers


async def test_login_without_a_genuine_form_token_is_refused(dash: Dash) -> None:
    """Login CSRF: another site cannot sign a browser into the attacker's account."""
    user = await dash.user()
    client = dash.new_client()
    for token in ("", "1700000000.deadbeef", "x" * 500):
        res = await client.post(
            "/login", data={"email": user.email, "password": PASSWORD, "form_token": token}
        )
        assert res.status_code == 403
        assert "set-cookie" not in res.headers


async def test_failed_sign_ins_for_one_email_are_limited(dash: Dash) -> None:
    user = await dash.user()
    client, token = await login_form(dash)
    codes = []
    for _ in range(7):
        res = await client.post(
            "/login", data={"email": user.email, "password": "guess", "form_token": token}
        )  # type: ignore[attr-defined]
        codes.append(res.status_code)
    assert codes[:5] == [401] * 5 and codes[-1] == 429
    # Even the right password waits out the lock: guessing cannot continue by getting lucky.
    res = await client.post("/login", data={"email": user.email, "password": PASSWORD, "form_token": token})  # type: ignore[attr-defined]
    assert res.status_code == 429 and "Wait" in res.text and res.headers["retry-after"]


async def test_attempts_from_one_address_are_limited(dash: Dash) -> None:
    client, token = await login_form(dash)
    codes = []
    for i in range(12):
        res = await client.post(
            "/login", data={"email": f"u{i}@example.com", "password": "x", "form_token": token}
        )  # type: ignore[attr-defined]
        codes.append(res.status_code)
    assert 429 in codes and codes[0] == 401


async def test_sign_out_needs_the_csrf_token_and_ends_the_session(dash: Dash) -> None:
    alice = await dash.agent()
    old = alice.client.cookies.get(sessions.cookie_name(False))
    assert old
    res = await alice.post("/logout", {"csrf": "forged"})
    assert res.status_code == 403
    res = await alice.post("/logout", {"csrf": None})
    assert res.status_code == 403
    res = await alice.post("/logout")
    assert res.status_code == 303 and res.headers["location"] == "/login"
    assert not alice.client.cookies.get(sessions.cookie_name(False))  # the browser was told to drop it
    # The old cookie, replayed, signs nobody in: the session ended on the server too.
    replay = dash.new_client()
    replay.cookies.set(sessions.cookie_name(False), old)
    res = await replay.get("/reports")
    assert res.status_code == 303 and res.headers["location"].startswith("/login")


async def test_a_revoked_or_stale_session_signs_nobody_in(dash: Dash) -> None:
    alice = await dash.agent()
    cookie = alice.client.cookies.get(sessions.cookie_name(False))
    assert cookie
    async with make_sessionmaker(dash.bugline.engine)() as s, s.begin():
        await s.execute(
            update(AgentSession)
            .where(AgentSession.user_id == alice.user_id)
            .values(last_seen_at=utcnow() - sessions.IDLE - timedelta(minutes=1))
        )
    res = await alice.get("/reports")
    assert res.status_code == 303 and res.headers["location"].startswith("/login")


async def test_a_form_from_another_site_is_refused(dash: Dash) -> None:
    alice = await dash.agent()
    res = await alice.client.post(
        "/logout", data={"csrf": alice.csrf}, headers={"Origin": "https://evil.example"}
    )
    assert res.status_code == 403
    res = await alice.client.post("/logout", data={"csrf": alice.csrf}, headers={"Origin": "null"})
    assert res.status_code == 403


async def test_pages_carry_a_strict_policy(dash: Dash) -> None:
    client = dash.new_client()
    page = await client.get("/login")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert page.headers["cache-control"] == "no-store"


async def test_a_wrong_password_keeps_the_page_asked_for(dash: Dash) -> None:
    user = await dash.user()
    client, token = await login_form(dash)
    wrong = await client.post(  # type: ignore[attr-defined]
        "/login",
        data={"email": user.email, "password": "typo", "form_token": token, "next": "/review?month=2026-10"},
    )
    assert wrong.status_code == 401 and 'name="next" value="/review?month=2026-10"' in wrong.text
    again = TOKEN.search(wrong.text)
    assert again
    res = await client.post(  # type: ignore[attr-defined]
        "/login",
        data={
            "email": user.email,
            "password": PASSWORD,
            "form_token": again.group(1),
            "next": "/review?month=2026-10",
        },
    )
    assert res.status_code == 303 and res.headers["location"] == "/review?month=2026-10"
