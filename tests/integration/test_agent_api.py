"""The agent API for set-up (connectors, routing, dry-run, forward now), on SQLite and
PostgreSQL, tried as an attacker would: no token, a guessed one, another tenant's ids, an
agent reaching for a lead's powers, hostile bodies."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from bugline.apitokens import create
from bugline.db.engine import make_sessionmaker
from bugline.db.models import ConnectorConfig, Delivery, Membership, Project, User, utcnow
from bugline.tokens import hash_password
from tests.conftest import Bugline
from tests.integration.test_intake import headers, report_body
from tests.integration.test_outbox import deliveries
from tests.support.vendors.receiver import SECRET, FakeReceiver
from tests.support.vendors.server import Fault

pytestmark = pytest.mark.anyio


async def token_for(
    b: Bugline, role: str | None, *, project: Project | None = None, admin: bool = False
) -> str:
    project = project or b.project

    def make(s: Any) -> str:
        user = User(
            email=f"{role or 'x'}-{id(s)}-{utcnow().timestamp()}@example.com",
            password_hash=hash_password("p" * 12),
            is_admin=admin,
        )
        s.add(user)
        s.flush()
        if role:
            s.add(Membership(project_id=project.id, user_id=user.id, role=role))
        return create(s, user, "test")

    async with make_sessionmaker(b.engine)() as session, session.begin():
        return await session.run_sync(make)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def hook(url: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "webhook", "name": "hook", "settings": {"url": f"{url}/hook", "secret": SECRET}, **extra}


async def test_connector_kinds_are_listed_with_their_settings(bugline: Bugline) -> None:
    token = await token_for(bugline, "agent")
    res = await bugline.client.get("/api/v1/connector-kinds", headers=auth(token))
    assert res.status_code == 200
    kinds = {k["kind"]: k for k in res.json()["kinds"]}
    assert list(kinds) == [
        "zendesk",
        "jira",
        "freshdesk",
        "github",
        "linear",
        "slack",
        "email",
        "webhook",
        "django-helpdesk",
    ]
    secret = next(s for s in kinds["webhook"]["settings"] if s["name"] == "secret")
    assert secret["secret"] is True and secret["required"] is True


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer blt_guessed-token-value", "Basic YWRtaW46YWRtaW4=", "Bearer " + "a" * 5000],
)
async def test_no_or_bad_token_is_401(bugline: Bugline, header: str | None) -> None:
    res = await bugline.client.get(
        f"/api/v1/projects/{bugline.project.id}/connectors",
        headers={"Authorization": header} if header else {},
    )
    assert res.status_code == 401
    assert res.headers["www-authenticate"].startswith("Bearer")
    assert "create-token" in res.json()["error"]["message"]


async def test_token_guessing_is_rate_limited(bugline: Bugline) -> None:
    codes = []
    for i in range(25):
        res = await bugline.client.get("/api/v1/connector-kinds", headers=auth(f"blt_guess{i}"))
        codes.append(res.status_code)
    assert codes[:20] == [401] * 20 and codes[-1] == 429


async def test_lead_adds_a_connector_and_never_sees_the_secret_again(bugline: Bugline) -> None:
    token = await token_for(bugline, "lead")
    base = f"/api/v1/projects/{bugline.project.id}/connectors"
    res = await bugline.client.post(
        base, json=hook("https://hooks.example.com", roles=["alerts"]), headers=auth(token)
    )
    assert res.status_code == 201, res.text
    shown = res.json()
    assert shown["settings"]["secret"] == "…" + SECRET[-4:] and SECRET not in res.text
    assert shown["roles"] == ["alerts"]
    listed = await bugline.client.get(base, headers=auth(token))
    assert SECRET not in listed.text and [c["name"] for c in listed.json()["connectors"]] == ["hook"]
    # Sending the masked value back keeps the secret; other settings change.
    patched = await bugline.client.patch(
        f"{base}/hook",
        json={"settings": {"url": "https://hooks.example.com/v2", "secret": shown["settings"]["secret"]}},
        headers=auth(token),
    )
    assert patched.status_code == 200, patched.text
    async with make_sessionmaker(bugline.engine)() as session:
        row = (
            await session.execute(
                select(ConnectorConfig).where(ConnectorConfig.project_id == bugline.project.id)
            )
        ).scalar_one()
    assert row.config == {"url": "https://hooks.example.com/v2", "secret": SECRET}
    assert (await bugline.client.delete(f"{base}/hook", headers=auth(token))).status_code == 204
    assert (await bugline.client.get(f"{base}/hook", headers=auth(token))).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "webhook", "settings": {"url": "javascript:alert(1)", "secret": SECRET}}, "settings.url"),
        ({"kind": "webhook", "settings": {"url": "https://x.example"}}, "settings.secret"),
        ({"kind": "pagerduty", "settings": {}}, "kind"),
        (
            {
                "kind": "webhook",
                "name": "Bad Name!",
                "settings": {"url": "https://x.example", "secret": SECRET},
            },
            "name",
        ),
        (
            {
                "kind": "webhook",
                "roles": ["<script>"],
                "settings": {"url": "https://x.example", "secret": SECRET},
            },
            "roles",
        ),
        (
            {"kind": "webhook", "settings": {"url": "https://x.example", "secret": SECRET, "extra": 1}},
            "settings.extra",
        ),
    ],
)
async def test_invalid_connectors_are_refused_naming_the_field(
    bugline: Bugline, body: dict[str, Any], field: str
) -> None:
    token = await token_for(bugline, "lead")
    res = await bugline.client.post(
        f"/api/v1/projects/{bugline.project.id}/connectors", json=body, headers=auth(token)
    )
    assert res.status_code == 422, res.text
    assert field in [f["field"] for f in res.json()["error"]["fields"]]


@pytest.mark.parametrize(
    ("content", "ctype", "status"),
    [
        (b"{not json", "application/json", 400),
        (b'{"kind": "webhook"}', "text/plain", 415),
        (b"[1, 2]", "application/json", 422),
        (b'{"kind": "webhook", "unknown": 1}', "application/json", 422),
        (b'{"kind": "' + b"x" * 70_000 + b'"}', "application/json", 413),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 413),
    ],
)
async def test_malformed_and_oversized_bodies(
    bugline: Bugline, content: bytes, ctype: str, status: int
) -> None:
    token = await token_for(bugline, "lead")
    res = await bugline.client.post(
        f"/api/v1/projects/{bugline.project.id}/connectors",
        content=content,
        headers={**auth(token), "Content-Type": ctype},
    )
    assert res.status_code == status, res.text
    assert res.json()["error"]["message"]


async def test_agent_reads_but_cannot_change_set_up(bugline: Bugline) -> None:
    token = await token_for(bugline, "agent")
    base = f"/api/v1/projects/{bugline.project.id}"
    assert (await bugline.client.get(f"{base}/connectors", headers=auth(token))).status_code == 200
    assert (await bugline.client.get(f"{base}/routing", headers=auth(token))).status_code == 200
    res = await bugline.client.post(f"{base}/connectors", json=hook("https://x.example"), headers=auth(token))
    assert res.status_code == 403 and "lead" in res.json()["error"]["message"]
    assert (
        await bugline.client.put(f"{base}/routing", json={"rules": []}, headers=auth(token))
    ).status_code == 403


async def test_other_tenants_projects_and_connectors_are_invisible(bugline: Bugline) -> None:
    other = await bugline.new_project(name="Globex")
    mine = await token_for(bugline, "lead")
    theirs = await token_for(bugline, "lead", project=other)
    res = await bugline.client.post(
        f"/api/v1/projects/{other.id}/connectors", json=hook("https://x.example"), headers=auth(theirs)
    )
    assert res.status_code == 201
    their_id = res.json()["id"]
    for method, path in [
        ("GET", f"/api/v1/projects/{other.id}/connectors"),
        ("GET", f"/api/v1/projects/{other.id}/routing"),
        ("POST", f"/api/v1/projects/{other.id}/connectors"),
        ("GET", "/api/v1/projects/no-such-project/connectors"),
    ]:
        res = await bugline.client.request(method, path, json=hook("https://x.example"), headers=auth(mine))
        assert res.status_code == 404, (method, path)
    # Their connector's id, through my own project: not found either.
    res = await bugline.client.get(
        f"/api/v1/projects/{bugline.project.id}/connectors/{their_id}", headers=auth(mine)
    )
    assert res.status_code == 404
    res = await bugline.client.delete(
        f"/api/v1/projects/{bugline.project.id}/connectors/{their_id}", headers=auth(mine)
    )
    assert res.status_code == 404
    for action in ("check", "test"):
        res = await bugline.client.post(
            f"/api/v1/projects/{bugline.project.id}/connectors/{their_id}/{action}", headers=auth(mine)
        )
        assert res.status_code == 404, action
    res = await bugline.client.get(f"/api/v1/projects/{other.id}/connectors", headers=auth(theirs))
    assert [c["id"] for c in res.json()["connectors"]] == [their_id]  # still there


async def test_a_lead_sends_a_test_report_and_learns_where_it_landed(bugline: Bugline) -> None:
    lead, agent = await token_for(bugline, "lead"), await token_for(bugline, "agent")
    base = f"/api/v1/projects/{bugline.project.id}/connectors"
    async with FakeReceiver() as receiver:
        res = await bugline.client.post(base, json=hook(receiver.url), headers=auth(lead))
        connector = res.json()["id"]
        res = await bugline.client.post(f"{base}/{connector}/test", headers=auth(lead))
        assert res.status_code == 200
        assert res.json() == {"ok": True, "ticket": {"id": "T-1", "url": f"{receiver.url}/tickets/1"}}
        [sent] = receiver.reports()
        assert sent["report"]["title"].startswith("Bugline test report")
        receiver.script(Fault.status(500))
        res = await bugline.client.post(f"{base}/{connector}/test", headers=auth(lead))
        assert res.json()["ok"] is False and res.json()["outcome"] == "retry" and res.json()["status"] == 500
        assert (await bugline.client.post(f"{base}/{connector}/test", headers=auth(agent))).status_code == 403
        for _ in range(2):  # four tries a minute per connector, check and test together
            assert (await bugline.client.post(f"{base}/{connector}/check", headers=auth(lead))).status_code == 200
        res = await bugline.client.post(f"{base}/{connector}/test", headers=auth(lead))
        assert res.status_code == 429 and res.json()["error"]["code"] == "rate_limited"
        assert int(res.headers["retry-after"]) >= 1
    assert await deliveries(bugline) == []  # a test report is not a report: nothing queued, nothing stored


async def test_routing_rules_saved_with_errors_naming_the_key_and_dry_run(bugline: Bugline) -> None:
    token = await token_for(bugline, "lead")
    base = f"/api/v1/projects/{bugline.project.id}"
    await bugline.client.post(f"{base}/connectors", json=hook("https://x.example"), headers=auth(token))
    bad = {"rules": [{"name": "pager", "when": {"severity": ["urgent"]}, "send": [{"role": "alerts"}]}]}
    res = await bugline.client.put(f"{base}/routing", json=bad, headers=auth(token))
    assert res.status_code == 422 and "routing.rules[0].when.severity" in res.json()["error"]["message"]
    good = {"rules": [{"name": "pager", "when": {"severity": ["critical"]}, "send": [{"role": "alerts"}]}]}
    res = await bugline.client.put(f"{base}/routing", json=good, headers=auth(token))
    assert res.status_code == 200, res.text
    assert any("alerts" in w for w in res.json()["warnings"])  # no connector has that role yet
    facts = {"severity": "critical", "kind": "bug", "categories": ["billing"], "completeness": 90}
    res = await bugline.client.post(f"{base}/routing/dry-run", json={"facts": facts}, headers=auth(token))
    assert res.status_code == 200, res.text
    assert [t["connector"] for t in res.json()["plan"]["targets"]] == ["hook"]
    assert "pager" in res.json()["explanation"]


async def test_dry_run_and_forward_now_on_a_stored_report(bugline: Bugline) -> None:
    token = await token_for(bugline, "agent")
    async with FakeReceiver() as receiver:
        lead = await token_for(bugline, "lead")
        base = f"/api/v1/projects/{bugline.project.id}"
        assert (
            await bugline.client.post(f"{base}/connectors", json=hook(receiver.url), headers=auth(lead))
        ).status_code == 201
        receiver.script(Fault.status(401))  # wrong credentials at first: the delivery fails
        res = await bugline.client.post("/api/v1/reports", json=report_body(), headers=headers(bugline))
        report_id = res.json()["id"]
        # The session's database holds other tests' deliveries too: count this report's.
        assert (await bugline.delivered()).get("failed", 0) >= 1
        assert [d.state for d in await deliveries(bugline, report_id)] == ["failed"]
        res = await bugline.client.post(
            f"{base}/routing/dry-run", json={"report_id": report_id}, headers=auth(token)
        )
        assert res.status_code == 200 and [t["connector"] for t in res.json()["plan"]["targets"]] == ["hook"]
        res = await bugline.client.post(f"{base}/reports/{report_id}/forward", headers=auth(token))
        assert res.status_code == 202 and res.json() == {"retried": 1, "added": 0}
        assert (await bugline.app.state.bugline.outbox.drain()).get("created", 0) >= 1
        assert [d.state for d in await deliveries(bugline, report_id)] == ["done"]
        assert len(receiver.reports()) == 1
        # Another project's agent cannot forward it.
        other = await bugline.new_project(name="Initech")
        stranger = await token_for(bugline, "lead", project=other)
        res = await bugline.client.post(
            f"/api/v1/projects/{other.id}/reports/{report_id}/forward", headers=auth(stranger)
        )
        assert res.status_code == 404
        async with make_sessionmaker(bugline.engine)() as session, session.begin():
            await session.execute(
                update(Delivery).where(Delivery.report_id == report_id).values(state="failed")
            )


async def test_failed_deliveries_are_listed_and_retried_by_hand(bugline: Bugline) -> None:
    agent = auth(await token_for(bugline, "agent"))
    lead = auth(await token_for(bugline, "lead"))
    base = f"/api/v1/projects/{bugline.project.id}"
    async with FakeReceiver() as receiver:
        assert (
            await bugline.client.post(f"{base}/connectors", json=hook(receiver.url), headers=lead)
        ).status_code == 201
        receiver.script(Fault.status(403, body=b"hook disabled"))
        res = await bugline.client.post("/api/v1/reports", json=report_body(), headers=headers(bugline))
        number, report_id = res.json()["number"], res.json()["id"]
        # The session's database holds other tests' deliveries too: count this report's.
        assert (await bugline.delivered()).get("failed", 0) >= 1
        assert [d.state for d in await deliveries(bugline, report_id)] == ["failed"]
        res = await bugline.client.get(f"{base}/deliveries?state=failed", headers=agent)
        assert res.status_code == 200
        [failed] = res.json()["deliveries"]
        assert (
            failed["connector"] == {"name": "hook", "kind": "webhook"}
            and failed["report"]["number"] == number
        )
        assert failed["status"] == 403 and "hook disabled" in failed["error"]
        # Another tenant cannot see or retry it, even with its id.
        other = await bugline.new_project(name="Umbrella")
        stranger = auth(await token_for(bugline, "lead", project=other))
        res = await bugline.client.post(
            f"/api/v1/projects/{other.id}/deliveries/retry", json={"ids": [failed["id"]]}, headers=stranger
        )
        assert res.status_code == 202 and res.json() == {"retried": 0}
        res = await bugline.client.post(
            f"{base}/deliveries/retry", json={"ids": [failed["id"]]}, headers=agent
        )
        assert res.status_code == 202 and res.json() == {"retried": 1}
        assert (await bugline.app.state.bugline.outbox.drain()).get("created", 0) >= 1
        res = await bugline.client.get(f"{base}/deliveries", headers=agent)
        assert [d["state"] for d in res.json()["deliveries"]] == ["done"]
        for query in ("state=lost", "limit=0", "limit=abc", "limit=100000"):
            res = await bugline.client.get(f"{base}/deliveries?{query}", headers=agent)
            assert res.status_code == 422, query
        res = await bugline.client.post(f"{base}/deliveries/retry", json={"ids": "all"}, headers=agent)
        assert res.status_code == 422
