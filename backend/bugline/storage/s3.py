"""Media in an S3 bucket (AWS, SeaweedFS, MinIO, ...), with boto3 run in worker threads.

Browsers upload straight to S3 with presigned requests, and S3 itself enforces the
limits: a presigned POST policy fixes the size range and Content-Type, and each
multipart part URL signs the exact Content-Length of its body.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread
import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from bugline.storage.base import MAX_PARTS, ObjectInfo, PartTicket, StoreError, UploadTicket
from bugline.storage.local import attachment_disposition, check_content_type, safe_download_type

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CORSRuleTypeDef

T = TypeVar("T")
MiB = 1024 * 1024
# S3 refuses parts over 5 GiB: https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html
MAX_PART_SIZE = 5 * 1024 * MiB
# Server-side uploads stream the file in 8 MiB parts with two in flight, so a 500 MB
# recording needs about 16 MiB of memory, not 500.
_TRANSFER = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB, max_concurrency=2)
_NOT_FOUND = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchBucket"})


class S3Store:
    """Media in one S3 bucket. Credentials come from boto3's standard chain unless given."""

    name = "s3"

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None,
        public_endpoint_url: str | None,
        region: str,
        access_key: str | None = None,
        secret_key: str | None = None,
    ) -> None:
        self.bucket = bucket
        # SigV4 everywhere: with a custom endpoint boto3 would otherwise presign the old
        # SigV2 way. Path-style because S3-compatible servers rarely have bucket DNS names.
        config = Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            connect_timeout=5,
            read_timeout=60,
            retries={"max_attempts": 3, "mode": "standard"},
        )
        session = boto3.session.Session(
            aws_access_key_id=access_key, aws_secret_access_key=secret_key, region_name=region
        )
        self._client: S3Client = session.client("s3", endpoint_url=endpoint_url or None, config=config)
        # Presigned URLs embed the host they were signed for, and browsers may reach S3 at
        # another address than the server does (a container network, a CDN).
        self._public: S3Client = (
            session.client("s3", endpoint_url=public_endpoint_url, config=config)
            if public_endpoint_url
            else self._client
        )

    async def _run(self, what: str, call: Callable[..., T], /, **kwargs: Any) -> T:
        """Run one boto3 call in a worker thread; turn botocore errors into StoreError."""
        try:
            return await anyio.to_thread.run_sync(functools.partial(call, **kwargs))
        except ClientError as exc:
            raise StoreError(f"S3 {what} failed: {_code(exc)}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"S3 {what} failed: {exc}") from exc

    async def presign_upload(
        self, key: str, *, content_type: str, max_size: int, expires_in: int
    ) -> UploadTicket:
        check_content_type(content_type)
        if max_size < 1:
            raise StoreError("max_size must be positive")
        # The POST policy makes S3 refuse a body outside 1..max_size (EntityTooLarge) and any
        # other Content-Type; a presigned PUT could not limit the size at all.
        # https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
        post = await self._run(
            "presign upload",
            self._public.generate_presigned_post,
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[["content-length-range", 1, max_size], {"Content-Type": content_type}],
            ExpiresIn=expires_in,
        )
        return UploadTicket(
            method="POST",
            url=post["url"],
            fields={name: str(value) for name, value in post["fields"].items()},
            expires_in=expires_in,
        )

    async def start_multipart(self, key: str, *, content_type: str) -> str:
        check_content_type(content_type)
        response = await self._run(
            "start multipart upload",
            self._client.create_multipart_upload,
            Bucket=self.bucket,
            Key=key,
            ContentType=content_type,
        )
        return response["UploadId"]

    async def presign_part(
        self, key: str, upload_id: str, part_number: int, *, part_size: int, expires_in: int
    ) -> PartTicket:
        if not 1 <= part_number <= MAX_PARTS:
            raise StoreError(f"part_number must be 1 to {MAX_PARTS}")
        if not 1 <= part_size <= MAX_PART_SIZE:
            raise StoreError(f"part_size must be 1 to {MAX_PART_SIZE}")
        # Content-Length is a signed header of the URL (X-Amz-SignedHeaders=content-length;host),
        # so S3 refuses a body of any other length with SignatureDoesNotMatch: the part URL
        # is for exactly part_size bytes. Seen enforced by SeaweedFS 4.48 too (403 for a
        # larger and for a smaller body). Clients need not set the header themselves: every
        # HTTP client, browsers included, sends the body's length.
        # https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
        url = await self._run(
            "presign part",
            self._public.generate_presigned_url,
            ClientMethod="upload_part",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "UploadId": upload_id,
                "PartNumber": part_number,
                "ContentLength": part_size,
            },
            ExpiresIn=expires_in,
        )
        return PartTicket(part_number=part_number, url=url)

    async def complete_multipart(self, key: str, upload_id: str, parts: list[tuple[int, str]]) -> ObjectInfo:
        # S3 wants the parts in ascending order (InvalidPartOrder otherwise).
        ordered = sorted(parts)
        if not ordered or len({n for n, _ in ordered}) != len(ordered):
            raise StoreError("parts must be a non-empty list of distinct part numbers")
        await self._run(
            "complete multipart upload",
            self._client.complete_multipart_upload,
            Bucket=self.bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in ordered]},
        )
        info = await self.stat(key)
        if info is None:
            raise StoreError("S3 complete multipart upload failed: the object is missing afterwards")
        return info

    async def move(self, src: str, dst: str) -> ObjectInfo:
        # A server-side copy (no bytes through us), then the source goes. CopyObject handles
        # objects up to 5 GB, far above the recording cap.
        # https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html
        await self._run(
            "move",
            self._client.copy_object,
            Bucket=self.bucket,
            Key=dst,
            CopySource={"Bucket": self.bucket, "Key": src},
            MetadataDirective="COPY",
        )
        await self.delete(src)
        info = await self.stat(dst)
        if info is None:
            raise StoreError("S3 move failed: the object is missing afterwards")
        return info

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        try:
            await anyio.to_thread.run_sync(
                functools.partial(
                    self._client.abort_multipart_upload, Bucket=self.bucket, Key=key, UploadId=upload_id
                )
            )
        except ClientError as exc:
            if _code(exc) == "NoSuchUpload":
                return  # already aborted or completed: nothing left to clean up
            raise StoreError(f"S3 abort multipart upload failed: {_code(exc)}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"S3 abort multipart upload failed: {exc}") from exc

    async def stat(self, key: str) -> ObjectInfo | None:
        try:
            head = await anyio.to_thread.run_sync(
                functools.partial(self._client.head_object, Bucket=self.bucket, Key=key)
            )
        except ClientError as exc:
            if _code(exc) in _NOT_FOUND:
                return None
            raise StoreError(f"S3 stat failed: {_code(exc)}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"S3 stat failed: {exc}") from exc
        return ObjectInfo(size=head["ContentLength"], etag=head.get("ETag"))

    async def read_head(self, key: str, length: int) -> bytes:
        if length <= 0:
            return b""

        def read() -> bytes:
            try:
                response = self._client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{length - 1}")
            except ClientError as exc:
                if _code(exc) == "InvalidRange":
                    return b""  # an empty object has no byte 0
                raise
            with response["Body"] as body:
                return body.read()

        return await self._run("read", read)

    async def iter_bytes(self, key: str, chunk_size: int = 1024 * 1024) -> AsyncIterator[bytes]:
        response = await self._run("read", self._client.get_object, Bucket=self.bucket, Key=key)
        body = response["Body"]
        try:
            while True:
                try:
                    chunk = await anyio.to_thread.run_sync(body.read, chunk_size)
                except BotoCoreError as exc:
                    raise StoreError(f"S3 read failed: {exc}") from exc
                if not chunk:
                    return
                yield chunk
        finally:
            body.close()

    async def put_file(self, key: str, path: Path, *, content_type: str) -> ObjectInfo:
        check_content_type(content_type)
        await self._run(
            "upload",
            self._client.upload_file,
            Filename=str(path),
            Bucket=self.bucket,
            Key=key,
            ExtraArgs={"ContentType": content_type},
            Config=_TRANSFER,
        )
        info = await self.stat(key)
        if info is None:
            raise StoreError("S3 upload failed: the object is missing afterwards")
        return info

    async def delete(self, key: str) -> None:
        await self._run("delete", self._client.delete_object, Bucket=self.bucket, Key=key)

    async def download_url(self, key: str, *, filename: str, content_type: str, expires_in: int) -> str:
        # S3 answers with these response-* overrides, so the browser saves the file instead
        # of rendering it, whatever type it was uploaded with.
        # https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_RequestSyntax
        return await self._run(
            "presign download",
            self._public.generate_presigned_url,
            ClientMethod="get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentDisposition": attachment_disposition(filename),
                "ResponseContentType": safe_download_type(content_type),
            },
            ExpiresIn=expires_in,
        )

    async def check(self) -> None:
        await self._run("check", self._client.head_bucket, Bucket=self.bucket)

    async def ensure_bucket(self, cors_origins: list[str]) -> None:
        """Create the bucket if missing, and let browsers on ``cors_origins`` upload to it.

        Browsers read each part's ETag from the PUT response to complete a multipart upload,
        which they may only do when the CORS rule exposes it.
        https://docs.aws.amazon.com/AmazonS3/latest/userguide/ManageCorsUsing.html
        """
        try:
            await anyio.to_thread.run_sync(functools.partial(self._client.head_bucket, Bucket=self.bucket))
        except ClientError as exc:
            if _code(exc) not in _NOT_FOUND:
                raise StoreError(f"S3 check bucket failed: {_code(exc)}") from exc
            await self._create_bucket()
        except BotoCoreError as exc:
            raise StoreError(f"S3 check bucket failed: {exc}") from exc
        if not cors_origins:
            return
        rule: CORSRuleTypeDef = {
            "AllowedOrigins": list(cors_origins),
            "AllowedMethods": ["POST", "PUT"],
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": 3600,
        }
        await self._run(
            "set bucket CORS",
            self._client.put_bucket_cors,
            Bucket=self.bucket,
            CORSConfiguration={"CORSRules": [rule]},
        )

    async def _create_bucket(self) -> None:
        region = self._client.meta.region_name
        kwargs: dict[str, Any] = {"Bucket": self.bucket}
        if region and region != "us-east-1":
            # Outside us-east-1 AWS wants the region named again; us-east-1 refuses it.
            # https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            await anyio.to_thread.run_sync(functools.partial(self._client.create_bucket, **kwargs))
        except ClientError as exc:
            if _code(exc) == "BucketAlreadyOwnedByYou":
                return  # created meanwhile by another instance of Bugline
            raise StoreError(f"S3 create bucket failed: {_code(exc)}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"S3 create bucket failed: {exc}") from exc


def _code(exc: ClientError) -> str:
    """S3's error code (``NoSuchKey``), or the HTTP status for bodiless answers such as HEAD's."""
    code = exc.response.get("Error", {}).get("Code")
    return str(code or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "error"))
