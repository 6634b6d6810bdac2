"""/openapi.json describes every route the app serves, and real responses match it."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec
from starlette.routing import Route

from bugline.routes import dashboard
from tests.conftest import ORIGIN, Bugline
from tests.support.media import png, upload

pytestmark = pytest.mark.anyio

# Pages for people, not API: the demo page and the redirect to it, and the customer's pages
# (status, answers, still broken, unsubscribe), with their catch-alls that answer 404.
NOT_API = {
    "/",
    "/demo",
    "/s/{token}",
    "/s/{token}/answer",
    "/s/{token}/reopen",
    "/u/{token}",
    "/s/{rest:path}",
    "/u/{rest:path}",
} | {route.path for route in dashboard.routes if isinstance(route, Route)}  # the agents' pages


def route_table(app: Any) -> set[tuple[str, str]]:
    out = set()
    for route in app.routes:
        if isinstance(route, Route) and route.path not in NOT_API:
            path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
            out |= {(path, m.lower()) for m in route.methods or () if m != "HEAD"}
    return out


def check(doc: dict[str, Any], template: str, method: str, res: httpx.Response) -> None:
    op = doc["paths"][template][method]
    documented = op["responses"].get(str(res.status_code))
    assert documented, f"{method.upper()} {template} answered {res.status_code}, which is not documented"
    schema = documented["content"]["application/json"]["schema"]
    validator = Draft202012Validator(doc | schema)
    errors = list(validator.iter_errors(res.json()))
    assert not errors, f"{method.upper()} {template} {res.status_code}: {errors[0].message}"


async def test_document_is_valid_openapi_and_covers_every_route(bugline: Bugline) -> None:
    doc = (await bugline.client.get("/openapi.json")).json()
    validate_spec(doc)
    documented = {(p, m) for p, ops in doc["paths"].items() for m in ops}
    assert route_table(bugline.app) == documented


async def test_real_responses_match_the_document(bugline: Bugline) -> None:
    doc = (await bugline.client.get("/openapi.json")).json()
    c = bugline.client
    h = {"X-Bugline-Key": bugline.key, "Origin": ORIGIN}
    image = png()
    res = await c.post(
        "/api/v1/reports",
        headers=h,
        json={
            "actual": "x",
            "attachments": [
                {"name": "a.png", "type": "image/png", "size": len(image)},
                {"name": "r.webm", "type": "video/webm", "size": 6_000_000, "kind": "recording"},
            ],
        },
    )
    check(doc, "/api/v1/reports", "post", res)
    created = res.json()
    rid, token = created["id"], created["status_token"]
    ht = h | {"X-Bugline-Report-Token": token}
    check(doc, "/api/v1/reports", "post", await c.post("/api/v1/reports", headers=h, json={"actual": 1}))
    check(doc, "/api/v1/reports", "post", await c.post("/api/v1/reports", json={"actual": "x"}))
    rec = created["attachments"][1]["id"]
    check(
        doc,
        "/api/v1/reports/{report_id}/attachments/{attachment_id}/parts",
        "post",
        await c.post(
            f"/api/v1/reports/{rid}/attachments/{rec}/parts", headers=ht, json={"parts": [{"part_number": 2}]}
        ),
    )
    check(
        doc,
        "/api/v1/reports/{report_id}/attachments/{attachment_id}/complete",
        "post",
        await c.post(
            f"/api/v1/reports/{rid}/attachments/{rec}/complete",
            headers=ht,
            json={"parts": [{"part_number": 1, "etag": "nope"}]},
        ),
    )
    check(
        doc,
        "/api/v1/reports/{report_id}/finalize",
        "post",
        await c.post(f"/api/v1/reports/{rid}/finalize", headers=ht),
    )
    await upload(c, created["attachments"][0], image)
    check(
        doc,
        "/api/v1/reports/{report_id}/attachments",
        "post",
        await c.post(
            f"/api/v1/reports/{rid}/attachments",
            headers=ht,
            json={"attachments": [{"name": "b.png", "type": "image/png", "size": 10}]},
        ),
    )
    check(
        doc,
        "/api/v1/reports/{report_id}/finalize",
        "post",
        await c.post(f"/api/v1/reports/{rid}/finalize", headers=ht, json={"skip_rejected": True}),
    )
    check(doc, "/api/v1/status/{token}", "get", await c.get(f"/api/v1/status/{token}"))
    check(doc, "/api/v1/status/{token}", "get", await c.get("/api/v1/status/" + "x" * 43))
    check(
        doc,
        "/api/v1/reports/form",
        "post",
        await c.post(
            "/api/v1/reports/form",
            headers=h,
            data={"actual": "x"},
            files={"screenshot": ("s.png", image, "image/png")},
        ),
    )
    check(doc, "/healthz", "get", await c.get("/healthz"))
    check(doc, "/readyz", "get", await c.get("/readyz"))


async def test_agent_api_responses_match_the_document(bugline: Bugline) -> None:
    from tests.integration.test_agent_api import auth, hook, token_for

    doc = (await bugline.client.get("/openapi.json")).json()
    c = bugline.client
    lead = auth(await token_for(bugline, "lead"))
    agent = auth(await token_for(bugline, "agent"))
    base = f"/api/v1/projects/{bugline.project.id}"
    check(doc, "/api/v1/connector-kinds", "get", await c.get("/api/v1/connector-kinds", headers=agent))
    check(doc, "/api/v1/connector-kinds", "get", await c.get("/api/v1/connector-kinds"))
    t = "/api/v1/projects/{project_id}/connectors"
    check(doc, t, "post", await c.post(f"{base}/connectors", json=hook("https://x.example"), headers=lead))
    check(
        doc, t, "post", await c.post(f"{base}/connectors", json=hook("https://x.example"), headers=lead)
    )  # 422
    check(
        doc, t, "post", await c.post(f"{base}/connectors", json=hook("https://x.example"), headers=agent)
    )  # 403
    check(doc, t, "get", await c.get(f"{base}/connectors", headers=agent))
    check(doc, t, "get", await c.get("/api/v1/projects/nope/connectors", headers=agent))
    one = t + "/{connector_id}"
    check(doc, one, "get", await c.get(f"{base}/connectors/hook", headers=agent))
    check(doc, one, "patch", await c.patch(f"{base}/connectors/hook", json={"enabled": False}, headers=lead))
    check(doc, one + "/check", "post", await c.post(f"{base}/connectors/hook/check", headers=lead))
    check(doc, one + "/test", "post", await c.post(f"{base}/connectors/hook/test", headers=lead))
    r = "/api/v1/projects/{project_id}/routing"
    check(doc, r, "get", await c.get(f"{base}/routing", headers=agent))
    check(doc, r, "put", await c.put(f"{base}/routing", json={"rules": []}, headers=lead))
    check(doc, r, "put", await c.put(f"{base}/routing", json={"rules": 3}, headers=lead))
    facts = {"severity": "high", "kind": "bug", "categories": [], "completeness": 80}
    check(
        doc,
        r + "/dry-run",
        "post",
        await c.post(f"{base}/routing/dry-run", json={"facts": facts}, headers=agent),
    )
    check(doc, r + "/dry-run", "post", await c.post(f"{base}/routing/dry-run", json={}, headers=agent))
    fwd = "/api/v1/projects/{project_id}/reports/{report_id}/forward"
    check(doc, fwd, "post", await c.post(f"{base}/reports/nope/forward", headers=agent))
    dl = "/api/v1/projects/{project_id}/deliveries"
    check(doc, dl, "get", await c.get(f"{base}/deliveries?state=failed", headers=agent))
    check(doc, dl, "get", await c.get(f"{base}/deliveries?state=nope", headers=agent))
    check(doc, dl + "/retry", "post", await c.post(f"{base}/deliveries/retry", json={}, headers=agent))
    res = await c.delete(f"{base}/connectors/hook", headers=lead)
    assert res.status_code == 204 and "204" in doc["paths"][one]["delete"]["responses"]
