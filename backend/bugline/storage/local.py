"""The embedded media store: a folder on disk, with uploads signed like S3's.

Browsers upload to Bugline itself (routes/media.py) with URLs this module signs, so the
flow is the same as with S3: sign, upload straight to the store, finalize. Each URL is
an HMAC-SHA256 capability over all of its parameters; the store refuses anything past
the signed size. Objects appear only complete: bodies go to a hidden temp file in the
target folder and are renamed into place at the end.

Layout under ``root``: objects at ``root/<key>``; multipart uploads in
``root/.multipart/<upload_id>/`` (``state.json`` and ``part-NNNNN`` files). Keys may
not have segments starting with a dot, so neither the temp files nor ``.multipart``
can ever be mistaken for an object.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import tempfile
import time
import unicodedata
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG
from typing import IO, Literal
from urllib.parse import quote, urlencode

import anyio
import anyio.to_thread

from bugline.storage.base import MAX_PARTS, MIN_PART_SIZE, ObjectInfo, PartTicket, StoreError, UploadTicket

MULTIPART_DIR = ".multipart"
_COPY_CHUNK = 1024 * 1024
_UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{32}$")
# A media type with optional parameters (RFC 9110 section 8.3.1), printable ASCII only,
# so a signed ``ct`` can never smuggle a line break into a response header.
_TCHARS = r"[A-Za-z0-9!#$%&'*+.^_`|~-]+"
_MEDIA_TYPE = re.compile(rf'^{_TCHARS}/{_TCHARS}(\s*;\s*{_TCHARS}=({_TCHARS}|"[^"\\\x00-\x1f\x7f]*"))*$')
# Types a browser may be told an attachment is. Anything else (text/html, image/svg+xml,
# application/xhtml+xml, ...) could run script if it were ever rendered, so it is
# served as application/octet-stream.
SAFE_DOWNLOAD_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "video/webm",
        "video/mp4",
        "application/pdf",
        "text/plain",
        "application/json",
        "application/zip",
        "application/gzip",
    }
)
_FALLBACK_NAME = "download"
_MAX_NAME = 150
_WINDOWS_RESERVED = re.compile(r"[<>:/\\|?*]")
_ASCII_UNSAFE = re.compile(r"[^A-Za-z0-9 ._()+,@=\[\]{}~!#$&'-]")


class InvalidKey(StoreError, ValueError):
    """A key that could escape the media folder or is otherwise not a plain relative path."""


class SignatureInvalid(StoreError):
    """A media URL whose signature does not match its parameters."""


class SignatureExpired(SignatureInvalid):
    """A media URL used after its expiry time."""


class TooLarge(StoreError):
    """The body is larger than the URL was signed for."""


class WrongSize(StoreError):
    """A part body is not exactly the signed part size, or a single upload is empty."""


class UploadNotFound(StoreError):
    """The multipart upload does not exist (never started, aborted or completed)."""


@dataclass(frozen=True, slots=True)
class UploadGrant:
    """What a verified upload URL allows: one body of at most ``max_size`` bytes to one place."""

    key: str
    max_size: int
    content_type: str | None = None  # single uploads: the Content-Type the client must send
    upload_id: str | None = None  # parts: the multipart upload and part number
    part_number: int | None = None


@dataclass(frozen=True, slots=True)
class DownloadGrant:
    key: str
    filename: str
    content_type: str


def safe_download_type(content_type: str) -> str:
    """The type to serve an attachment as: allowlisted types as given, everything else opaque."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type if media_type in SAFE_DOWNLOAD_TYPES else "application/octet-stream"


