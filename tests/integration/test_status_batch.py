"""POST /api/v1/status/batch, the widget's "My reports": this browser's reports by their status
tokens, on SQLite and PostgreSQL. Only the key's project, only tokens that find a report, only
the public timeline; bad, oversized, hostile and unauthorized requests are refused plainly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.routing import Route

from bugline.db.migrate import upgrade
from bugline.db.models import utcnow
from bugline.lifecycle import status as lifecycle
from tests.conftest import ORIGIN, PUBLIC_URL, Bugline, make_settings, start_bugline
from tests.integration.test_intake import report_body

pytestmark = pytest.mark.anyio

URL = "/api/v1/status/batch"


def served(b: Bugline) -> None:
    paths = {(r.path, m) for r in b.app.routes if isinstance(r, Route) for m in r.methods or ()}
    if (URL, "POST") not in paths:
        pytest.fail(
            "the app does not serve POST /api/v1/status/batch: add bugline.routes.statusbatch to app.py"
        )


def key_headers(b: Bugline, key: str | None = None) -> dict[str, str]:
    return {"X-Bugline-Key": key or b.key, "Origin": ORIGIN}


async def create(b: Bugline, key: str | None = None, **extra: Any) -> dict[str, Any]:
    res = await b.client.post("/api/v1/reports", json=report_body(**extra), headers=key_headers(b, key))
    assert res.status_code == 201, res.text
    created: dict[str, Any] = res.json()
    return created


async def batch(b: Bugline, tokens: list[str], key: str | None = None) -> httpx.Response:
    return await b.client.post(URL, json={"tokens": tokens}, headers=key_headers(b, key))


async def test_answers_this_browsers_reports_in_the_order_asked(bugline: Bugline) -> None:
    served(bugline)
    first = await create(bugline, title="Invoice export fails")
    second = await create(bugline, title="Logo upload spins forever")
    missing = "A" * 43  # well-formed, finds nothing
    res = await bugline.client.post(
        f"{URL}?key={bugline.key}",  # as the widget calls it: the key in the URL, for the preflight
        json={"tokens": [second["status_token"], missing, first["status_token"], second["status_token"]]},
        headers={"Origin": ORIGIN},
    )
    assert res.status_code == 200, res.text
    assert res.headers["cache-control"] == "private, no-store"
    assert res.headers["access-control-allow-origin"] == ORIGIN
    reports = res.json()["reports"]
    assert [r["number"] for r in reports] == [second["number"], first["number"]], "asked order, once each"
    one = reports[1]
    assert one["token"] == first["status_token"]
    assert one["reference"] == f"#{first['number']}"
    assert one["title"] == "Invoice export fails"
    assert one["status"] == "received"
    assert one["page_url"] == f"{PUBLIC_URL}/s/{first['status_token']}"
    assert [(e["kind"], e.get("status")) for e in one["timeline"]] == [
        ("created", "received"),
        ("status_changed", "received"),
    ]
    assert set(one) == {
        "token",
        "reference",
        "number",
        "title",
        "status",
        "created_at",
        "updated_at",
        "page_url",
        "timeline",
    }
    text = res.text.lower()
    for private in ("reporter", "email", "ana@example.com", first["id"], "client_ip", "actor", "source"):
        assert private not in text, private


async def test_a_status_change_shows_with_its_public_note_and_nothing_internal(bugline: Bugline) -> None:
    served(bugline)
    created = await create(bugline)
    await bugline.app.state.bugline.writer.run(
        lambda conn: lifecycle.change(
            conn,
            [created["id"]],
            "resolved",
            source=lifecycle.Source("agent", "lee@acme.example", "agent API"),
            now=utcnow(),
            public_note="Fixed in release 2.4: exports work again.",
            internal_note="Root cause: the CSV writer's buffer (see INC-77)",
        )
    )
    res = await batch(bugline, [created["status_token"]])
    [one] = res.json()["reports"]
    assert one["status"] == "resolved"
    last = one["timeline"][-1]
    assert (last["kind"], last["status"], last["note"]) == (
        "status_changed",
        "resolved",
        "Fixed in release 2.4: exports work again.",
    )
    assert "INC-77" not in res.text and "lee@acme.example" not in res.text and "agent API" not in res.text
    assert all(e["kind"] != "note" for e in one["timeline"]), "internal notes are not public events"


async def test_another_projects_tokens_find_nothing(bugline: Bugline) -> None:
    served(bugline)
    other = await bugline.new_project()
    theirs = await create(bugline, key=other.public_key)
    ours = await create(bugline)
    res = await batch(bugline, [theirs["status_token"], ours["status_token"]])
    assert [r["number"] for r in res.json()["reports"]] == [ours["number"]]
    res = await batch(bugline, [ours["status_token"]], key=other.public_key)
    assert res.status_code == 200 and res.json() == {"reports": []}


async def test_unauthorized_callers_are_refused(bugline: Bugline) -> None:
    served(bugline)
    token = (await create(bugline))["status_token"]
    body = {"tokens": [token]}
    c = bugline.client
    no_key = await c.post(URL, json=body, headers={"Origin": ORIGIN})
    assert no_key.status_code == 401 and no_key.json()["error"]["code"] == "missing_key"
    unknown = await c.post(URL, json=body, headers={"X-Bugline-Key": "pk_" + "x" * 24, "Origin": ORIGIN})
    assert unknown.status_code == 403 and unknown.json()["error"]["code"] == "invalid_key"
    foreign = await c.post(
        URL, json=body, headers={"X-Bugline-Key": bugline.key, "Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403 and foreign.json()["error"]["code"] == "origin_not_allowed"
    assert "access-control-allow-origin" not in foreign.headers, "unreadable to the foreign page"
    assert token not in foreign.text and token not in unknown.text


def too_many() -> list[str]:
    return [f"{n:02d}" + "a" * 41 for n in range(21)]


@pytest.mark.parametrize(
    ("content", "ctype", "status", "code"),
    [
        (b'{"tokens": [', "application/json", 400, "malformed_json"),
        (b"\xff\xfe", "application/json", 400, "malformed_json"),
        (b'{"tokens": []}', "text/plain", 415, "unsupported_media_type"),
        (b'["' + b"a" * 43 + b'"]', "application/json", 422, "invalid_body"),
        (b'{"tokens": "' + b"a" * 43 + b'"}', "application/json", 422, "invalid_fields"),
        (b"{}", "application/json", 422, "invalid_fields"),
        (b'{"tokens": [], "email": "ana@example.com"}', "application/json", 422, "invalid_fields"),
        (b'{"tokens": [42]}', "application/json", 422, "invalid_fields"),
        (b'{"tokens": ["short"]}', "application/json", 422, "invalid_fields"),
        (b'{"tokens": ["' + b"a" * 101 + b'"]}', "application/json", 422, "invalid_fields"),
        (
            json.dumps({"tokens": ["' OR 1=1 -- aaaaaaaaaaaaaaaaaaaa"]}).encode(),
            "application/json",
            422,
            "invalid_fields",
        ),
        (
            json.dumps({"tokens": ["a" * 30 + "/../../etc/passwd"]}).encode(),
            "application/json",
            422,
            "invalid_fields",
        ),
        (json.dumps({"tokens": ["a" * 42 + "\n"]}).encode(), "application/json", 422, "invalid_fields"),
        (json.dumps({"tokens": too_many()}).encode(), "application/json", 422, "invalid_fields"),
        (
            b'{"tokens": [' + (b'"' + b"a" * 43 + b'",') * 200 + b'""]}',
            "application/json",
            413,
            "body_too_large",
        ),
    ],
    ids=[
        "truncated",
        "not-utf8",
        "text-plain",
        "array",
        "string",
        "no-tokens",
        "extra-field",
        "number",
        "short",
        "long",
        "sql",
        "path",
        "newline",
        "21-tokens",
        "oversized",
    ],
)
async def test_bad_bodies_are_refused(
    bugline: Bugline, content: bytes, ctype: str, status: int, code: str
) -> None:
    served(bugline)
    res = await bugline.client.post(
        URL, content=content, headers={**key_headers(bugline), "Content-Type": ctype}
    )
    assert res.status_code == status, res.text
    assert res.json()["error"]["code"] == code


async def test_an_empty_list_and_twenty_tokens_are_fine(bugline: Bugline) -> None:
    served(bugline)
    assert (await batch(bugline, [])).json() == {"reports": []}
    created = [await create(bugline) for _ in range(2)]
    tokens = [c["status_token"] for c in created] + [f"{n:02d}" + "b" * 41 for n in range(18)]
    res = await batch(bugline, tokens)
    assert res.status_code == 200
    assert [r["number"] for r in res.json()["reports"]] == [c["number"] for c in created]


async def test_a_wrong_token_is_only_left_out(bugline: Bugline) -> None:
    served(bugline)
    token = (await create(bugline))["status_token"]
    near = token[:-2] + ("xx" if not token.endswith("xx") else "yy")
    right, wrong = await batch(bugline, [token]), await batch(bugline, [near])
    assert right.status_code == wrong.status_code == 200
    assert wrong.json() == {"reports": []}
    assert set(wrong.headers) - {"content-length", "date"} <= set(right.headers)


async def test_the_per_ip_limit_applies(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bugline.db'}"
    upgrade(url)
    async for b in start_bugline(make_settings(url, tmp_path, rate_limit_per_ip=3)):
        served(b)
        answers = [(await batch(b, ["c" * 43])).status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]
        limited = await batch(b, ["c" * 43])
        assert limited.json()["error"]["code"] == "rate_limited" and int(limited.headers["retry-after"]) >= 1


async def test_responses_match_the_openapi_document(bugline: Bugline) -> None:
    from tests.integration.test_openapi import check

    served(bugline)
    doc = (await bugline.client.get("/openapi.json")).json()
    if URL not in doc["paths"]:
        pytest.fail(
            "/openapi.json does not describe POST /api/v1/status/batch: merge routes/statusbatchdoc.py"
        )
    created = await create(bugline)
    await bugline.app.state.bugline.writer.run(
        lambda conn: lifecycle.change(
            conn,
            [created["id"]],
            "cannot_reproduce",
            source=lifecycle.Source("agent", "lee@acme.example", "agent API"),
            now=utcnow(),
            public_note="We could not make it happen; can you tell us more?",
        )
    )
    for res in (
        await batch(bugline, [created["status_token"], "d" * 43]),
        await batch(bugline, ["short"]),
        await bugline.client.post(URL, json={"tokens": []}, headers={"Origin": ORIGIN}),
        await batch(bugline, [created["status_token"]], key="pk_" + "y" * 24),
    ):
        check(doc, URL, "post", res)
