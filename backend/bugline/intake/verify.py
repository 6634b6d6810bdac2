"""Checking an uploaded object before Bugline accepts it: there, the right size, the bytes it
claims to be, an allowed type, and the checksum the client announced.

Works on any MediaStore, reading only the first bytes for sniffing and streaming
the rest through SHA-256 so a 500 MB recording costs a few megabytes of memory.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from bugline.db.models import Attachment
from bugline.intake.uploads import is_multipart
from bugline.storage.base import MediaStore
from bugline.storage.sniff import SNIFF_BYTES, matches_declared, sniff


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    missing: bool = False  # nothing uploaded yet: the client may still be uploading
    content_type: str | None = None
    size: int | None = None
    sha256: str | None = None
    error: str = ""


async def verify(store: MediaStore, attachment: Attachment, cap: int) -> Verdict:
    info = await store.stat(attachment.storage_key)
    if info is None:
        return Verdict(False, missing=True, error="not uploaded yet")
    if info.size == 0:
        return Verdict(False, size=0, error="the uploaded file is empty")
    if info.size > min(cap, attachment.declared_size):
        return Verdict(
            False,
            size=info.size,
            error=f"{info.size} bytes uploaded, more than the {min(cap, attachment.declared_size)} announced",
        )
    # A recording's final size is unknown when its slot is made; other files must match exactly.
    if not is_multipart(attachment.kind) and info.size != attachment.declared_size:
        return Verdict(
            False,
            size=info.size,
            error=f"{info.size} bytes uploaded but {attachment.declared_size} were announced",
        )
    head = await store.read_head(attachment.storage_key, SNIFF_BYTES)
    found = sniff(head, declared_type=attachment.declared_type, filename=attachment.filename)
    if not found.allowed or found.content_type is None:
        return Verdict(False, size=info.size, error=found.reason or "this kind of file is not accepted")
    if not matches_declared(found.content_type, attachment.declared_type):
        return Verdict(
            False,
            size=info.size,
            content_type=found.content_type,
            error=f"announced as {attachment.declared_type} but the bytes are {found.content_type}",
        )
    digest = hashlib.sha256()
    total = 0
    async for chunk in store.iter_bytes(attachment.storage_key):
        digest.update(chunk)
        total += len(chunk)
    sha = digest.hexdigest()
    if total != info.size:
        return Verdict(False, size=total, error="the stored object changed while it was being checked")
    if attachment.declared_sha256 and attachment.declared_sha256 != sha:
        return Verdict(
            False, size=total, sha256=sha, error="the SHA-256 of the uploaded bytes does not match"
        )
    return Verdict(True, content_type=found.content_type, size=total, sha256=sha)
