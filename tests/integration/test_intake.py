"""The intake flow as a customer's browser and a script use it, on SQLite and PostgreSQL with real S3."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import pytest
from sqlalchemy import select

from bugline.db.engine import make_sessionmaker
from bugline.db.models import Attachment, Report, Reporter, ReportEvent
from tests.conftest import ORIGIN, Bugline
from tests.support.media import png, upload, upload_parts, webm

pytestmark = pytest.mark.anyio

CHROME_WIN = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
HINTS = {
    "brands": [{"brand": "Chromium", "version": "124"}, {"brand": "Google Chrome", "version": "124"}],
    "fullVersionList": [
        {"brand": "Chromium", "version": "124.0.6367.91"},
        {"brand": "Google Chrome", "version": "124.0.6367.91"},
        {"brand": "Not-A.Brand", "version": "99.0.0.0"},
    ],
    "mobile": False,
    "platform": "Windows",
    "platformVersion": "15.0.0",
}


def report_body(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Invoice export fails",
        "trying_to_do": "Export March invoices as CSV",
        "expected": "A CSV download",
        "actual": "A spinner, then 'Export failed'",
        "error_text": "Error 500: export_timeout",
        "steps": ["Open Billing", "Pick March", "Click Export"],
        "frequency": "always",
        "people_affected": "some",
        "reporter": {"id": "u-42", "email": "Ana@Example.com", "name": "Ana", "account": "Acme", "plan": "pro"},
        "context": {
            "url": "https://app.example.com/billing?month=3",
            "user_agent": CHROME_WIN,
            "client_hints": HINTS,
            "viewport": {"width": 1280, "height": 800},
            "screen": {"width": 1920, "height": 1080, "pixel_ratio": 1.5},
            "locale": "en-GB",
            "timezone": "Europe/London",
            "console": [{"level": "error", "message": "TypeError: x is undefined", "stack": "at export.js:10"}],
            "network": [{"method": "POST", "url": "https://api.example.com/export", "status": 500, "duration_ms": 30012}],
        },
        "metadata": {"build": "2026.11.3", "beta": True},
    }
    body.update(extra)
    return body


def headers(b: Bugline, **extra: str) -> dict[str, str]:
    return {"X-Bugline-Key": b.key, "Origin": ORIGIN, **extra}


async def rows(b: Bugline, model: Any, **where: Any) -> list[Any]:
    async with make_sessionmaker(b.engine)() as session:
        query = select(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return list((await session.execute(query)).scalars())


async def test_report_is_stored_with_parsed_environment(bugline: Bugline) -> None:
    res = await bugline.client.post("/api/v1/reports", json=report_body(), headers=headers(bugline))
    assert res.status_code == 201, res.text
    body = res.json()
    assert body["status"] == "received"
    assert body["number"] >= 1
    # Client hints beat Chrome's frozen UA: Windows 11, the full browser version.
    assert body["environment"]["browser"] == {"name": "Chrome", "version": "124.0.6367.91"}
    assert body["environment"]["os"] == {"name": "Windows", "version": "11"}
    assert res.headers["access-control-allow-origin"] == ORIGIN

    (report,) = await rows(bugline, Report, id=body["id"])
    assert report.project_id == bugline.project.id
    assert report.actual == "A spinner, then 'Export failed'"
    assert report.steps == "1. Open Billing\n2. Pick March\n3. Click Export"
    assert report.os_version == "11"
    assert report.console[0]["message"] == "TypeError: x is undefined"
    assert report.network[0]["status"] == 500
    assert report.environment["viewport"] == {"width": 1280, "height": 800}
    assert report.metadata_ == {"build": "2026.11.3", "beta": True}
    (reporter,) = await rows(bugline, Reporter, id=report.reporter_id)
    assert (reporter.external_id, reporter.email, reporter.plan) == ("u-42", "ana@example.com", "pro")
    events = sorted(await rows(bugline, ReportEvent, report_id=report.id), key=lambda e: e.id)
    assert [e.kind for e in events] == ["created", "status_changed"]  # the triage loop adds its verdict next
    created, accepted = events
    assert (created.actor_type, created.actor, created.public) == ("reporter", report.reporter_id, True)
    assert created.data["status"] == "received" and created.data["attachments"] == 0
    assert created.data["request_id"] == res.headers["x-request-id"]
    assert (accepted.actor_type, accepted.actor, accepted.data) == ("system", None, {"to": "received"})
    assert created.project_id == accepted.project_id == bugline.project.id


async def test_report_numbers_count_up_per_project(bugline: Bugline) -> None:
    first = (await bugline.client.post("/api/v1/reports", json=report_body(), headers=headers(bugline))).json()
    second = (await bugline.client.post("/api/v1/reports", json=report_body(), headers=headers(bugline))).json()
    assert second["number"] == first["number"] + 1
    other = await bugline.new_project()
    res = await bugline.client.post(
        "/api/v1/reports", json=report_body(), headers={"X-Bugline-Key": other.public_key}
    )
    assert res.json()["number"] == 1


async def test_idempotent_retry_returns_the_same_report(bugline: Bugline) -> None:
    h = headers(bugline, **{"Idempotency-Key": "retry-1"})
    first = await bugline.client.post("/api/v1/reports", json=report_body(), headers=h)
    again = await bugline.client.post("/api/v1/reports", json=report_body(), headers=h)
    assert first.status_code == 201 and again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["status_token"] == first.json()["status_token"]
    assert len(await rows(bugline, Report, project_id=bugline.project.id)) == 1


async def test_concurrent_retries_create_one_report(bugline: Bugline) -> None:
    h = headers(bugline, **{"Idempotency-Key": "burst"})
    results = await asyncio.gather(
        *[bugline.client.post("/api/v1/reports", json=report_body(), headers=h) for _ in range(6)]
    )
    assert sorted(r.status_code for r in results) == [200] * 5 + [201]
    assert len({r.json()["id"] for r in results}) == 1
    assert len(await rows(bugline, Report, project_id=bugline.project.id)) == 1


async def test_idempotency_key_reused_for_another_report_is_refused(bugline: Bugline) -> None:
    h = headers(bugline, **{"Idempotency-Key": "k"})
    await bugline.client.post("/api/v1/reports", json=report_body(), headers=h)
    res = await bugline.client.post("/api/v1/reports", json=report_body(title="Other"), headers=h)
    assert res.status_code == 422
    assert res.json()["error"]["code"] == "idempotency_key_reused"


async def create_with(b: Bugline, attachments: list[dict[str, Any]]) -> dict[str, Any]:
    res = await b.client.post("/api/v1/reports", json=report_body(attachments=attachments), headers=headers(b))
    assert res.status_code == 201, res.text
    return dict(res.json())


async def finalize(b: Bugline, created: dict[str, Any], body: dict[str, Any] | None = None) -> Any:
    return await b.client.post(
        created["finalize_url"],
        json=body,
        headers=headers(b, **{"X-Bugline-Report-Token": created["status_token"]}),
    )


async def test_screenshot_goes_straight_to_s3_and_is_verified(bugline: Bugline) -> None:
    image = png(seed=1)
    created = await create_with(
        bugline, [{"name": "shot.png", "type": "image/png", "size": len(image), "kind": "screenshot",
                   "sha256": hashlib.sha256(image).hexdigest()}]
    )
    assert created["status"] == "awaiting_media"
    slot = created["attachments"][0]
    assert slot["upload"]["method"] == "POST"
    assert not slot["upload"]["url"].startswith("http://bugline.test")  # straight to S3, not through us
    assert (await upload(bugline.client, slot, image)).status_code in (200, 204)

    res = await finalize(bugline, created)
    assert res.status_code == 200, res.text
    assert res.json()["status"] == "received"
    (att,) = await rows(bugline, Attachment, report_id=created["id"])
    assert (att.state, att.content_type, att.size) == ("stored", "image/png", len(image))
    assert att.sha256 == hashlib.sha256(image).hexdigest()
    stored = b"".join([c async for c in bugline.app.state.store.iter_bytes(att.storage_key)])
    assert stored == image


async def test_finalize_before_upload_waits_then_succeeds(bugline: Bugline) -> None:
    image = png(seed=2)
    created = await create_with(bugline, [{"name": "a.png", "type": "image/png", "size": len(image)}])
    early = await finalize(bugline, created)
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "uploads_incomplete"
    assert early.json()["report"]["status"] == "awaiting_media"
    await upload(bugline.client, created["attachments"][0], image)
    assert (await finalize(bugline, created)).json()["status"] == "received"
    # A retried finalize is harmless.
    assert (await finalize(bugline, created)).status_code == 200


async def test_file_whose_bytes_lie_is_refused_and_report_stays_retryable(bugline: Bugline) -> None:
    html = b"<!doctype html><script>alert(document.cookie)</script>"
    created = await create_with(bugline, [{"name": "x.png", "type": "image/png", "size": len(html)}])
    await upload(bugline.client, created["attachments"][0], html)
    res = await finalize(bugline, created)
    assert res.status_code == 422
    assert res.json()["error"]["code"] == "attachments_rejected"
    (att,) = await rows(bugline, Attachment, report_id=created["id"])
    assert att.state == "rejected"
    assert await bugline.app.state.store.stat(att.storage_key) is None  # the bytes are gone
    (report,) = await rows(bugline, Report, id=created["id"])
    assert report.status == "awaiting_media"

    # The customer replaces it with a real image, and the report goes through.
    image = png(seed=3)
    more = await bugline.client.post(
        f"/api/v1/reports/{created['id']}/attachments",
        json={"attachments": [{"name": "y.png", "type": "image/png", "size": len(image)}]},
        headers=headers(bugline, **{"X-Bugline-Report-Token": created["status_token"]}),
    )
    assert more.status_code == 201, more.text
    await upload(bugline.client, more.json()["attachments"][0], image)
    assert (await finalize(bugline, created)).status_code == 422  # still carries the refused one
    done = await finalize(bugline, created, {"skip_rejected": True})
    assert done.status_code == 200 and done.json()["status"] == "received"


async def test_s3_itself_refuses_a_body_over_the_announced_size(bugline: Bugline) -> None:
    image = png(seed=4)
    created = await create_with(bugline, [{"name": "a.png", "type": "image/png", "size": len(image)}])
    res = await upload(bugline.client, created["attachments"][0], image + b"\x00" * 1024)
    assert res.status_code == 400
    assert "EntityTooLarge" in res.text


async def test_recording_uploads_in_parts(bugline: Bugline) -> None:
    data = webm(11 * 1024 * 1024 + 123)
    created = await create_with(bugline, [{"name": "rec.webm", "type": "video/webm", "size": len(data),
                                           "kind": "recording"}])
    slot = created["attachments"][0]
    assert slot["upload"]["method"] == "MULTIPART"
    token = created["status_token"]
    parts = await upload_parts(bugline.client, slot, data, bugline.key, token)
    assert len(parts) == 3
    done = await bugline.client.post(
        slot["upload"]["complete_url"], json={"parts": parts},
        headers=headers(bugline, **{"X-Bugline-Report-Token": token}),
    )
    assert done.status_code == 200, done.text
    res = await finalize(bugline, created)
    assert res.status_code == 200, res.text
    (att,) = await rows(bugline, Attachment, report_id=created["id"])
    assert (att.state, att.content_type, att.size) == ("stored", "video/webm", len(data))


async def test_form_endpoint_takes_a_report_with_a_screenshot(bugline: Bugline) -> None:
    image = png(seed=5)
    res = await bugline.client.post(
        "/api/v1/reports/form",
        data={"actual": "Save does nothing", "email": "bo@example.com", "url": "https://app.example.com/x"},
        files={"screenshot": ("../../etc/passwd.png", image, "image/png")},
        headers={"X-Bugline-Key": bugline.key, "User-Agent": CHROME_WIN},
    )
    assert res.status_code == 201, res.text
    body = res.json()
    assert body["status"] == "received"
    assert body["environment"]["browser"]["name"] == "Chrome"
    (att,) = await rows(bugline, Attachment, report_id=body["id"])
    assert att.filename == "passwd.png"  # no path survives
    assert (att.kind, att.state, att.content_type) == ("screenshot", "stored", "image/png")
    stored = b"".join([c async for c in bugline.app.state.store.iter_bytes(att.storage_key)])
    assert stored == image


async def test_form_endpoint_refuses_html_disguised_as_png_and_keeps_nothing(bugline: Bugline) -> None:
    res = await bugline.client.post(
        "/api/v1/reports/form",
        data={"actual": "x"},
        files={"screenshot": ("a.png", b"<html><script>alert(1)</script></html>", "image/png")},
        headers={"X-Bugline-Key": bugline.key},
    )
    assert res.status_code == 415
    assert "a.png" in res.json()["error"]["message"]
    assert await rows(bugline, Report, project_id=bugline.project.id) == []


async def test_status_link_shows_this_report_only(bugline: Bugline) -> None:
    created = (await bugline.client.post("/api/v1/reports", json=report_body(), headers=headers(bugline))).json()
    res = await bugline.client.get(f"/api/v1/status/{created['status_token']}")
    assert res.status_code == 200
    body = res.json()
    assert body["status"] == "received"
    assert body["reference"] == f"#{created['number']}"
    assert [e["kind"] for e in body["timeline"]] == ["created", "status_changed"]
    assert "reporter" not in body and "client_ip" not in str(body)
    assert res.headers["cache-control"] == "private, no-store"
    wrong = await bugline.client.get(f"/api/v1/status/{created['status_token'][:-2]}xx")
    assert wrong.status_code == 404


async def test_another_projects_key_cannot_touch_a_report(bugline: Bugline) -> None:
    image = png(seed=6)
    created = await create_with(bugline, [{"name": "a.png", "type": "image/png", "size": len(image)}])
    other = await bugline.new_project()
    token = created["status_token"]
    for path, body in (
        ("finalize", None),
        ("attachments", {"attachments": [{"name": "b.png", "type": "image/png", "size": 10}]}),
    ):
        res = await bugline.client.post(
            f"/api/v1/reports/{created['id']}/{path}", json=body,
            headers={"X-Bugline-Key": other.public_key, "Origin": ORIGIN, "X-Bugline-Report-Token": token},
        )
        assert res.status_code == 404, res.text
    (report,) = await rows(bugline, Report, id=created["id"])
    assert report.status == "awaiting_media"


async def test_readiness_checks_database_and_storage(bugline: Bugline) -> None:
    res = await bugline.client.get("/readyz")
    assert res.status_code == 200
    assert res.json()["checks"] == {"database": "ok", "storage": "ok"}
    assert (await bugline.client.get("/healthz")).json() == {"status": "ok"}


async def test_upload_url_cannot_replace_bytes_after_verification(bugline: Bugline) -> None:
    image = png(seed=7)
    created = await create_with(bugline, [{"name": "a.png", "type": "image/png", "size": len(image)}])
    slot = created["attachments"][0]
    await upload(bugline.client, slot, image)
    assert (await finalize(bugline, created)).status_code == 200
    # The upload URL is still within its lifetime; using it again must not touch what was verified.
    evil = b"MZ" + b"\x00" * (len(image) - 2)
    await upload(bugline.client, slot, evil)
    (att,) = await rows(bugline, Attachment, report_id=created["id"])
    stored = b"".join([c async for c in bugline.app.state.store.iter_bytes(att.storage_key)])
    assert stored == image


async def test_complete_is_safe_to_retry_after_the_store_assembled_the_parts(bugline: Bugline) -> None:
    data = webm(5 * 1024 * 1024 + 10)
    created = await create_with(bugline, [{"name": "r.webm", "type": "video/webm", "size": len(data),
                                           "kind": "recording"}])
    slot, token = created["attachments"][0], created["status_token"]
    parts = await upload_parts(bugline.client, slot, data, bugline.key, token)
    # The store assembles the object, then the server dies before recording it.
    (att,) = await rows(bugline, Attachment, report_id=created["id"])
    from bugline.intake.uploads import upload_key
    await bugline.app.state.store.complete_multipart(upload_key(att), att.upload_id,
                                                     [(p["part_number"], p["etag"]) for p in parts])
    retry = await bugline.client.post(slot["upload"]["complete_url"], json={"parts": parts},
                                      headers=headers(bugline, **{"X-Bugline-Report-Token": token}))
    assert retry.status_code == 200, retry.text
    assert retry.json()["state"] == "uploaded"
    assert (await finalize(bugline, created)).json()["status"] == "received"


async def test_only_one_finalize_verifies_at_a_time(bugline: Bugline) -> None:
    from bugline.intake.finalize import claim

    created = await create_with(bugline, [{"name": "a.png", "type": "image/png", "size": 10}])
    (report,) = await rows(bugline, Report, id=created["id"])
    sessions = make_sessionmaker(bugline.engine)
    assert await claim(sessions, report) is True
    assert await claim(sessions, report) is False
    res = await finalize(bugline, created)
    assert res.status_code == 409 and res.json()["error"]["code"] == "finalize_in_progress"
    assert res.headers["retry-after"]


async def test_hostile_user_agent_is_clipped_not_a_server_error(bugline: Bugline) -> None:
    ua = "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-" + "X" * 400 + ") AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36"
    res = await bugline.client.post("/api/v1/reports", json={"actual": "x"}, headers={"X-Bugline-Key": bugline.key,
                                                                                      "User-Agent": ua})
    assert res.status_code == 201, res.text
    (report,) = await rows(bugline, Report, id=res.json()["id"])
    assert report.device_model is None or len(report.device_model) <= 100


async def test_finalize_accepts_an_empty_json_body(bugline: Bugline) -> None:
    created = (await bugline.client.post("/api/v1/reports", json=report_body(), headers=headers(bugline))).json()
    res = await bugline.client.post(created["finalize_url"], content=b"",
                                    headers=headers(bugline, **{"X-Bugline-Report-Token": created["status_token"],
                                                                "Content-Type": "application/json"}))
    assert res.status_code == 200


async def test_a_recording_can_start_before_the_words_and_the_words_come_later(bugline: Bugline) -> None:
    """The widget opens the report when recording starts, so parts upload while the customer types."""
    data = webm(5 * 1024 * 1024 + 99)
    res = await bugline.client.post("/api/v1/reports", headers=headers(bugline), json={
        "attachments": [{"name": "r.webm", "type": "video/webm", "size": 50 * 1024 * 1024, "kind": "recording"}]})
    assert res.status_code == 201, res.text
    created = res.json()
    token = created["status_token"]
    h = headers(bugline, **{"X-Bugline-Report-Token": token})
    slot = created["attachments"][0]
    parts = await upload_parts(bugline.client, slot, data, bugline.key, token)
    assert (await bugline.client.post(slot["upload"]["complete_url"], json={"parts": parts}, headers=h)).status_code == 200
    # Still no words: finalize refuses and keeps everything.
    early = await finalize(bugline, created)
    assert early.status_code == 422 and early.json()["error"]["code"] == "empty_report"
    edit = await bugline.client.patch(f"/api/v1/reports/{created['id']}", headers=h,
                                      json={"actual": "The chart goes blank", "steps": ["Open", "Zoom"]})
    assert edit.status_code == 200, edit.text
    done = await finalize(bugline, created)
    assert done.status_code == 200 and done.json()["status"] == "received"
    (report,) = await rows(bugline, Report, id=created["id"])
    assert (report.actual, report.steps) == ("The chart goes blank", "1. Open\n2. Zoom")
    (att,) = await rows(bugline, Attachment, report_id=created["id"])
    assert (att.state, att.size) == ("stored", len(data))
    # Once accepted, the words can no longer be changed through the report token.
    late = await bugline.client.patch(f"/api/v1/reports/{created['id']}", headers=h, json={"actual": "x"})
    assert late.status_code == 409
    kinds = [e.kind for e in await rows(bugline, ReportEvent, report_id=created["id"])]
    assert "edited" in kinds


async def test_patch_refuses_unknown_fields_and_other_projects(bugline: Bugline) -> None:
    created = await create_with(bugline, [{"name": "a.png", "type": "image/png", "size": 10}])
    h = headers(bugline, **{"X-Bugline-Report-Token": created["status_token"]})
    res = await bugline.client.patch(f"/api/v1/reports/{created['id']}", headers=h, json={"status": "resolved"})
    assert res.status_code == 422 and res.json()["error"]["fields"][0]["field"] == "status"
    other = await bugline.new_project()
    res = await bugline.client.patch(f"/api/v1/reports/{created['id']}", json={"actual": "x"},
                                     headers={"X-Bugline-Key": other.public_key,
                                              "X-Bugline-Report-Token": created["status_token"]})
    assert res.status_code == 404
