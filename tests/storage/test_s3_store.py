"""What only S3Store does: reachability checks, bucket setup with CORS, public endpoints."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from bugline.storage.base import StoreError
from bugline.storage.s3 import S3Store
from tests.support.ports import free_port
from tests.support.seaweed import SeaweedServer

pytestmark = [pytest.mark.anyio, pytest.mark.s3]


def make_store(seaweed: SeaweedServer, bucket: str, **overrides: Any) -> S3Store:
    options: dict[str, Any] = {
        "endpoint_url": seaweed.endpoint_url,
        "public_endpoint_url": None,
        "region": "us-east-1",
        "access_key": seaweed.access_key,
        "secret_key": seaweed.secret_key,
        **overrides,
    }
    return S3Store(bucket, **options)


async def test_check_fails_when_nothing_listens(seaweed: SeaweedServer) -> None:
    store = make_store(seaweed, "bugline-media", endpoint_url=f"http://127.0.0.1:{free_port()}")

    with pytest.raises(StoreError, match="check"):
        await store.check()


@pytest.mark.parametrize(
    ("bucket_name", "credentials"),
    [
        pytest.param("bugline-missing-bucket", None, id="missing bucket"),
        pytest.param(None, ("AKWRONG", "wrong-secret"), id="wrong credentials"),
    ],
)
async def test_check_fails_for_a_store_that_cannot_be_used(
    seaweed: SeaweedServer, bucket: str, bucket_name: str | None, credentials: tuple[str, str] | None
) -> None:
    overrides = {"access_key": credentials[0], "secret_key": credentials[1]} if credentials else {}
    store = make_store(seaweed, bucket_name or bucket, **overrides)

    with pytest.raises(StoreError):
        await store.check()


async def test_ensure_bucket_creates_it_and_lets_the_app_origin_upload(
    seaweed: SeaweedServer, s3_admin: Any
) -> None:
    name = f"bugline-{uuid.uuid4().hex[:16]}"
    store = make_store(seaweed, name)
    try:
        await store.ensure_bucket(["https://app.example.com"])
        await store.ensure_bucket(["https://app.example.com"])  # a restart finds it ready
        await store.check()

        async with httpx.AsyncClient() as http:
            preflight = await http.options(
                f"{seaweed.endpoint_url}/{name}/reports/x",
                headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT"},
            )
            stranger = await http.options(
                f"{seaweed.endpoint_url}/{name}/reports/x",
                headers={"Origin": "https://evil.example.net", "Access-Control-Request-Method": "PUT"},
            )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://app.example.com"
        # The browser must be able to read each part's ETag to complete a multipart upload.
        assert "etag" in preflight.headers["access-control-expose-headers"].lower()
        assert {"POST", "PUT"} <= {
            m.strip() for m in preflight.headers["access-control-allow-methods"].split(",")
        }
        assert stranger.status_code == 403
    finally:
        s3_admin.delete_bucket(Bucket=name)


async def test_presigned_urls_use_the_public_endpoint(seaweed: SeaweedServer, bucket: str) -> None:
    store = make_store(seaweed, bucket, public_endpoint_url="https://media.example.com")

    ticket = await store.presign_upload("k", content_type="image/png", max_size=10, expires_in=60)
    upload_id = await store.start_multipart("k", content_type="video/webm")
    part = await store.presign_part("k", upload_id, 1, part_size=10, expires_in=60)
    download = await store.download_url("k", filename="a.png", content_type="image/png", expires_in=60)

    assert ticket.url.startswith("https://media.example.com/")
    assert part.url.startswith("https://media.example.com/")
    assert download.startswith("https://media.example.com/")
    await store.abort_multipart("k", upload_id)
