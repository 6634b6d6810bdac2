"""Reading, writing, deleting and handing out download links for stored objects."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
from pathlib import Path

import httpx
import pytest

from bugline.storage.base import MediaStore, StoreError
from tests.storage.helpers import read_all, with_query

pytestmark = pytest.mark.anyio

MiB = 1024 * 1024


async def test_put_file_stores_a_large_file_with_little_memory(store: MediaStore, tmp_path: Path) -> None:
    source = tmp_path / "recording.webm"
    block = os.urandom(MiB)
    digest = hashlib.sha256()
    with source.open("wb") as handle:
        for i in range(30):
            chunk = bytes([i]) + block[1:]
            handle.write(chunk)
            digest.update(chunk)

    tracemalloc.start()
    try:
        info = await store.put_file("reports/r4/recording.webm", source, content_type="video/webm")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert info.size == 30 * MiB
    # Streamed from disk in 8 MiB parts, two in flight: seen at 2-4 MiB, far below 30 MiB.
    assert peak < 16 * MiB, f"put_file peaked at {peak / MiB:.1f} MiB"
    stat = await store.stat("reports/r4/recording.webm")
    assert stat is not None and stat.size == 30 * MiB
    streamed = hashlib.sha256()
    async for chunk in store.iter_bytes("reports/r4/recording.webm"):
        assert len(chunk) <= MiB
        streamed.update(chunk)
    assert streamed.digest() == digest.digest()


async def test_put_file_of_a_small_file(store: MediaStore, tmp_path: Path) -> None:
    source = tmp_path / "console.log"
    source.write_bytes(b"TypeError: x is undefined\n")

    info = await store.put_file("reports/r4/console.log", source, content_type="text/plain")

    assert info.size == source.stat().st_size
    assert await read_all(store, "reports/r4/console.log") == source.read_bytes()


async def test_missing_objects(store: MediaStore) -> None:
    assert await store.stat("reports/none/nothing.png") is None
    with pytest.raises(StoreError):
        await store.read_head("reports/none/nothing.png", 10)
    with pytest.raises(StoreError):
        await read_all(store, "reports/none/nothing.png")


async def test_read_head_of_short_and_empty_objects(store: MediaStore, tmp_path: Path) -> None:
    short, empty = tmp_path / "short", tmp_path / "empty"
    short.write_bytes(b"\x89PNG")
    empty.write_bytes(b"")
    await store.put_file("k/short", short, content_type="image/png")
    await store.put_file("k/empty", empty, content_type="image/png")

    assert await store.read_head("k/short", 100) == b"\x89PNG"
    assert await store.read_head("k/short", 0) == b""
    assert await store.read_head("k/empty", 100) == b""
    assert await read_all(store, "k/empty") == b""


async def test_delete_removes_the_object_and_is_idempotent(store: MediaStore, tmp_path: Path) -> None:
    source = tmp_path / "shot.png"
    source.write_bytes(b"png bytes")
    await store.put_file("reports/r5/shot.png", source, content_type="image/png")

    await store.delete("reports/r5/shot.png")

    assert await store.stat("reports/r5/shot.png") is None
    await store.delete("reports/r5/shot.png")


# (stored as, download name, expected Content-Type, expected Content-Disposition)
DOWNLOADS = [
    ("image/png", "screenshot.png", "image/png", 'attachment; filename="screenshot.png"'),
    ("text/html", "page.html", "application/octet-stream", 'attachment; filename="page.html"'),
    ("image/svg+xml", "logo.svg", "application/octet-stream", 'attachment; filename="logo.svg"'),
    ("text/plain", "console.log", "text/plain", 'attachment; filename="console.log"'),
    (
        "application/pdf",
        "Überweisung März.pdf",
        "application/pdf",
        "attachment; filename=\"Uberweisung Marz.pdf\"; filename*=UTF-8''%C3%9Cberweisung%20M%C3%A4rz.pdf",
    ),
    (
        "image/png",
        '../../etc/"passwd"\r\nX-Evil: 1',
        "image/png",
        "attachment; filename=\"'passwd'X-Evil_ 1\"",
    ),
    ("video/webm", "", "video/webm", 'attachment; filename="download"'),
]


@pytest.mark.parametrize(("stored_type", "filename", "served_type", "disposition"), DOWNLOADS)
async def test_download_link_saves_the_file_never_renders_it(
    store: MediaStore,
    http: httpx.AsyncClient,
    tmp_path: Path,
    stored_type: str,
    filename: str,
    served_type: str,
    disposition: str,
) -> None:
    source = tmp_path / "object"
    source.write_bytes(b"<script>alert(1)</script>")
    await store.put_file("reports/r6/file", source, content_type=stored_type)

    url = await store.download_url(
        "reports/r6/file", filename=filename, content_type=stored_type, expires_in=300
    )
    response = await http.get(url)

    assert response.status_code == 200, response.text
    assert response.content == source.read_bytes()
    assert response.headers["content-disposition"] == disposition
    assert response.headers["content-type"].split(";")[0] == served_type


async def test_download_link_with_a_forged_key_is_refused(
    store: MediaStore, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    for key, content in (("reports/r7/mine", b"MY DATA"), ("reports/r7/theirs", b"THEIR SECRET DATA")):
        (tmp_path / "f").write_bytes(content)
        await store.put_file(key, tmp_path / "f", content_type="text/plain")
    url = await store.download_url(
        "reports/r7/mine", filename="mine.txt", content_type="text/plain", expires_in=300
    )
    forged = url.replace("r7/mine", "r7/theirs").replace("r7%2Fmine", "r7%2Ftheirs")
    assert forged != url

    response = await http.get(forged)

    assert response.status_code == 403
    assert b"THEIR SECRET DATA" not in response.content


async def test_download_link_with_a_changed_type_is_refused(
    store: MediaStore, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    (tmp_path / "f").write_bytes(b"<html>")
    await store.put_file("reports/r8/page", tmp_path / "f", content_type="text/html")
    url = await store.download_url(
        "reports/r8/page", filename="p.html", content_type="text/html", expires_in=300
    )
    param = "response-content-type" if store.name == "s3" else "ct"

    response = await http.get(with_query(url, **{param: "text/html"}))

    assert response.status_code == 403


async def test_download_link_of_a_deleted_object_is_not_found(
    store: MediaStore, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    (tmp_path / "f").write_bytes(b"bytes")
    await store.put_file("reports/r9/gone", tmp_path / "f", content_type="text/plain")
    url = await store.download_url(
        "reports/r9/gone", filename="gone.txt", content_type="text/plain", expires_in=300
    )
    await store.delete("reports/r9/gone")

    response = await http.get(url)

    assert response.status_code == 404


async def test_check_passes_for_a_working_store(store: MediaStore) -> None:
    await store.check()
