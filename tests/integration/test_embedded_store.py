"""The embedded default (`make run`): SQLite and a local media folder, same flow as S3."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from bugline.db.engine import make_sessionmaker
from bugline.db.models import Attachment
from tests.conftest import ORIGIN, Bugline
from tests.integration.test_openapi import route_table
from tests.support.media import png, upload, upload_parts, webm

pytestmark = pytest.mark.anyio


async def test_upload_through_signed_local_urls_then_download_as_attachment(bugline_local: Bugline) -> None:
    b = bugline_local
    image = png(seed=9)
    h = {"X-Bugline-Key": b.key, "Origin": ORIGIN}
    created = (await b.client.post("/api/v1/reports", headers=h, json={
        "actual": "Broken", "attachments": [{"name": "<b>x</b>.png", "type": "image/png", "size": len(image)}],
    })).json()
    slot = created["attachments"][0]
    assert slot["upload"]["method"] == "PUT"
    assert slot["upload"]["url"].startswith("http://bugline.test/media/upload?")
    res = await upload(b.client, slot, image)
    assert res.status_code == 200 and res.headers["etag"]
    # A second write with the same URL cannot enlarge the file past what was signed.
    bigger = await b.client.put(slot["upload"]["url"], content=image + b"x" * 100, headers=slot["upload"]["headers"])
    assert bigger.status_code == 413

    fin = await b.client.post(created["finalize_url"], headers=h | {"X-Bugline-Report-Token": created["status_token"]})
    assert fin.status_code == 200 and fin.json()["status"] == "received"
    async with make_sessionmaker(b.engine)() as session:
        att = (await session.execute(select(Attachment).where(Attachment.report_id == created["id"]))).scalar_one()
    assert att.sha256 == hashlib.sha256(image).hexdigest()
    assert (b.settings.media_dir / att.storage_key).read_bytes() == image

    url = await b.app.state.store.download_url(att.storage_key, filename=att.filename, content_type="text/html",
                                               expires_in=60)
    got = await b.client.get(url)
    assert got.content == image
    assert got.headers["content-disposition"].startswith("attachment")
    assert got.headers["content-type"] == "application/octet-stream"  # never text/html from our origin
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in got.headers["content-security-policy"]
    tampered = url.replace("sig=", "sig=0")
    assert (await b.client.get(tampered)).status_code == 403


async def test_recording_in_parts_on_the_local_store(bugline_local: Bugline) -> None:
    b = bugline_local
    data = webm(6 * 1024 * 1024 + 17)
    h = {"X-Bugline-Key": b.key}
    created = (await b.client.post("/api/v1/reports", headers=h, json={
        "actual": "Broken", "attachments": [{"name": "r.webm", "type": "video/webm", "size": len(data),
                                             "kind": "recording"}]})).json()
    slot = created["attachments"][0]
    token = created["status_token"]
    parts = await upload_parts(b.client, slot, data, b.key, token)
    done = await b.client.post(slot["upload"]["complete_url"], json={"parts": parts},
                               headers=h | {"X-Bugline-Report-Token": token})
    assert done.status_code == 200, done.text
    fin = await b.client.post(created["finalize_url"], headers=h | {"X-Bugline-Report-Token": token})
    assert fin.status_code == 200, fin.text


async def test_every_route_is_documented_with_the_embedded_store(bugline_local: Bugline) -> None:
    doc = (await bugline_local.client.get("/openapi.json")).json()
    documented = {(p, m) for p, ops in doc["paths"].items() for m in ops}
    assert route_table(bugline_local.app) == documented
