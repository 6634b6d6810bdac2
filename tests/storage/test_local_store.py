"""What only the embedded store does: key confinement, its HTTP routes, filenames."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from bugline.routes import media
from bugline.storage.local import InvalidKey, LocalStore, attachment_disposition, safe_download_type
from tests.storage.helpers import send_upload, with_query
from tests.support.ports import free_port

pytestmark = pytest.mark.anyio

TRAVERSAL_KEYS = [
    "../x",
    "a/../../x",
    "/etc/passwd",
    "a\\b",
    "..\\x",
    "a\x00b",
    "a\nb",
    "",
    ".",
    "a//b",
    ".multipart/x",
    "reports/.hidden",
]

Operation = Callable[[LocalStore, str, Path], Awaitable[object]]
OPERATIONS: dict[str, Operation] = {
    "presign_upload": lambda s, k, p: s.presign_upload(
        k, content_type="image/png", max_size=10, expires_in=60
    ),
    "start_multipart": lambda s, k, p: s.start_multipart(k, content_type="video/webm"),
    "put_file": lambda s, k, p: s.put_file(k, p, content_type="text/plain"),
    "stat": lambda s, k, p: s.stat(k),
    "read_head": lambda s, k, p: s.read_head(k, 10),
    "delete": lambda s, k, p: s.delete(k),
    "download_url": lambda s, k, p: s.download_url(k, filename="f", content_type="text/plain", expires_in=60),
}


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("key", TRAVERSAL_KEYS, ids=repr)
async def test_keys_never_escape_the_media_folder(
    local_store: LocalStore, tmp_path: Path, operation: str, key: str
) -> None:
    source = tmp_path / "payload"
    source.write_bytes(b"payload")

    with pytest.raises(InvalidKey):
        await OPERATIONS[operation](local_store, key, source)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["media", "payload"]


async def test_iter_bytes_refuses_traversal(local_store: LocalStore) -> None:
    with pytest.raises(InvalidKey):
        [chunk async for chunk in local_store.iter_bytes("../../etc/passwd")]


async def test_symlinked_folder_cannot_lead_outside(local_store: LocalStore, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (local_store.root / "link").symlink_to(outside)

    with pytest.raises(InvalidKey):
        await local_store.stat("link/secret")


async def test_chunked_body_over_the_cap_is_cut_off(
    local_store: LocalStore, local_http: httpx.AsyncClient
) -> None:
    """Without a Content-Length the store counts while streaming and stops at the cap."""
    ticket = await local_store.presign_upload(
        "k/chunked", content_type="text/plain", max_size=100_000, expires_in=60
    )

    too_big = await send_upload(local_http, ticket, os.urandom(100_001), chunked=True)
    fits = await send_upload(local_http, ticket, b"y" * 100_000, chunked=True)

    assert too_big.status_code == 413
    assert fits.status_code == 200
    assert (await local_store.read_head("k/chunked", 5)) == b"yyyyy"
    # No temp files are left behind by the refused upload.
    assert sorted(p.name for p in (local_store.root / "k").iterdir()) == ["chunked"]


async def test_upload_answers_carry_cors_headers_for_any_origin(
    local_store: LocalStore, local_http: httpx.AsyncClient
) -> None:
    ticket = await local_store.presign_upload("k/cors", content_type="image/png", max_size=10, expires_in=60)

    preflight = await local_http.options(
        ticket.url,
        headers={
            "Origin": "https://customer-site.example",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    ok = await send_upload(local_http, ticket, b"png", content_type="image/png")
    refused = await send_upload(local_http, ticket, b"x" * 11)

    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "PUT" in preflight.headers["access-control-allow-methods"]
    assert "content-type" in preflight.headers["access-control-allow-headers"].lower()
    for response in (ok, refused):
        assert response.headers["access-control-allow-origin"] == "*"
        assert response.headers["access-control-expose-headers"] == "ETag"
    assert ok.headers["etag"].startswith('"')
    assert refused.json()["error"]["code"] == "too_large"


async def test_download_is_sandboxed_and_not_cached(
    local_store: LocalStore, local_http: httpx.AsyncClient, tmp_path: Path
) -> None:
    (tmp_path / "f").write_bytes(b"<svg onload=alert(1)>")
    await local_store.put_file("k/logo", tmp_path / "f", content_type="image/svg+xml")

    url = await local_store.download_url(
        "k/logo", filename="logo.svg", content_type="image/svg+xml", expires_in=60
    )
    response = await local_http.get(url)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert response.headers["cache-control"] == "private, no-store"


@pytest.mark.parametrize(
    ("url_change", "code"),
    [
        pytest.param({"exp": "1"}, "bad_signature", id="expiry moved"),
        pytest.param({"sig": ""}, "bad_signature", id="no signature"),
        pytest.param({"max": "99999999"}, "bad_signature", id="cap raised"),
    ],
)
async def test_refusals_explain_themselves(
    local_store: LocalStore, local_http: httpx.AsyncClient, url_change: dict[str, str], code: str
) -> None:
    ticket = await local_store.presign_upload("k/x", content_type="text/plain", max_size=10, expires_in=60)

    response = await local_http.put(
        with_query(ticket.url, **url_change), content=b"x", headers=ticket.headers
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


async def test_a_url_signed_by_another_instance_is_refused(
    tmp_path: Path, local_http: httpx.AsyncClient
) -> None:
    other = LocalStore(tmp_path / "elsewhere", public_url="http://bugline.test", secret_key="o" * 40)
    ticket = await other.presign_upload("k/x", content_type="text/plain", max_size=10, expires_in=60)

    response = await send_upload(local_http, ticket, b"x")

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("report.pdf", 'attachment; filename="report.pdf"'),
        ("C:\\Users\\me\\shot.png", 'attachment; filename="shot.png"'),
        ("日本語.txt", "attachment; filename=\"_.txt\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC%E8%AA%9E.txt"),
        ("a;b=c.txt", "attachment; filename=\"a_b=c.txt\"; filename*=UTF-8''a%3Bb%3Dc.txt"),
        ("50%.txt", "attachment; filename=\"50_.txt\"; filename*=UTF-8''50%25.txt"),
        ("...", 'attachment; filename="download"'),
        ("x" * 400, f'attachment; filename="{"x" * 150}"'),
    ],
)
def test_attachment_filenames_are_safe(filename: str, expected: str) -> None:
    assert attachment_disposition(filename) == expected


@pytest.mark.parametrize(
    ("declared", "served"),
    [
        ("image/PNG", "image/png"),
        ("text/plain; charset=utf-8", "text/plain"),
        ("text/html", "application/octet-stream"),
        ("application/xhtml+xml", "application/octet-stream"),
        ("image/svg+xml", "application/octet-stream"),
        ("", "application/octet-stream"),
    ],
)
def test_only_allowlisted_types_are_served_as_such(declared: str, served: str) -> None:
    assert safe_download_type(declared) == served


@pytest.fixture
def served_store(tmp_path: Path) -> Iterator[LocalStore]:
    """A LocalStore behind a real uvicorn on a free loopback port, as `bugline serve` runs it."""
    port = free_port()
    store = LocalStore(tmp_path / "served", public_url=f"http://127.0.0.1:{port}", secret_key="s" * 40)
    app = Starlette(routes=media.routes)
    app.state.store = store
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield store
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.parametrize("chunked", [False, True], ids=["with Content-Length", "chunked"])
async def test_over_real_http_big_bodies_get_a_readable_413(served_store: LocalStore, chunked: bool) -> None:
    ticket = await served_store.presign_upload(
        "k/video", content_type="video/webm", max_size=1024 * 1024, expires_in=60
    )
    async with httpx.AsyncClient(timeout=60) as client:
        refused = await send_upload(client, ticket, b"v" * (20 * 1024 * 1024), chunked=chunked)
        accepted = await send_upload(client, ticket, b"v" * 1024 * 1024, chunked=chunked)
        url = await served_store.download_url(
            "k/video", filename="clip.webm", content_type="video/webm", expires_in=60
        )
        downloaded = await client.get(url)

    assert refused.status_code == 413
    assert refused.json()["error"]["code"] == "too_large"
    assert accepted.status_code == 200
    assert downloaded.status_code == 200
    assert downloaded.headers["content-disposition"] == 'attachment; filename="clip.webm"'
    assert downloaded.content == b"v" * 1024 * 1024