def safe_filename(name: str) -> str:
    """A display filename without path parts, control characters or quotes; never empty."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if not _is_control(ch))
    # Characters Windows refuses in filenames become "_", so the saved name is the one shown.
    name = _WINDOWS_RESERVED.sub("_", name.replace('"', "'")).strip().strip(".").strip()
    stem, dot, extension = name.rpartition(".")
    if len(name) > _MAX_NAME and dot and stem and len(extension) <= 10:
        # Cut the stem, not the extension: the saved file must still open with its program.
        return f"{stem[: _MAX_NAME - len(extension) - 1]}.{extension}"
    return name[:_MAX_NAME] or _FALLBACK_NAME


def _is_control(ch: str) -> bool:
    """Control, format and line/paragraph separator characters: nothing a filename needs."""
    category = unicodedata.category(ch)
    return category[0] == "C" or category in ("Zl", "Zp")


def attachment_disposition(filename: str) -> str:
    """``Content-Disposition: attachment`` with an ASCII ``filename`` and, for other names,
    an RFC 6266 / RFC 8187 ``filename*`` (https://www.rfc-editor.org/rfc/rfc6266#section-4.3)."""
    name = safe_filename(filename)
    # ASCII fallback for old clients: accents dropped (Ü -> U), anything else becomes "_".
    decomposed = unicodedata.normalize("NFKD", name)
    ascii_name = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    ascii_name = re.sub(r"_+", "_", _ASCII_UNSAFE.sub("_", ascii_name)).strip() or _FALLBACK_NAME
    value = f'attachment; filename="{ascii_name}"'
    if ascii_name != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value


def check_content_type(content_type: str) -> str:
    if not _MEDIA_TYPE.match(content_type):
        raise StoreError(f"not a valid media type: {content_type!r}")
    return content_type


def quoted_etag(hex_digest: str) -> str:
    return f'"{hex_digest}"'


def _unquote_etag(etag: str) -> str:
    return etag.strip().removeprefix("W/").strip('"').lower()


def _md5() -> hashlib._Hash:
    # MD5 because S3 ETags are MD5 hex digests and clients compare them; not for security.
    return hashlib.md5(usedforsecurity=False)


class LocalStore:
    """Media in a local folder; upload and download URLs point at Bugline's /media routes."""

    name = "local"

    def __init__(self, root: Path, *, public_url: str, secret_key: str) -> None:
        if len(secret_key) < 32:
            raise ValueError("secret_key must be at least 32 characters")
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.public_url = public_url.rstrip("/")
        # A key derived for media URLs only, so a signature made here means nothing to any
        # other part of Bugline that signs with the same secret.
        self._key = hmac.new(secret_key.encode(), b"bugline media urls v1", hashlib.sha256).digest()

    # -- keys and paths ------------------------------------------------------------------

    def path_for(self, key: str) -> Path:
        """The file for ``key``; raise InvalidKey for anything that is not a plain relative path."""
        if not key or len(key) > 1024:
            raise InvalidKey("key must be 1 to 1024 characters")
        if "\\" in key or any(_is_control(ch) for ch in key):
            raise InvalidKey("key contains a backslash or a control character")
        if key.startswith("/"):
            raise InvalidKey("key must be relative")
        if any(part in ("", ".", "..") or part.startswith(".") for part in key.split("/")):
            raise InvalidKey("key has an empty, dot or dot-dot segment")
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise InvalidKey("key resolves outside the media folder")
        return path

    def _upload_dir(self, upload_id: str) -> Path:
        if not _UPLOAD_ID.match(upload_id):
            raise UploadNotFound("no such upload")
        return self.root / MULTIPART_DIR / upload_id

    def _upload_state(self, key: str, upload_id: str) -> Path:
        """The upload's folder, after checking that the upload exists and belongs to ``key``."""
        folder = self._upload_dir(upload_id)
        try:
            state = json.loads((folder / "state.json").read_text())
        except (OSError, ValueError):
            raise UploadNotFound("no such upload") from None
        if not isinstance(state, dict) or state.get("key") != key:
            raise UploadNotFound("no such upload for this key")
        return folder

    # -- signing -----------------------------------------------------------------------

    def _sign(self, action: Literal["put", "part", "get"], params: Mapping[str, str]) -> str:
        # urlencode percent-encodes '&', '=' and line breaks, so two different parameter
        # sets can never produce the same signed message.
        message = f"{action}\n{urlencode(sorted(params.items()))}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _signed_url(self, path: str, action: Literal["put", "part", "get"], params: dict[str, str]) -> str:
        return f"{self.public_url}{path}?{urlencode({**params, 'sig': self._sign(action, params)})}"

    def _verify(
        self, action: Literal["put", "part", "get"], query: Mapping[str, str], names: tuple[str, ...]
    ) -> dict[str, str]:
        params = {name: query.get(name, "") for name in names}
        given = query.get("sig", "")
        if not hmac.compare_digest(given.encode(), self._sign(action, params).encode()):
            raise SignatureInvalid("the URL's signature does not match")
        if not params["exp"].isdigit() or int(params["exp"]) < time.time():
            raise SignatureExpired("the URL has expired")
        return params

    def verify_upload(self, query: Mapping[str, str]) -> UploadGrant:
        """Check an upload URL's signature and expiry; return what it allows."""
        if "upload" in query or "part" in query:
            p = self._verify("part", query, ("key", "upload", "part", "max", "exp"))
            return UploadGrant(
                key=p["key"], max_size=int(p["max"]), upload_id=p["upload"], part_number=int(p["part"])
            )
        p = self._verify("put", query, ("key", "max", "ct", "exp"))
        return UploadGrant(key=p["key"], max_size=int(p["max"]), content_type=p["ct"])

    def verify_download(self, query: Mapping[str, str]) -> DownloadGrant:
        p = self._verify("get", query, ("key", "name", "ct", "exp"))
        return DownloadGrant(key=p["key"], filename=p["name"], content_type=p["ct"])

    # -- receiving uploads (called by routes/media.py) ------------------------------------

    async def receive(self, grant: UploadGrant, chunks: AsyncIterable[bytes]) -> str:
        """Write an upload body to its place and return its quoted MD5 ETag.

        Raises TooLarge as soon as the body passes the signed size, WrongSize for an empty
        single upload or a part of another length than signed, UploadNotFound for a part of
        an unknown upload. Nothing is kept in any of those cases.
        """
        if grant.upload_id is not None and grant.part_number is not None:
            folder = self._upload_state(grant.key, grant.upload_id)
            target = folder / f"part-{grant.part_number:05d}"
        else:
            target = self.path_for(grant.key)
        digest = _md5()
        size = 0
        temp = await anyio.to_thread.run_sync(_TempBeside, target)
        with temp:
            out = anyio.wrap_file(temp.file)
            async for chunk in chunks:
                size += len(chunk)
                if size > grant.max_size:
                    raise TooLarge(f"the body is larger than the {grant.max_size} bytes signed for")
                digest.update(chunk)
                await out.write(chunk)
            if grant.part_number is not None and size != grant.max_size:
                # Same rule as S3Store, whose part URLs sign the exact Content-Length.
                raise WrongSize(f"this part must be exactly {grant.max_size} bytes, got {size}")
            if size == 0:
                raise WrongSize("the body is empty")
            try:
                await anyio.to_thread.run_sync(temp.commit)
            except FileNotFoundError:
                raise UploadNotFound("the upload was aborted meanwhile") from None
        return quoted_etag(digest.hexdigest())

    # -- MediaStore -----------------------------------------------------------------------

    async def presign_upload(
        self, key: str, *, content_type: str, max_size: int, expires_in: int
    ) -> UploadTicket:
        self.path_for(key)
        check_content_type(content_type)
        if max_size < 1:
            raise StoreError("max_size must be positive")
        params = {"key": key, "max": str(max_size), "ct": content_type, "exp": _expiry(expires_in)}
        return UploadTicket(
            method="PUT",
            url=self._signed_url("/media/upload", "put", params),
            headers={"Content-Type": content_type},
            expires_in=expires_in,
        )

    async def start_multipart(self, key: str, *, content_type: str) -> str:
        self.path_for(key)
        check_content_type(content_type)
        upload_id = secrets.token_urlsafe(24)
        folder = self._upload_dir(upload_id)

        def create() -> None:
            folder.mkdir(parents=True)
            (folder / "state.json").write_text(json.dumps({"key": key, "content_type": content_type}))

        await anyio.to_thread.run_sync(create)
        return upload_id

    async def presign_part(
        self, key: str, upload_id: str, part_number: int, *, part_size: int, expires_in: int
    ) -> PartTicket:
        self.path_for(key)
        self._upload_dir(upload_id)
        _check_part(part_number, part_size)
        params = {
            "key": key,
            "upload": upload_id,
            "part": str(part_number),
            "max": str(part_size),
            "exp": _expiry(expires_in),
        }
        return PartTicket(part_number=part_number, url=self._signed_url("/media/upload", "part", params))

    async def complete_multipart(self, key: str, upload_id: str, parts: list[tuple[int, str]]) -> ObjectInfo:
        target = self.path_for(key)
        return await anyio.to_thread.run_sync(self._complete, target, key, upload_id, parts)

    def _complete(self, target: Path, key: str, upload_id: str, parts: list[tuple[int, str]]) -> ObjectInfo:
        folder = self._upload_state(key, upload_id)
        ordered = sorted(parts)
        numbers = [n for n, _ in ordered]
        if not ordered or len(set(numbers)) != len(numbers):
            raise StoreError("parts must be a non-empty list of distinct part numbers")
        files = [folder / f"part-{n:05d}" for n in numbers]
        for index, path in enumerate(files):
            if not path.is_file():
                raise StoreError(f"part {numbers[index]} was not uploaded")
            # S3's rule, kept here so both stores accept the same uploads:
            # https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html
            if index < len(files) - 1 and path.stat().st_size < MIN_PART_SIZE:
                raise StoreError(f"part {numbers[index]} is smaller than {MIN_PART_SIZE} bytes")
        part_digests: list[bytes] = []
        size = 0
        with _TempBeside(target) as temp:
            for (number, etag), path in zip(ordered, files, strict=True):
                digest = _md5()
                with path.open("rb") as source:
                    while chunk := source.read(_COPY_CHUNK):
                        digest.update(chunk)
                        temp.file.write(chunk)
                        size += len(chunk)
                if digest.hexdigest() != _unquote_etag(etag):
                    raise StoreError(f"part {number}'s ETag does not match what was uploaded")
                part_digests.append(digest.digest())
            temp.commit()
        shutil.rmtree(folder, ignore_errors=True)
        # S3's multipart ETag: MD5 of the concatenated part MD5s, then "-<number of parts>".
        combined = hashlib.md5(b"".join(part_digests), usedforsecurity=False).hexdigest()
        return ObjectInfo(size=size, etag=quoted_etag(f"{combined}-{len(part_digests)}"))

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        self.path_for(key)
        try:
            folder = self._upload_state(key, upload_id)
        except UploadNotFound:
            return  # already gone: aborting twice is fine, as with S3 lifecycle cleanup
        await anyio.to_thread.run_sync(lambda: shutil.rmtree(folder, ignore_errors=True))

    async def stat(self, key: str) -> ObjectInfo | None:
        """Size of the object; ``etag`` is None here (computing it would read the whole file)."""
        path = self.path_for(key)
        try:
            info = await anyio.to_thread.run_sync(path.stat)
        except (FileNotFoundError, NotADirectoryError):
            return None
        return ObjectInfo(size=info.st_size) if S_ISREG(info.st_mode) else None

    async def read_head(self, key: str, length: int) -> bytes:
        path = self.path_for(key)

        def read() -> bytes:
            with path.open("rb") as handle:
                return handle.read(max(length, 0))

        try:
            return await anyio.to_thread.run_sync(read)
        except OSError as exc:
            raise StoreError(f"cannot read {key!r}: {exc.strerror}") from None

    async def iter_bytes(self, key: str, chunk_size: int = 1024 * 1024) -> AsyncIterator[bytes]:
        path = self.path_for(key)
        try:
            handle = await anyio.open_file(path, "rb")
        except OSError as exc:
            raise StoreError(f"cannot read {key!r}: {exc.strerror}") from None
        async with handle:
            while chunk := await handle.read(chunk_size):
                yield chunk

    async def put_file(self, key: str, path: Path, *, content_type: str) -> ObjectInfo:
        target = self.path_for(key)
        check_content_type(content_type)

        def copy() -> ObjectInfo:
            digest = _md5()
            size = 0
            with _TempBeside(target) as temp, path.open("rb") as source:
                while chunk := source.read(_COPY_CHUNK):
                    digest.update(chunk)
                    temp.file.write(chunk)
                    size += len(chunk)
                temp.commit()
            return ObjectInfo(size=size, etag=quoted_etag(digest.hexdigest()))

        try:
            return await anyio.to_thread.run_sync(copy)
        except OSError as exc:
            raise StoreError(f"cannot store {key!r}: {exc.strerror}") from None

    async def move(self, src: str, dst: str) -> ObjectInfo:
        source, target = self.path_for(src), self.path_for(dst)

        def rename() -> ObjectInfo:
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(source, target)  # atomic on one filesystem
            except FileNotFoundError:
                raise StoreError(f"cannot move {src!r}: it does not exist") from None
            return ObjectInfo(size=target.stat().st_size)

        return await anyio.to_thread.run_sync(rename)

    async def delete(self, key: str) -> None:
        path = self.path_for(key)
        await anyio.to_thread.run_sync(lambda: path.unlink(missing_ok=True))

    async def download_url(self, key: str, *, filename: str, content_type: str, expires_in: int) -> str:
        self.path_for(key)
        params = {
            "key": key,
            "name": safe_filename(filename),
            "ct": safe_download_type(content_type),
            "exp": _expiry(expires_in),
        }
        return self._signed_url("/media/download", "get", params)

    async def check(self) -> None:
        def probe() -> None:
            if not self.root.is_dir():
                raise StoreError(f"media folder {self.root} does not exist")
            if not os.access(self.root, os.W_OK | os.X_OK):
                raise StoreError(f"media folder {self.root} is not writable")

        await anyio.to_thread.run_sync(probe)


class _TempBeside:
    """A hidden temp file in the target's folder, so the final rename is atomic.

    ``commit()`` flushes it to disk and renames it into place; leaving the block any other
    way removes it, so a refused or broken upload leaves nothing behind.
    """

    def __init__(self, target: Path) -> None:
        self.target = target
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        self.path = Path(name)
        self.file: IO[bytes] = os.fdopen(fd, "wb")
        self.committed = False

    def commit(self) -> None:
        # fsync before the rename, so a crash never leaves a renamed but empty object.
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        os.replace(self.path, self.target)
        self.committed = True

    def __enter__(self) -> _TempBeside:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.file.close()
        if not self.committed:
            self.path.unlink(missing_ok=True)


def _expiry(expires_in: int) -> str:
    if expires_in < 1:
        raise StoreError("expires_in must be positive")
    return str(int(time.time()) + expires_in)


def _check_part(part_number: int, part_size: int) -> None:
    if not 1 <= part_number <= MAX_PARTS:
        raise StoreError(f"part_number must be 1 to {MAX_PARTS}")
    if part_size < 1:
        raise StoreError("part_size must be positive")
