"""Hostile, malformed, oversized and unauthorised input on every public endpoint.

Each refusal must carry the right status and a JSON error that names the problem,
and must leave nothing half-written behind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from bugline.db.engine import make_sessionmaker
from bugline.db.models import Report
from tests.conftest import ORIGIN, Bugline, make_settings, start_bugline
from tests.support.media import png

pytestmark = pytest.mark.anyio

GOOD = {"actual": "The page is blank"}
JSON = {"Content-Type": "application/json"}


def key(b: Bugline) -> dict[str, str]:
    return {"X-Bugline-Key": b.key}


# (name, request kwargs given the app, expected status, expected error code)
CREATE_CASES: list[tuple[str, Callable[[Bugline], dict[str, Any]], int, str]] = [
    ("malformed json", lambda b: {"content": b'{"actual": ', "headers": key(b) | JSON}, 400, "malformed_json"),
    ("not utf-8", lambda b: {"content": b'{"actual": "\xff"}', "headers": key(b) | JSON}, 400, "malformed_json"),
    ("json array", lambda b: {"json": [GOOD], "headers": key(b)}, 422, "invalid_body"),
    ("wrong type", lambda b: {"json": {"actual": 5}, "headers": key(b)}, 422, "invalid_fields"),
    ("nested wrong type", lambda b: {"json": GOOD | {"context": {"viewport": {"width": "wide", "height": 1}}},
                                     "headers": key(b)}, 422, "invalid_fields"),
    ("unknown key", lambda b: {"json": GOOD | {"severity": "critical"}, "headers": key(b)}, 422, "invalid_fields"),
    ("empty report", lambda b: {"json": {"frequency": "always"}, "headers": key(b)}, 422, "empty_report"),
    ("bad enum", lambda b: {"json": GOOD | {"frequency": "daily"}, "headers": key(b)}, 422, "invalid_fields"),
    ("bad email", lambda b: {"json": GOOD | {"reporter": {"email": "not-an-email"}}, "headers": key(b)},
     422, "invalid_fields"),
    ("text/plain body", lambda b: {"content": b'{"actual":"x"}', "headers": key(b) | {"Content-Type": "text/plain"}},
     415, "unsupported_media_type"),
    ("no content type", lambda b: {"content": b'{"actual":"x"}', "headers": key(b)}, 415, "unsupported_media_type"),
    ("oversized body", lambda b: {"json": {"actual": "x" * 300_000}, "headers": key(b)}, 413, "body_too_large"),
    ("too many console entries", lambda b: {
        "json": GOOD | {"context": {"console": [{"level": "log", "message": "m"}] * 201}}, "headers": key(b)},
     422, "invalid_fields"),
    ("no key", lambda b: {"json": GOOD}, 401, "missing_key"),
    ("wrong key", lambda b: {"json": GOOD, "headers": {"X-Bugline-Key": "pk_nope"}}, 403, "invalid_key"),
    ("hostile key", lambda b: {"json": GOOD, "headers": {"X-Bugline-Key": "' OR 1=1 --" * 10}}, 403, "invalid_key"),
    ("foreign origin", lambda b: {"json": GOOD, "headers": key(b) | {"Origin": "https://evil.example"}},
     403, "origin_not_allowed"),
    ("null origin", lambda b: {"json": GOOD, "headers": key(b) | {"Origin": "null"}}, 403, "origin_not_allowed"),
    ("svg attachment", lambda b: {"json": GOOD | {"attachments": [
        {"name": "a.svg", "type": "image/svg+xml", "size": 100}]}, "headers": key(b)}, 415, "unsupported_media_type"),
    ("html attachment", lambda b: {"json": GOOD | {"attachments": [
        {"name": "a.html", "type": "text/html", "size": 100}]}, "headers": key(b)}, 415, "unsupported_media_type"),
    ("attachment too large", lambda b: {"json": GOOD | {"attachments": [
        {"name": "a.png", "type": "image/png", "size": 10**12}]}, "headers": key(b)}, 413, "attachment_too_large"),
    ("too many attachments", lambda b: {"json": GOOD | {"attachments": [
        {"name": f"{i}.png", "type": "image/png", "size": 10} for i in range(11)]}, "headers": key(b)},
     422, "too_many_attachments"),
    ("deeply nested json", lambda b: {"content": b"[" * 100_000, "headers": key(b) | JSON}, 400, "malformed_json"),
    ("nested client hints", lambda b: {"json": GOOD | {"context": {"client_hints": {"brands": [{"brand": {"x": [1] * 5}}]}}},
                                       "headers": key(b)}, 422, "invalid_fields"),
    ("bad idempotency key", lambda b: {"json": GOOD, "headers": key(b) | {"Idempotency-Key": "x" * 300}},
     400, "invalid_idempotency_key"),
]


@pytest.mark.parametrize(("name", "make", "status", "code"), CREATE_CASES, ids=[c[0] for c in CREATE_CASES])
async def test_create_refuses(
    bugline: Bugline, name: str, make: Callable[[Bugline], dict[str, Any]], status: int, code: str
) -> None:
    res = await bugline.client.post("/api/v1/reports", **make(bugline))
    assert res.status_code == status, res.text
    error = res.json()["error"]
    assert error["code"] == code
    assert len(error["message"]) > 10
    async with make_sessionmaker(bugline.engine)() as session:
        assert (await session.execute(select(Report).where(Report.project_id == bugline.project.id))).first() is None


async def test_field_errors_name_the_field(bugline: Bugline) -> None:
    res = await bugline.client.post(
        "/api/v1/reports", json=GOOD | {"context": {"viewport": {"width": -1, "height": 1}}, "colour": 1},
        headers=key(bugline),
    )
    fields = {f["field"] for f in res.json()["error"]["fields"]}
    assert {"context.viewport.width", "colour"} <= fields


async def test_foreign_origin_gets_no_cors_headers(bugline: Bugline) -> None:
    res = await bugline.client.post(
        "/api/v1/reports", json=GOOD, headers=key(bugline) | {"Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in res.headers


async def test_preflight_answers_allowed_origin_and_refuses_others(bugline: Bugline) -> None:
    ask = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,idempotency-key"}
    ok = await bugline.client.options(f"/api/v1/reports?key={bugline.key}", headers=ask | {"Origin": ORIGIN})
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == ORIGIN
    assert "idempotency-key" in ok.headers["access-control-allow-headers"].lower()
    bad = await bugline.client.options(
        f"/api/v1/reports?key={bugline.key}", headers=ask | {"Origin": "https://evil.example"}
    )
    assert bad.status_code == 403
    assert "access-control-allow-origin" not in bad.headers
    # Without a (valid) key there is nothing to protect: the preflight passes so the browser
    # shows the real request's readable error instead of an opaque CORS failure.
    nokey = await bugline.client.options("/api/v1/reports", headers=ask | {"Origin": ORIGIN})
    assert nokey.status_code == 204
    wrong = await bugline.client.post("/api/v1/reports", json=GOOD,
                                      headers={"X-Bugline-Key": "pk_typo", "Origin": ORIGIN})
    assert wrong.status_code == 403
    assert wrong.headers["access-control-allow-origin"] == ORIGIN
    assert "no project has this key" in wrong.json()["error"]["message"]


async def test_wildcard_subdomain_origin(bugline: Bugline) -> None:
    project = await bugline.new_project(["https://*.example.org"])
    h = {"X-Bugline-Key": project.public_key}
    ok = await bugline.client.post("/api/v1/reports", json=GOOD, headers=h | {"Origin": "https://eu.example.org"})
    assert ok.status_code == 201
    for origin in ("https://example.org", "https://evilexample.org", "http://eu.example.org"):
        res = await bugline.client.post("/api/v1/reports", json=GOOD, headers=h | {"Origin": origin})
        assert res.status_code == 403, origin


async def test_burst_over_the_per_key_limit_gets_429_with_retry_after(db_url: str, tmp_path: Any) -> None:
    settings = make_settings(db_url, tmp_path, rate_limit_per_key=5, rate_limit_per_ip=1000)
    async for b in start_bugline(settings):
        codes = [(await b.client.post("/api/v1/reports", json=GOOD, headers=key(b))).status_code for _ in range(8)]
        assert codes[:5] == [201] * 5
        assert codes[5:] == [429] * 3
        res = await b.client.post("/api/v1/reports", json=GOOD, headers=key(b))
        assert int(res.headers["retry-after"]) >= 1
        assert res.json()["error"]["code"] == "rate_limited"
        # Another project is not slowed down by this one's burst.
        other = await b.new_project()
        assert (await b.client.post("/api/v1/reports", json=GOOD,
                                    headers={"X-Bugline-Key": other.public_key})).status_code == 201


async def test_one_noisy_ip_does_not_use_up_the_projects_budget(db_url: str, tmp_path: Any) -> None:
    settings = make_settings(db_url, tmp_path, rate_limit_per_key=10, rate_limit_per_ip=3, trusted_proxies=1)
    async for b in start_bugline(settings):
        noisy = key(b) | {"X-Forwarded-For": "203.0.113.7"}
        codes = [(await b.client.post("/api/v1/reports", json=GOOD, headers=noisy)).status_code for _ in range(20)]
        assert codes.count(201) == 3
        calm = key(b) | {"X-Forwarded-For": "198.51.100.1"}
        assert (await b.client.post("/api/v1/reports", json=GOOD, headers=calm)).status_code == 201
        # An IPv6 client cannot dodge the limit by rotating addresses inside its /64.
        v6 = [(await b.client.post("/api/v1/reports", json=GOOD,
                                   headers=key(b) | {"X-Forwarded-For": f"2001:db8::{i}"})).status_code
              for i in range(1, 6)]
        assert v6 == [201, 201, 201, 429, 429]


async def test_burst_over_the_per_ip_limit(db_url: str, tmp_path: Any) -> None:
    settings = make_settings(db_url, tmp_path, rate_limit_per_key=1000, rate_limit_per_ip=3)
    async for b in start_bugline(settings):
        other = await b.new_project()
        codes = []
        for i in range(5):  # alternate projects: the IP is what is limited
            h = key(b) if i % 2 else {"X-Bugline-Key": other.public_key}
            codes.append((await b.client.post("/api/v1/reports", json=GOOD, headers=h)).status_code)
        assert codes == [201, 201, 201, 429, 429]


FORM_CASES: list[tuple[str, Callable[[Bugline], dict[str, Any]], int, str]] = [
    ("json to form endpoint", lambda b: {"json": GOOD, "headers": key(b)}, 415, "unsupported_media_type"),
    ("no key", lambda b: {"data": GOOD}, 401, "missing_key"),
    ("unknown field", lambda b: {"data": GOOD | {"sevrity": "x"}, "headers": key(b)}, 422, "invalid_fields"),
    ("empty report", lambda b: {"data": {"email": "a@b.co"}, "headers": key(b)}, 422, "empty_report"),
    ("bad report json", lambda b: {"data": {"report": "{nope"}, "headers": key(b)}, 400, "malformed_json"),
    ("svg file", lambda b: {"data": GOOD, "files": {"file": ("a.svg", b"<svg onload=alert(1)></svg>",
                                                              "image/svg+xml")}, "headers": key(b)},
     415, "unsupported_media_type"),
    ("exe renamed", lambda b: {"data": GOOD, "files": {"file": ("a.png", b"MZ\x90\x00" + b"\x00" * 100,
                                                                 "image/png")}, "headers": key(b)},
     415, "unsupported_media_type"),
    ("jpeg sent as png", lambda b: {"data": GOOD, "files": {"screenshot": (
        "a.png", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64, "image/png")}, "headers": key(b)},
     415, "content_mismatch"),
    ("foreign origin", lambda b: {"data": GOOD, "headers": key(b) | {"Origin": "https://evil.example"}},
     403, "origin_not_allowed"),
    ("truncated body", lambda b: {
        "content": b"--XX\r\nContent-Disposition: form-data; name=\"actual\"\r\n\r\nhello",
        "headers": key(b) | {"Content-Type": "multipart/form-data; boundary=XX"}}, 400, "malformed_multipart"),
]


@pytest.mark.parametrize(("name", "make", "status", "code"), FORM_CASES, ids=[c[0] for c in FORM_CASES])
async def test_form_refuses(
    bugline: Bugline, name: str, make: Callable[[Bugline], dict[str, Any]], status: int, code: str
) -> None:
    res = await bugline.client.post("/api/v1/reports/form", **make(bugline))
    assert res.status_code == status, res.text
    assert res.json()["error"]["code"] == code
    async with make_sessionmaker(bugline.engine)() as session:
        assert (await session.execute(select(Report).where(Report.project_id == bugline.project.id))).first() is None


async def test_form_file_over_the_cap_is_refused_while_streaming(db_url: str, tmp_path: Any) -> None:
    settings = make_settings(db_url, tmp_path, max_attachment_bytes=10_000)
    async for b in start_bugline(settings):
        big = png() + b"\x00" * 20_000
        res = await b.client.post("/api/v1/reports/form", data=GOOD, files={"file": ("a.png", big, "image/png")},
                                  headers=key(b))
        assert res.status_code == 413
        assert res.json()["error"]["code"] == "attachment_too_large"
        assert list((tmp_path / "tmp").iterdir()) == []  # the partial temp file is gone


async def open_report(b: Bugline) -> dict[str, Any]:
    image = png()
    res = await b.client.post(
        "/api/v1/reports", json=GOOD | {"attachments": [{"name": "a.png", "type": "image/png", "size": len(image)}]},
        headers=key(b),
    )
    return dict(res.json())


async def test_report_endpoints_need_the_report_token(bugline: Bugline) -> None:
    created = await open_report(bugline)
    rid = created["id"]
    aid = created["attachments"][0]["id"]
    for path in (f"{rid}/finalize", f"{rid}/attachments", f"{rid}/attachments/{aid}/parts",
                 f"{rid}/attachments/{aid}/complete"):  # PATCH {rid} is covered in test_intake
        missing = await bugline.client.post(f"/api/v1/reports/{path}", json={}, headers=key(bugline))
        assert missing.status_code == 401, path
        assert missing.json()["error"]["code"] == "missing_report_token"
        wrong = await bugline.client.post(
            f"/api/v1/reports/{path}", json={}, headers=key(bugline) | {"X-Bugline-Report-Token": "x" * 43}
        )
        assert wrong.status_code == 404, path


async def test_parts_and_complete_refuse_bad_input(bugline: Bugline) -> None:
    created = await open_report(bugline)
    h = key(bugline) | {"X-Bugline-Report-Token": created["status_token"]}
    aid = created["attachments"][0]["id"]
    base = f"/api/v1/reports/{created['id']}/attachments/{aid}"
    # A screenshot is a single upload: it has no parts.
    res = await bugline.client.post(f"{base}/parts", json={"parts": [{"part_number": 1}]}, headers=h)
    assert res.status_code == 409 and res.json()["error"]["code"] == "not_multipart"
    res = await bugline.client.post(f"{base}/parts", json={"parts": "1"}, headers=h)
    assert res.status_code == 422 and res.json()["error"]["fields"][0]["field"] == "parts"
    res = await bugline.client.post(f"{base}/complete", json={"parts": []}, headers=h)
    assert res.status_code == 422 and res.json()["error"]["fields"][0]["field"] == "parts"
    res = await bugline.client.post(f"{base}/complete", json={"parts": [{"part_number": 2, "etag": "a"},
                                                                        {"part_number": 1, "etag": "b"}]}, headers=h)
    assert res.status_code == 422 and res.json()["error"]["code"] == "invalid_parts"
    res = await bugline.client.post(f"/api/v1/reports/{created['id']}/attachments/nope/complete",
                                    json={"parts": [{"part_number": 1, "etag": "x"}]}, headers=h)
    assert res.status_code == 404 and res.json()["error"]["code"] == "attachment_not_found"


async def test_empty_file_on_the_form_endpoint(bugline: Bugline) -> None:
    res = await bugline.client.post("/api/v1/reports/form", data=GOOD, files={"file": ("a.png", b"", "image/png")},
                                    headers=key(bugline))
    assert res.status_code == 422 and res.json()["error"]["code"] == "empty_file"


async def test_unknown_paths_and_methods_answer_json(bugline: Bugline) -> None:
    res = await bugline.client.get("/api/v1/nothing")
    assert res.status_code == 404 and res.json()["error"]["code"] == "not_found"
    res = await bugline.client.get("/api/v1/reports")
    assert res.status_code == 405 and res.json()["error"]["code"] == "method_not_allowed"


async def test_status_with_hostile_tokens(bugline: Bugline) -> None:
    # Percent-encoded so each one reaches the handler as written, not normalised away by the client.
    for token in ("x", "..%5C..%5Cetc%5Cpasswd-padpadpadpadpad", "%00" * 30, "%27%20OR%20%271%27%3D%271%27%20--padpad"):
        res = await bugline.client.get(f"/api/v1/status/{token}")
        assert res.status_code == 404, token
        assert res.json()["error"]["code"] == "report_not_found"
