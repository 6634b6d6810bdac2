"""Upload slots: what a client may upload for a report, and the signed requests to do it.

Keys are made by Bugline from ids, never from the file's name, so a hostile name
cannot steer where bytes land. Size caps are signed into the upload itself and
checked again when the report is finalised.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from bugline.db.models import Attachment, AttachmentKind, AttachmentState, new_id
from bugline.errors import ApiError
from bugline.intake.schema import AttachmentIn
from bugline.settings import Settings
from bugline.storage.base import MAX_PARTS, MIN_PART_SIZE, MediaStore
from bugline.storage.sniff import ALLOWED_TYPES, safe_filename

# Initial part URLs handed out with a recording slot; more come from the parts endpoint.
INITIAL_PARTS = 20


def media_type(declared: str) -> str:
    return declared.split(";", 1)[0].strip().lower()


def size_cap(settings: Settings, kind: str) -> int:
    return settings.max_recording_bytes if kind == AttachmentKind.RECORDING else settings.max_attachment_bytes


def part_size_for(cap: int) -> int:
    return max(MIN_PART_SIZE, math.ceil(cap / MAX_PARTS))


def max_part_number(cap: int) -> int:
    return math.ceil(cap / part_size_for(cap))


def upload_key(attachment: Attachment) -> str:
    """Where the client's signed upload writes. Finalize moves the bytes to ``storage_key``,
    which no URL was ever signed for, before checking them: a still-valid upload URL can
    then never replace bytes that were verified."""
    return f"incoming/{attachment.storage_key}"


def is_multipart(kind: str) -> bool:
    # Recordings upload while they are being recorded, so they always go in parts.
    return kind == AttachmentKind.RECORDING


def check_declared(settings: Settings, spec: AttachmentIn, index: int) -> None:
    """Refuse a slot we would refuse at finalize anyway, before any byte is sent."""
    where = f"attachments.{index}"
    declared = media_type(spec.type)
    if declared not in ALLOWED_TYPES and declared != "application/octet-stream":
        raise ApiError(
            415,
            "unsupported_media_type",
            f"{where}: {declared} files are not accepted; send one of {', '.join(sorted(ALLOWED_TYPES))}",
            fields=[{"field": f"{where}.type", "message": "is not an accepted type"}],
        )
    cap = size_cap(settings, spec.kind)
    if spec.size > cap:
        raise ApiError(
            413,
            "attachment_too_large",
            f"{where}: {spec.name!r} is {spec.size} bytes; a {spec.kind} may be at most {cap} bytes",
            fields=[{"field": f"{where}.size", "message": f"must be at most {cap}"}],
        )


def new_attachment(project_id: str, report_id: str, spec: AttachmentIn) -> Attachment:
    attachment_id = new_id()
    return Attachment(
        id=attachment_id,
        project_id=project_id,
        report_id=report_id,
        kind=str(spec.kind),
        filename=safe_filename(spec.name),
        declared_type=media_type(spec.type),
        declared_size=spec.size,
        declared_sha256=spec.sha256,
        storage_key=f"projects/{project_id}/reports/{report_id}/{attachment_id}",
        state=AttachmentState.PENDING,
    )


@dataclass(frozen=True, slots=True)
class Slots:
    """Signs the requests a client makes to upload its attachments."""

    settings: Settings
    store: MediaStore
    api_base: str  # e.g. https://bugline.example.com/api/v1/reports/ID

    async def describe(self, attachment: Attachment) -> dict[str, Any]:
        """The slot as the client sees it, with fresh signatures."""
        ttl = self.settings.upload_url_ttl
        base: dict[str, Any] = {
            "id": attachment.id,
            "name": attachment.filename,
            "kind": attachment.kind,
            "state": attachment.state,
            "max_size": min(attachment.declared_size, size_cap(self.settings, attachment.kind)),
        }
        if attachment.state != AttachmentState.PENDING:
            return base | {"upload": None, "error": attachment.error}
        if attachment.upload_id is not None:
            cap = size_cap(self.settings, attachment.kind)
            part_size = part_size_for(cap)
            full, rest = divmod(attachment.declared_size, part_size)
            # Each part URL is signed for an exact length. Full parts come now; a short last
            # part is signed now only when it fits in the first batch (a file of known size),
            # otherwise the client asks for it with its size when the recording stops.
            wanted = [(n, part_size) for n in range(1, min(full, INITIAL_PARTS) + 1)]
            if rest and full < INITIAL_PARTS:
                wanted.append((full + 1, rest))
            parts = [await self.part(attachment, n, size) for n, size in wanted]
            base["upload"] = {
                "method": "MULTIPART",
                "upload_id": attachment.upload_id,
                "part_size": part_size,
                "max_parts": max_part_number(cap),
                "parts": parts,
                "parts_url": f"{self.api_base}/attachments/{attachment.id}/parts",
                "complete_url": f"{self.api_base}/attachments/{attachment.id}/complete",
                "expires_in": ttl,
            }
            return base
        ticket = await self.store.presign_upload(
            upload_key(attachment),
            content_type=upload_content_type(attachment),
            max_size=min(attachment.declared_size, size_cap(self.settings, attachment.kind)),
            expires_in=ttl,
        )
        base["upload"] = {
            "method": ticket.method,
            "url": ticket.url,
            "fields": ticket.fields,
            "headers": ticket.headers,
            "expires_in": ticket.expires_in,
        }
        return base

    async def part(self, attachment: Attachment, number: int, size: int | None = None) -> dict[str, Any]:
        assert attachment.upload_id is not None
        cap = size_cap(self.settings, attachment.kind)
        part_size = part_size_for(cap)
        if not 1 <= number <= max_part_number(cap):
            raise ApiError(
                422,
                "invalid_part_number",
                f"part numbers run from 1 to {max_part_number(cap)} for a {attachment.kind}",
                fields=[{"field": "parts.part_number", "message": f"{number} is out of range"}],
            )
        size = size or part_size
        if size > part_size:
            raise ApiError(
                422,
                "invalid_part_size",
                f"a part may be at most {part_size} bytes",
                fields=[{"field": "parts.size", "message": f"{size} is over {part_size}"}],
            )
        ticket = await self.store.presign_part(
            upload_key(attachment),
            attachment.upload_id,
            number,
            part_size=size,
            expires_in=self.settings.upload_url_ttl,
        )
        return {"part_number": number, "size": size, "url": ticket.url, "headers": ticket.headers}


def upload_content_type(attachment: Attachment) -> str:
    return attachment.declared_type or "application/octet-stream"
