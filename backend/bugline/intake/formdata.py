"""A streaming multipart/form-data reader for the server-side endpoint (curl, scripts).

Each file part goes straight to a temporary file on disk while it is hashed and
counted, so memory stays flat whatever the upload size; a part over its cap stops
the parse at once (413) instead of after the whole body has arrived. Text fields
are small and kept in memory, with caps on their number and size.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart import MultipartParser
from python_multipart.multipart import MultipartState, parse_options_header

from bugline.errors import ApiError
from bugline.storage.sniff import SNIFF_BYTES

PREFIX = "upload-"  # the temporary files of file parts, in the data folder's tmp/
LEFTOVER_AGE = 24 * 3600.0  # far longer than any request may take to stream its files

MAX_FIELDS = 50
MAX_FIELD_BYTES = 256 * 1024
MAX_HEADER_BYTES = 4 * 1024


@dataclass(slots=True)
class UploadedFile:
    field: str
    filename: str
    content_type: str
    path: Path
    size: int = 0
    sha256: str = ""
    head: bytes = b""


@dataclass(slots=True)
class FormData:
    fields: dict[str, str] = field(default_factory=dict)
    files: list[UploadedFile] = field(default_factory=list)

    def cleanup(self) -> None:
        for f in self.files:
            f.path.unlink(missing_ok=True)


def boundary_of(content_type: str) -> bytes:
    kind, params = parse_options_header(content_type)
    if kind != b"multipart/form-data":
        raise ApiError(415, "unsupported_media_type", "send multipart/form-data (curl -F) to this endpoint")
    boundary = params.get(b"boundary", b"")
    if not boundary or len(boundary) > 200:
        raise ApiError(400, "malformed_multipart", "the multipart body has no usable boundary")
    return boundary


class _Reader:
    """Turns the parser's callbacks into fields and files, enforcing caps as bytes arrive."""

    def __init__(self, tmpdir: Path, file_cap: Callable[[str], int], max_files: int) -> None:
        self.tmpdir = tmpdir
        self.file_cap = file_cap
        self.max_files = max_files
        self.form = FormData()
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._field: str | None = None
        self._value = bytearray()
        self._file: UploadedFile | None = None
        self._out: IO[bytes] | None = None
        self._digest = hashlib.sha256()

    def on_part_begin(self) -> None:
        self._headers = {}
        self._field, self._file, self._out = None, None, None
        self._value = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if len(self._header_name) + len(self._header_value) > MAX_HEADER_BYTES:
            raise ApiError(400, "malformed_multipart", "a part header is too long")
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name, self._header_value = b"", b""

    def on_headers_finished(self) -> None:
        disposition, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = params.get(b"name", b"").decode("utf-8", "replace")
        if disposition != b"form-data" or not name:
            raise ApiError(
                400, "malformed_multipart", "each part needs Content-Disposition: form-data; name=..."
            )
        self._field = name
        if b"filename" in params:
            if len(self.form.files) >= self.max_files:
                raise ApiError(422, "too_many_attachments", f"at most {self.max_files} files per report")
            ctype = self._headers.get(b"content-type", b"application/octet-stream").decode("latin-1")
            fd, path = tempfile.mkstemp(dir=self.tmpdir, prefix=PREFIX)
            self._out = os.fdopen(fd, "wb")
            self._file = UploadedFile(
                field=name,
                filename=params[b"filename"].decode("utf-8", "replace"),
                content_type=ctype.split(";", 1)[0].strip().lower(),
                path=Path(path),
            )
            self.form.files.append(self._file)
            self._digest = hashlib.sha256()
        elif len(self.form.fields) >= MAX_FIELDS:
            raise ApiError(422, "too_many_fields", f"at most {MAX_FIELDS} form fields")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._file is not None and self._out is not None:
            self._file.size += len(chunk)
            cap = self.file_cap(self._file.field)
            if self._file.size > cap:
                raise ApiError(
                    413, "attachment_too_large", f"{self._file.filename!r} is over the {cap} byte limit"
                )
            if len(self._file.head) < SNIFF_BYTES:
                self._file.head += chunk[: SNIFF_BYTES - len(self._file.head)]
            self._digest.update(chunk)
            self._out.write(chunk)
        else:
            self._value += chunk
            if len(self._value) > MAX_FIELD_BYTES:
                raise ApiError(
                    413, "field_too_large", f"form field {self._field!r} is over {MAX_FIELD_BYTES} bytes"
                )

    def on_part_end(self) -> None:
        if self._file is not None and self._out is not None:
            self._out.close()
            self._file.sha256 = self._digest.hexdigest()
        elif self._field is not None:
            try:
                self.form.fields[self._field] = self._value.decode("utf-8")
            except UnicodeDecodeError:
                raise ApiError(
                    400, "malformed_multipart", f"form field {self._field!r} is not UTF-8"
                ) from None

    def close(self) -> None:
        if self._out is not None and not self._out.closed:
            self._out.close()


async def read_form(
    stream: AsyncIterator[bytes],
    content_type: str,
    *,
    tmpdir: Path,
    file_cap: Callable[[str], int],
    max_files: int,
    max_body: int,
) -> FormData:
    """Parse the whole body; on any error, remove what was written and re-raise."""
    boundary = boundary_of(content_type)
    tmpdir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - one cheap syscall
    reader = _Reader(tmpdir, file_cap, max_files)
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": reader.on_part_begin,
            "on_part_data": reader.on_part_data,
            "on_part_end": reader.on_part_end,
            "on_header_field": reader.on_header_field,
            "on_header_value": reader.on_header_value,
            "on_header_end": reader.on_header_end,
            "on_headers_finished": reader.on_headers_finished,
        },
    )
    total = 0
    try:
        async for chunk in stream:
            total += len(chunk)
            if total > max_body:
                raise ApiError(413, "body_too_large", f"the body is over the {max_body} byte limit")
            try:
                parser.write(chunk)
            except ApiError:
                raise
            except Exception as exc:  # the parser's own errors: a broken body
                raise ApiError(
                    400, "malformed_multipart", f"the multipart body is malformed: {exc}"
                ) from None
        try:
            parser.finalize()
        except Exception as exc:
            raise ApiError(400, "malformed_multipart", f"the multipart body is malformed: {exc}") from None
        if parser.state != MultipartState.END:
            raise ApiError(
                400, "malformed_multipart", "the multipart body ended early: its closing boundary is missing"
            )
    except BaseException:
        reader.close()
        reader.form.cleanup()
        raise
    return reader.form



def sweep_leftovers(tmpdir: Path, now: float, older_than: float = LEFTOVER_AGE) -> int:
    """Delete the temporary upload files a killed process left behind; how many went.

    A request removes its own files when it ends, so a file older than any request can last
    belongs to no one: a process that was SIGKILLed or ran out of memory mid-upload.
    """
    gone = 0
    try:
        entries = list(tmpdir.glob(f"{PREFIX}*"))
    except OSError:
        return 0
    for path in entries:
        try:
            if now - path.stat().st_mtime > older_than:
                path.unlink()
                gone += 1
        except OSError:  # removed meanwhile by its own request, or not ours to remove
            continue
    return gone
