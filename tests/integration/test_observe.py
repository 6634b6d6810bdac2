"""What an operator sees: /metrics (guarded), request ids on every response and in the logs,
and a report followed from intake by its ids."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bugline.app import create_app
from bugline.db.engine import make_sessionmaker
from bugline.db.models import ReportEvent
from bugline.observe.logs import JsonFormatter
from tests.conftest import PUBLIC_URL, Bugline, Router, make_settings
from tests.integration.test_agent_api import auth, hook, token_for
from tests.integration.test_intake import headers, report_body
from tests.support.vendors.receiver import FakeReceiver

pytestmark = pytest.mark.anyio


def sample(text: str, name: str, **labels: str) -> float:
    """The sum of the samples matching ``labels`` in Prometheus text format (0 when absent)."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        # Label values may hold braces themselves (route="/api/v1/status/{token}").
        got = dict(re.findall(r'(\w+)="([^"]*)"', line[: line.rindex("}")])) if "{" in line else {}
        if all(got.get(k) == v for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("bugline")
    old = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield out
    logger.removeHandler(handler)
    logger.setLevel(old)


async def test_metrics_count_requests_by_route_template_and_reports_by_source(bugline: Bugline) -> None:
    before = (await bugline.client.get("/metrics")).text
    res = await bugline.client.post("/api/v1/reports", json=report_body(), headers=headers(bugline))
    assert res.status_code == 201
    missing = await bugline.client.get(f"/api/v1/status/{'x' * 30}")  # a 404 on a templated route
    assert missing.status_code == 404, missing.text
    await bugline.client.get("/wp-admin/../etc/passwd-probe")  # matches nothing
    await bugline.triaged()
    after = await bugline.client.get("/metrics")
    assert after.status_code == 200 and after.headers["content-type"].startswith("text/plain")
    text = after.text
    post = {"route": "/api/v1/reports", "method": "POST", "status": "201"}
    assert (
        sample(text, "bugline_http_requests_total", **post)
        == sample(before, "bugline_http_requests_total", **post) + 1
    )
    accepted = "bugline_reports_accepted_total"
    assert sample(text, accepted) == sample(before, accepted) + 1
    assert sample(text, "bugline_http_requests_total", route="/api/v1/status/{token}", status="404") >= 1, [
        line for line in text.splitlines() if "status" in line
    ]
    # Probes of random paths share one label: they cannot grow the metrics without bound.
    assert "passwd-probe" not in text and sample(text, "bugline_http_requests_total", route="unmatched") >= 1
    assert sample(text, "bugline_triage_seconds_count") >= 1
    # Queue depths are read from the database at scrape time.
    assert 'bugline_queue_depth{queue="triage",state="waiting"}' in text
    assert 'bugline_queue_oldest_seconds{queue="timers",state="overdue"}' in text


async def test_metrics_need_the_token_or_a_private_network(tmp_path: Path, db_url: str) -> None:
    token = "m" * 24
    guarded = create_app(make_settings(db_url, tmp_path, metrics_token=token))
    open_ = create_app(make_settings(db_url, tmp_path / "b", trusted_proxies=1))
    async with httpx.AsyncClient(transport=Router(guarded), base_url=PUBLIC_URL) as c:
        assert (await c.get("/metrics")).status_code == 403
        assert (
            await c.get("/metrics", headers={"Authorization": "Bearer wrong-token-123456"})
        ).status_code == 403
        res = await c.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert res.status_code == 200 and "bugline_http_requests_total" in res.text
    async with httpx.AsyncClient(transport=Router(open_), base_url=PUBLIC_URL) as c:
        public = await c.get("/metrics", headers={"X-Forwarded-For": "93.184.216.34"})
        assert public.status_code == 403 and "BUGLINE_METRICS_TOKEN" in public.json()["error"]["message"]
        inside = await c.get("/metrics", headers={"X-Forwarded-For": "10.1.2.3"})
        assert inside.status_code == 200
    for app in (guarded, open_):
        await app.state.bugline.close()


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("lb-7f3a9c2e-0001", True), ("<script>alert(1)</script>", False), ("a" * 200, False), ("short", False)],
)
async def test_every_response_carries_a_request_id(bugline: Bugline, sent: str, kept: bool) -> None:
    res = await bugline.client.get("/healthz", headers={"X-Request-ID": sent})
    rid = res.headers["x-request-id"]
    assert (rid == sent) is kept
    assert re.fullmatch(r"[A-Za-z0-9._:-]{8,64}", rid)


async def test_a_report_is_followed_from_intake_by_its_ids(bugline: Bugline, json_logs: io.StringIO) -> None:
    res = await bugline.client.post("/api/v1/reports", json=report_body(), headers=headers(bugline))
    assert res.status_code == 201
    rid, report_id = res.headers["x-request-id"], res.json()["id"]
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    stored = [e for e in lines if e.get("report_id") == report_id]
    assert stored, lines
    assert stored[0]["request_id"] == rid and stored[0]["level"] == "info" and stored[0]["ts"]
    async with make_sessionmaker(bugline.engine)() as s:
        created = (
            await s.execute(
                select(ReportEvent).where(ReportEvent.report_id == report_id, ReportEvent.kind == "created")
            )
        ).scalar_one()
    assert created.data["request_id"] == rid


async def test_the_delivery_logs_carry_the_intake_request_id(
    bugline: Bugline, json_logs: io.StringIO
) -> None:
    lead = await token_for(bugline, "lead")
    async with FakeReceiver() as receiver:
        base = f"/api/v1/projects/{bugline.project.id}"
        added = await bugline.client.post(f"{base}/connectors", json=hook(receiver.url), headers=auth(lead))
        assert added.status_code == 201
        res = await bugline.client.post(
            "/api/v1/reports",
            json=report_body(),
            headers={**headers(bugline), "X-Request-ID": "edge-4f1c2a9b"},
        )
        assert res.status_code == 201 and res.headers["x-request-id"] == "edge-4f1c2a9b"
        await bugline.delivered()
        assert len(receiver.reports()) == 1
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    delivered = [
        e for e in lines if e["logger"] == "bugline.outbox" and e.get("report_id") == res.json()["id"]
    ]
    assert delivered, lines
    assert delivered[-1]["origin_request_id"] == "edge-4f1c2a9b" and delivered[-1]["connector"] == "webhook"
