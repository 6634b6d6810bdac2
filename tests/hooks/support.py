"""What the hook tests share: a connector with a webhook_secret, a duplicate group of real
reports (through the API and triage) with the connector's ticket, signers that sign as each
vendor does, and readers for what a customer would be told."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import insert, select

from bugline.connectors import configs
from bugline.db.engine import make_sessionmaker
from bugline.db.models import ConnectorConfig, Notification, Report, ReportEvent, Ticket, utcnow
from bugline.lifecycle import status as lifecycle
from tests.conftest import Bugline
from tests.integration.test_intake import headers, report_body

SECRET = "whsec-0f1e2d3c4b5a69788796a5b4c3d2e1f0"
# Settings each kind needs besides webhook_secret (values only have to validate).
SETTINGS: dict[str, dict[str, Any]] = {
    "zendesk": {"url": "acme", "email": "agent@acme.example", "api_token": "zd-token-1234567890"},
    "jira": {
        "url": "https://acme.atlassian.net",
        "email": "agent@acme.example",
        "api_token": "jira-token-1234567890",
        "project_key": "WEB",
    },
    "github": {"token": "github_pat_1234567890abcdef", "repo": "octo-org/shop"},
    "linear": {"api_key": "lin_api_1234567890abcdef", "team_id": "9cfb482a-81e3-4154-b5b9-2c805e70a02d"},
    "slack": {"token": "xoxb-1234-5678-abcdefghijkl", "channel": "C0123456789"},
    "freshdesk": {"url": "acme", "api_key": "fd-key-1234567890", "requester_email": "desk@acme.example"},
    "django-helpdesk": {"url": "https://desk.acme.example/helpdesk", "token": "0123456789abcdef", "queue": 1},
}
REPORTERS = [
    {"id": "u-42", "email": "ana@example.com", "name": "Ana", "account": "Acme"},
    {"id": "u-77", "email": "lee@example.com", "name": "Lee", "account": "Beta"},
]


async def add_connector(
    b: Bugline, kind: str, *, secret: str | None = SECRET, extra: dict[str, Any] | None = None
) -> ConnectorConfig:
    """Roles no routing rule sends to: the ticket is put in place by ``group_with_ticket``."""
    settings = {**SETTINGS[kind], **(extra or {})}
    if secret is not None:
        settings["webhook_secret"] = secret
    async with make_sessionmaker(b.engine)() as session, session.begin():
        return await session.run_sync(
            lambda s: configs.add(s, b.project.id, kind, settings, name=f"{kind}-desk", roles=["hooks-test"])
        )


@dataclass(frozen=True)
class Group:
    reports: list[str]  # every report of the duplicate group, first first
    ticket_id: str
    remote_id: str


async def submit(b: Bugline, reporter: dict[str, Any]) -> str:
    res = await b.client.post("/api/v1/reports", json=report_body(reporter=reporter), headers=headers(b))
    assert res.status_code == 201, res.text
    return str(res.json()["id"])


async def group_with_ticket(b: Bugline, connector: ConnectorConfig, remote_id: str, people: int = 2) -> Group:
    """``people`` customers report the same problem; triage groups them; the connector's
    ticket for the group exists (as the outbox records it), and forwarding escalated them."""
    ids = []
    for reporter in REPORTERS[:people]:
        ids.append(await submit(b, reporter))
        await b.triaged()
    async with make_sessionmaker(b.engine)() as session:
        rows = (await session.execute(select(Report).where(Report.id.in_(ids)))).scalars().all()
    keys = {r.duplicate_group_id or r.id for r in rows}
    assert len(keys) == 1, "the reports were expected to form one duplicate group"
    ticket_id = uuid.uuid4().hex

    def write(conn: Any) -> None:
        conn.execute(
            insert(Ticket).values(
                id=ticket_id,
                project_id=b.project.id,
                connector_id=connector.id,
                group_key=keys.pop(),
                report_id=ids[0],
                state="created",
                remote_id=remote_id,
                url="",
                data={},
                created_at=utcnow(),
            )
        )
        lifecycle.change(
            conn,
            ids,
            "escalated",
            source=lifecycle.Source("connector", connector.name, via=f"forwarded to {connector.kind}"),
            now=utcnow(),
            only_from=("received",),
        )

    await b.app.state.bugline.writer.run(write)
    return Group(ids, ticket_id, remote_id)


async def statuses(b: Bugline, ids: list[str]) -> list[str]:
    async with make_sessionmaker(b.engine)() as session:
        rows = {
            r.id: r.status
            for r in (await session.execute(select(Report).where(Report.id.in_(ids)))).scalars()
        }
    return [rows[i] for i in ids]


async def notifications(b: Bugline, report_id: str) -> list[Notification]:
    async with make_sessionmaker(b.engine)() as session:
        q = select(Notification).where(Notification.report_id == report_id).order_by(Notification.created_at)
        return list((await session.execute(q)).scalars())


async def events(b: Bugline, report_id: str, kind: str | None = None) -> list[ReportEvent]:
    async with make_sessionmaker(b.engine)() as session:
        q = select(ReportEvent).where(ReportEvent.report_id == report_id)
        if kind:
            q = q.where(ReportEvent.kind == kind)
        return list((await session.execute(q.order_by(ReportEvent.id))).scalars())


async def post(
    b: Bugline, connector_id: str, body: bytes, hdrs: dict[str, str], query: str = ""
) -> httpx.Response:
    return await b.client.post(f"/hooks/{connector_id}{query}", content=body, headers=hdrs)


# ---- signing, as each vendor signs -----------------------------------------------------------


def dumps(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def hex_hmac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def zendesk_headers(body: bytes, secret: str = SECRET, *, at: float | None = None) -> dict[str, str]:
    stamp = datetime.fromtimestamp(time.time() if at is None else at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = hmac.new(secret.encode(), stamp.encode() + body, hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "X-Zendesk-Webhook-Signature": base64.b64encode(digest).decode(),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
        "X-Zendesk-Webhook-Id": "01F1KRFQ6BG29CNWFR60NK5FNY",
        "X-Zendesk-Webhook-Invocation-Id": str(uuid.uuid4().int)[:10],
    }


def github_headers(body: bytes, secret: str = SECRET, *, event: str = "issues") -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/044aadd",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": "sha256=" + hex_hmac(secret, body),
    }


def jira_headers(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Atlassian-Webhook-Identifier": str(uuid.uuid4().int)[:12],
        "X-Hub-Signature": "sha256=" + hex_hmac(secret, body),
    }


def linear_headers(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "Linear-Delivery": str(uuid.uuid4()),
        "Linear-Event": "Issue",
        "Linear-Signature": hex_hmac(secret, body),
    }


def slack_headers(body: bytes, secret: str = SECRET, *, at: float | None = None) -> dict[str, str]:
    stamp = str(int(time.time() if at is None else at))
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": "v0=" + hex_hmac(secret, b"v0:" + stamp.encode() + b":" + body),
    }


def shared_headers(secret: str = SECRET) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Bugline-Hook-Secret": secret}


def now_ms(offset: float = 0.0) -> int:
    return int((time.time() + offset) * 1000)


# ---- a delivery sequence against one duplicate group ------------------------------------------

Request = tuple[bytes, dict[str, str], str]  # body, headers, query string ("" or "?secret=...")


@dataclass
class Step:
    """One delivery and what the customers' side must look like after it."""

    what: str
    make: Callable[[], Request] | None  # None: send the previous step's request again, byte for byte
    code: int
    status: str | None  # every report of the group, after; None: as before
    told: str | None = None  # the notification every reporter gets now (None: nobody is told)
    note: str = ""  # the public note that notification carries
    answer: dict[str, Any] = field(default_factory=dict)  # keys the JSON answer must have
    prepare: Callable[[], None] | None = None  # e.g. change the fake vendor's ticket first


