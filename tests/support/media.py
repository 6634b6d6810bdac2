"""Real file bytes for tests, and the client side of the upload flow (as the widget does it)."""

from __future__ import annotations

import struct
import zlib
from typing import Any

import httpx


def png(width: int = 4, height: int = 3, seed: int = 0) -> bytes:
    """A valid PNG image (decodable by any viewer), different per seed."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes((x * 40 + seed) % 256 for x in range(width * 3)) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def webm(size: int) -> bytes:
    """Bytes that start like a WebM file (EBML header with DocType webm), padded to ``size``."""
    header = bytes.fromhex("1a45dfa3") + bytes([0x9F]) + bytes.fromhex("4282") + bytes([0x84]) + b"webm"
    return header + b"\x00" * (size - len(header))


async def upload(client: httpx.AsyncClient, slot: dict[str, Any], data: bytes) -> httpx.Response:
    """Send ``data`` the way the slot says: a form POST, a PUT, or parts then complete."""
    up = slot["upload"]
    if up["method"] == "POST":
        return await client.post(up["url"], data=up["fields"], files={"file": ("blob", data)})
    if up["method"] == "PUT":
        return await client.put(up["url"], content=data, headers=up.get("headers") or {})
    raise ValueError("multipart slots go through upload_parts()")


async def upload_parts(
    client: httpx.AsyncClient, slot: dict[str, Any], data: bytes, key: str, token: str
) -> list[dict[str, Any]]:
    up = slot["upload"]
    size = up["part_size"]
    pieces = [data[i : i + size] for i in range(0, len(data), size)]
    urls = {p["part_number"]: p for p in up["parts"]}
    done = []
    for number, piece in enumerate(pieces, 1):
        part = urls.get(number)
        if part is None or part["size"] != len(piece):
            more = await client.post(
                up["parts_url"], json={"parts": [{"part_number": number, "size": len(piece)}]},
                headers={"X-Bugline-Key": key, "X-Bugline-Report-Token": token},
            )
            assert more.status_code == 200, more.text
            part = more.json()["parts"][0]
        headers = dict(part.get("headers") or {})
        res = await client.put(part["url"], content=piece, headers=headers)
        assert res.status_code == 200, res.text
        done.append({"part_number": number, "etag": res.headers["etag"]})
    return done
