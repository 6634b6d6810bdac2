"""routes/notifydoc.py describes every route of routes/notifyapi.py, merged into /openapi.json
it is valid OpenAPI, and real answers of the notification API match it."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from openapi_spec_validator import validate as validate_spec
from pydantic.json_schema import models_json_schema
from starlette.routing import Route

from bugline.routes import notifyapi, notifydoc, openapi
from tests.integration.test_agent_api import auth, token_for
from tests.integration.test_intake import report_body
from tests.integration.test_openapi import check
from tests.notify.conftest import Mailroom

pytestmark = pytest.mark.anyio


def merged() -> dict[str, Any]:
    """/openapi.json with the notification API in it, as openapi.py will merge it."""
    doc = copy.deepcopy(openapi.document())
    _, defs = models_json_schema(
        [(m, "validation") for m in notifydoc.REQUEST_MODELS], ref_template="#/components/schemas/{model}"
    )
    doc["components"]["schemas"].update(defs.get("$defs", {}))
    doc["components"]["schemas"].update(notifydoc.response_schemas())
    doc["paths"].update(notifydoc.operations(openapi.errors))
    return doc


def test_every_route_is_described_and_the_document_is_valid() -> None:
    doc = merged()
    validate_spec(doc)
    served = set()
    for route in notifyapi.routes:
        assert isinstance(route, Route)
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        served |= {(path, m.lower()) for m in route.methods or () if m != "HEAD"}
    described = {(p, m) for p, ops in notifydoc.operations(openapi.errors).items() for m in ops}
    assert served == described


async def test_real_answers_match_the_document(mailroom: Mailroom) -> None:
    doc = merged()
    c = mailroom.b.client
    lead = auth(await token_for(mailroom.b, "lead"))
    agent = auth(await token_for(mailroom.b, "agent"))
    base = f"/api/v1/projects/{mailroom.b.project.id}/notifications"
    t = "/api/v1/projects/{project_id}/notifications"
    report_id = await mailroom.submit(report_body(reporter={"id": "u-doc", "email": "doc@example.com"}))
    await mailroom.notified()
    check(
        doc,
        f"{t}/templates/{{kind}}",
        "put",
        await c.put(
            f"{base}/templates/resolved", json={"subject": "Done {{ report.reference }}"}, headers=lead
        ),
    )
    check(
        doc,
        f"{t}/templates/{{kind}}",
        "put",
        await c.put(f"{base}/templates/resolved", json={"html": "{{ x.__class__ }}"}, headers=lead),
    )
    check(
        doc,
        f"{t}/templates/{{kind}}",
        "put",
        await c.put(f"{base}/templates/resolved", json={"html": "x"}, headers=agent),
    )
    check(doc, f"{t}/templates", "get", await c.get(f"{base}/templates", headers=agent))
    check(
        doc,
        f"{t}/templates/{{kind}}/preview",
        "get",
        await c.get(f"{base}/templates/resolved/preview", headers=agent),
    )
    check(
        doc,
        f"{t}/templates/{{kind}}/preview",
        "get",
        await c.get(
            f"{base}/templates/received/preview",
            params={"report_id": report_id, "locale": "de"},
            headers=agent,
        ),
    )
    check(
        doc,
        f"{t}/templates/{{kind}}/preview",
        "get",
        await c.get(f"{base}/templates/received/preview", params={"locale": "xx"}, headers=agent),
    )
    check(
        doc,
        f"{t}/templates/{{kind}}/preview",
        "post",
        await c.post(f"{base}/templates/closed/preview", json={"text": "{{ close_days }}"}, headers=agent),
    )
    check(
        doc,
        f"{t}/settings",
        "put",
        await c.put(f"{base}/settings", json={"team": "the app team", "locales": ["en", "de"]}, headers=lead),
    )
    check(doc, f"{t}/settings", "put", await c.put(f"{base}/settings", json={"locale": "xx"}, headers=lead))
    check(doc, f"{t}/settings", "get", await c.get(f"{base}/settings", headers=agent))
    check(doc, f"{t}/templates/{{kind}}/preview", "get", await c.get(f"{base}/templates/resolved/preview"))
    res = await c.delete(f"{base}/templates/resolved", headers=lead)
    assert res.status_code == 204 and "204" in doc["paths"][f"{t}/templates/{{kind}}"]["delete"]["responses"]