async def run(b: Bugline, connector: ConnectorConfig, group: Group, steps: list[Step], via: str) -> None:
    last: Request | None = None
    for step in steps:
        if step.prepare is not None:
            step.prepare()
        before = {r: len(await notifications(b, r)) for r in group.reports}
        was = await statuses(b, group.reports)
        if step.make is None:
            assert last is not None
            request = last
        else:
            request = step.make()
        last = request
        body, hdrs, query = request
        res = await post(b, connector.id, body, hdrs, query)
        assert res.status_code == step.code, f"{step.what}: {res.status_code} {res.text}"
        answer = res.json()
        for key, value in step.answer.items():
            assert answer.get(key) == value, f"{step.what}: {key} = {answer.get(key)!r}, wanted {value!r}"
        now = await statuses(b, group.reports)
        assert now == ([step.status] * len(now) if step.status else was), f"{step.what}: {now}"
        for report_id in group.reports:
            fresh = (await notifications(b, report_id))[before[report_id] :]
            if step.told is None:
                assert fresh == [], f"{step.what}: told {[n.kind for n in fresh]}"
                continue
            assert [n.kind for n in fresh] == [step.told], f"{step.what}: told {[n.kind for n in fresh]}"
            assert fresh[0].data.get("note", "") == step.note, f"{step.what}: note {fresh[0].data}"
        if now != was:
            for report_id in group.reports:
                change = (await events(b, report_id, "status_changed"))[-1]
                assert change.public and change.actor_type == "connector" and change.actor == connector.name
                assert change.data["source"] == via and change.data["to"] == step.status
                assert change.data.get("note", "") == step.note
