"""Single-request uploads with a signed ticket, against S3 (SeaweedFS) and the local store."""

from __future__ import annotations

import os
from collections.abc import Callable

import anyio
import httpx
import pytest

from bugline.storage.base import MediaStore, UploadTicket
from tests.storage.helpers import raise_cap, read_all, retarget, send_upload, tamper_signature

pytestmark = pytest.mark.anyio

CAP = 1000


async def test_upload_within_the_cap_is_stored_and_readable(
    store: MediaStore, http: httpx.AsyncClient
) -> None:
    body = os.urandom(CAP)
    ticket = await store.presign_upload(
        "reports/r1/shot.png", content_type="image/png", max_size=CAP, expires_in=300
    )

    response = await send_upload(http, ticket, body)

    assert response.status_code in (200, 204), response.text
    info = await store.stat("reports/r1/shot.png")
    assert info is not None and info.size == CAP
    assert await store.read_head("reports/r1/shot.png", 16) == body[:16]
    assert await store.read_head("reports/r1/shot.png", 10 * CAP) == body
    chunks = [c async for c in store.iter_bytes("reports/r1/shot.png", chunk_size=300)]
    assert b"".join(chunks) == body
    assert max(len(c) for c in chunks) <= 300


async def test_a_second_upload_replaces_the_first(store: MediaStore, http: httpx.AsyncClient) -> None:
    for body in (b"first version", b"second"):
        ticket = await store.presign_upload(
            "k/replaced", content_type="text/plain", max_size=CAP, expires_in=300
        )
        assert (await send_upload(http, ticket, body)).status_code in (200, 204)
    assert await read_all(store, "k/replaced") == b"second"


Mutation = Callable[[UploadTicket], UploadTicket]
KEY = "reports/r2/log.txt"
OTHER_KEY = "reports/r2/other.txt"

# (case, ticket change, body size, content type sent, expected status per store)
REFUSALS: list[tuple[str, Mutation, int, str | None, dict[str, int]]] = [
    ("one byte over the cap", lambda t: t, CAP + 1, None, {"s3": 400, "local": 413}),
    ("far over the cap", lambda t: t, 50 * CAP, None, {"s3": 400, "local": 413}),
    ("empty body", lambda t: t, 0, None, {"s3": 400, "local": 400}),
    ("another content type", lambda t: t, 10, "text/html", {"s3": 403, "local": 415}),
    ("tampered signature", tamper_signature, 10, None, {"s3": 403, "local": 403}),
    ("cap raised by the client", lambda t: raise_cap(t, 100 * CAP), 2 * CAP, None, {"s3": 403, "local": 403}),
    ("used for another key", lambda t: retarget(t, OTHER_KEY), 10, None, {"s3": 403, "local": 403}),
]


@pytest.mark.parametrize(
    ("mutate", "size", "content_type", "expected"),
    [pytest.param(m, s, c, e, id=case) for case, m, s, c, e in REFUSALS],
)
async def test_refused_upload_keeps_nothing(
    store: MediaStore,
    http: httpx.AsyncClient,
    mutate: Mutation,
    size: int,
    content_type: str | None,
    expected: dict[str, int],
) -> None:
    ticket = await store.presign_upload(KEY, content_type="text/plain", max_size=CAP, expires_in=300)

    response = await send_upload(http, mutate(ticket), b"x" * size, content_type=content_type)

    assert response.status_code == expected[store.name], response.text
    assert await store.stat(KEY) is None
    assert await store.stat(OTHER_KEY) is None


async def test_expired_ticket_is_refused(store: MediaStore, http: httpx.AsyncClient) -> None:
    ticket = await store.presign_upload(KEY, content_type="text/plain", max_size=CAP, expires_in=1)
    await anyio.sleep(2.2)  # signatures carry whole seconds

    response = await send_upload(http, ticket, b"late")

    assert response.status_code == 403, response.text
    assert await store.stat(KEY) is None


async def test_refused_upload_keeps_the_previous_object(store: MediaStore, http: httpx.AsyncClient) -> None:
    ticket = await store.presign_upload(KEY, content_type="text/plain", max_size=CAP, expires_in=300)
    assert (await send_upload(http, ticket, b"good")).status_code in (200, 204)

    refused = await send_upload(http, ticket, b"x" * (CAP + 1))

    assert refused.status_code in (400, 413)
    assert await read_all(store, KEY) == b"good"
