"""What a browser does with upload tickets, and how an attacker would bend them."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from bugline.storage.base import MediaStore, UploadTicket


async def send_upload(
    http: httpx.AsyncClient,
    ticket: UploadTicket,
    body: bytes,
    *,
    content_type: str | None = None,
    chunked: bool = False,
) -> httpx.Response:
    """Upload ``body`` as the ticket says; ``content_type`` overrides the type the ticket fixed."""
    if ticket.method == "POST":
        fields = dict(ticket.fields)
        if content_type is not None:
            fields["Content-Type"] = content_type
        ctype = fields.get("Content-Type", "application/octet-stream")
        return await http.post(ticket.url, data=fields, files={"file": ("upload.bin", body, ctype)})
    headers = dict(ticket.headers)
    if content_type is not None:
        headers["Content-Type"] = content_type
    if chunked:
        return await http.put(ticket.url, content=_chunks(body), headers=headers)
    return await http.put(ticket.url, content=body, headers=headers)


async def _chunks(body: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def flip(signature: str) -> str:
    """The same signature with its last hex digit changed."""
    return signature[:-1] + ("0" if signature[-1] != "0" else "1")


def tamper_signature(ticket: UploadTicket) -> UploadTicket:
    if ticket.method == "POST":
        fields = {**ticket.fields, "x-amz-signature": flip(ticket.fields["x-amz-signature"])}
        return dataclasses.replace(ticket, fields=fields)
    sig = dict(parse_qsl(urlsplit(ticket.url).query))["sig"]
    return dataclasses.replace(ticket, url=with_query(ticket.url, sig=flip(sig)))


def retarget(ticket: UploadTicket, key: str) -> UploadTicket:
    """The ticket pointed at another key, keeping its signature."""
    if ticket.method == "POST":
        return dataclasses.replace(ticket, fields={**ticket.fields, "key": key})
    return dataclasses.replace(ticket, url=with_query(ticket.url, key=key))


def raise_cap(ticket: UploadTicket, new_max: int) -> UploadTicket:
    """The ticket with a bigger size limit written into it, keeping its signature."""
    if ticket.method == "POST":
        policy = json.loads(base64.b64decode(ticket.fields["policy"]))
        for condition in policy["conditions"]:
            if isinstance(condition, list) and condition[0] == "content-length-range":
                condition[2] = new_max
        encoded = base64.b64encode(json.dumps(policy).encode()).decode()
        return dataclasses.replace(ticket, fields={**ticket.fields, "policy": encoded})
    return dataclasses.replace(ticket, url=with_query(ticket.url, max=str(new_max)))


def quoted_md5(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'


async def read_all(store: MediaStore, key: str, chunk_size: int = 1024 * 1024) -> bytes:
    return b"".join([chunk async for chunk in store.iter_bytes(key, chunk_size)])
