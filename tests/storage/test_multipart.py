"""Multipart uploads with per-part signed URLs (how recordings over one request's size go up)."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import httpx
import pytest

from bugline.storage.base import MIN_PART_SIZE, MediaStore, StoreError
from bugline.storage.local import LocalStore
from tests.storage.helpers import quoted_md5, read_all

pytestmark = pytest.mark.anyio

KEY = "reports/r3/recording.webm"


async def upload_parts(
    store: MediaStore, http: httpx.AsyncClient, upload_id: str, parts: list[bytes]
) -> list[tuple[int, str]]:
    """PUT each part to its own signed URL, as the widget does, and keep the ETags S3 returned."""
    done = []
    for number, data in enumerate(parts, start=1):
        ticket = await store.presign_part(KEY, upload_id, number, part_size=len(data), expires_in=300)
        response = await http.put(ticket.url, content=data, headers=ticket.headers)
        assert response.status_code == 200, response.text
        done.append((number, response.headers["ETag"]))
    return done


@pytest.mark.parametrize(
    "sizes",
    [
        pytest.param([MIN_PART_SIZE, MIN_PART_SIZE + 7, 1234], id="three parts, short last"),
        pytest.param([MIN_PART_SIZE, MIN_PART_SIZE], id="two full parts"),
    ],
)
async def test_multipart_upload_assembles_the_parts_in_order(
    store: MediaStore, http: httpx.AsyncClient, sizes: list[int]
) -> None:
    parts = [os.urandom(size) for size in sizes]
    upload_id = await store.start_multipart(KEY, content_type="video/webm")

    done = await upload_parts(store, http, upload_id, parts)
    # The browser reads each part's ETag from the PUT answer; it is the part's MD5, as in S3.
    assert [etag for _, etag in done] == [quoted_md5(p) for p in parts]
    info = await store.complete_multipart(KEY, upload_id, list(reversed(done)))

    whole = b"".join(parts)
    assert info.size == len(whole)
    assert info.etag is not None and info.etag.strip('"').endswith(f"-{len(parts)}")
    stat = await store.stat(KEY)
    assert stat is not None and stat.size == len(whole)
    assert hashlib.sha256(await read_all(store, KEY)).digest() == hashlib.sha256(whole).digest()


# A part URL is for exactly the signed length: S3 signs Content-Length into it (403
# SignatureDoesNotMatch); the local store answers 413 for more and 400 for less.
@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        pytest.param(1, {"s3": 403, "local": 413}, id="one byte more"),
        pytest.param(MIN_PART_SIZE, {"s3": 403, "local": 413}, id="twice as much"),
        pytest.param(-1, {"s3": 403, "local": 400}, id="one byte less"),
    ],
)
async def test_part_of_another_size_than_signed_is_refused(
    store: MediaStore, http: httpx.AsyncClient, delta: int, expected: dict[str, int]
) -> None:
    upload_id = await store.start_multipart(KEY, content_type="video/webm")
    ticket = await store.presign_part(KEY, upload_id, 1, part_size=MIN_PART_SIZE, expires_in=300)

    response = await http.put(ticket.url, content=b"z" * (MIN_PART_SIZE + delta), headers=ticket.headers)

    assert response.status_code == expected[store.name], response.text
    # Nothing was taken in: completing with that part fails.
    with pytest.raises(StoreError):
        await store.complete_multipart(KEY, upload_id, [(1, quoted_md5(b"z" * (MIN_PART_SIZE + delta)))])
    assert await store.stat(KEY) is None


async def test_part_url_cannot_write_another_part(store: MediaStore, http: httpx.AsyncClient) -> None:
    upload_id = await store.start_multipart(KEY, content_type="video/webm")
    ticket = await store.presign_part(KEY, upload_id, 1, part_size=10, expires_in=300)
    forged = ticket.url.replace("partNumber=1", "partNumber=2").replace("part=1", "part=2")
    assert forged != ticket.url

    response = await http.put(forged, content=b"0123456789")

    assert response.status_code == 403, response.text


async def test_complete_with_a_wrong_etag_fails_and_stores_nothing(
    store: MediaStore, http: httpx.AsyncClient
) -> None:
    parts = [os.urandom(MIN_PART_SIZE), b"tail"]
    upload_id = await store.start_multipart(KEY, content_type="video/webm")
    done = await upload_parts(store, http, upload_id, parts)

    with pytest.raises(StoreError):
        await store.complete_multipart(KEY, upload_id, [done[0], (2, quoted_md5(b"something else"))])
    assert await store.stat(KEY) is None


async def test_small_parts_before_the_last_are_refused_like_s3(
    store: MediaStore, http: httpx.AsyncClient
) -> None:
    upload_id = await store.start_multipart(KEY, content_type="video/webm")
    done = await upload_parts(store, http, upload_id, [b"a" * 1024, b"b" * 1024])

    with pytest.raises(StoreError):
        await store.complete_multipart(KEY, upload_id, done)
    assert await store.stat(KEY) is None


async def test_abort_removes_the_parts(
    store: MediaStore, http: httpx.AsyncClient, request: pytest.FixtureRequest
) -> None:
    upload_id = await store.start_multipart(KEY, content_type="video/webm")
    done = await upload_parts(store, http, upload_id, [os.urandom(MIN_PART_SIZE)])

    await store.abort_multipart(KEY, upload_id)

    with pytest.raises(StoreError):
        await store.complete_multipart(KEY, upload_id, done)
    assert await store.stat(KEY) is None
    if isinstance(store, LocalStore):
        assert not any(store.root.rglob("part-*"))
    else:
        s3_admin: Any = request.getfixturevalue("s3_admin")
        listed = s3_admin.list_multipart_uploads(Bucket=request.getfixturevalue("bucket"))
        assert [u for u in listed.get("Uploads", []) if u["UploadId"] == upload_id] == []
    await store.abort_multipart(KEY, upload_id)  # aborting again is harmless


async def test_part_upload_after_abort_is_refused(store: MediaStore, http: httpx.AsyncClient) -> None:
    upload_id = await store.start_multipart(KEY, content_type="video/webm")
    ticket = await store.presign_part(KEY, upload_id, 1, part_size=4, expires_in=300)
    await store.abort_multipart(KEY, upload_id)

    response = await http.put(ticket.url, content=b"late")

    assert response.status_code == 404, response.text
