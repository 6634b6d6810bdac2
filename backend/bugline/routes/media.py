"""Upload and download endpoints for the embedded media store (LocalStore).

These URLs are signed by LocalStore; the signature is the whole capability, so uploads
need no session and any origin may use them (no cookies are involved). Bodies are
streamed to disk, never held in memory. With S3 configured these routes answer 404:
browsers then talk to S3 directly.
"""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from bugline.storage.local import (
    InvalidKey,
    LocalStore,
    SignatureExpired,
    SignatureInvalid,
    TooLarge,
    UploadNotFound,
    WrongSize,
    attachment_disposition,
    safe_download_type,
)

# Sent on every upload answer, errors included, so a browser script can read the ETag
# (needed to complete a multipart upload) and the error body.
_UPLOAD_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag",
}
# Nothing downloaded from here may run in Bugline's origin: attachments are saved, never
# sniffed or rendered, and if a browser rendered one anyway it would be sandboxed.
_DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "Cache-Control": "private, no-store",
}


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def _store(request: Request) -> LocalStore | None:
    store = getattr(request.app.state, "store", None)
    return store if isinstance(store, LocalStore) else None


def _media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


async def upload(request: Request) -> Response:
    store = _store(request)
    if store is None:
        return _error(404, "not_found", "uploads go to the configured S3 store", _UPLOAD_CORS)
    try:
        grant = store.verify_upload(request.query_params)
    except SignatureExpired:
        return _error(403, "url_expired", "this upload URL has expired; ask for a new one", _UPLOAD_CORS)
    except SignatureInvalid:
        return _error(403, "bad_signature", "this upload URL is not valid", _UPLOAD_CORS)
    if grant.content_type is not None and _media_type(request.headers.get("content-type")) != _media_type(
        grant.content_type
    ):
        return _error(
            415, "wrong_content_type", f"this URL is for Content-Type {grant.content_type}", _UPLOAD_CORS
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > grant.max_size:
        # Refuse before reading a byte; receive() counts anyway, for chunked bodies and liars.
        return _error(413, "too_large", f"the body is over {grant.max_size} bytes", _UPLOAD_CORS)
    try:
        etag = await store.receive(grant, request.stream())
    except TooLarge:
        return _error(413, "too_large", f"the body is over {grant.max_size} bytes", _UPLOAD_CORS)
    except WrongSize as exc:
        return _error(400, "wrong_size", str(exc), _UPLOAD_CORS)
    except UploadNotFound:
        return _error(404, "no_such_upload", "this multipart upload does not exist any more", _UPLOAD_CORS)
    except InvalidKey:
        return _error(400, "bad_key", "this upload URL names an invalid key", _UPLOAD_CORS)
    except ClientDisconnect:
        return _error(400, "incomplete", "the upload was interrupted; nothing was kept", _UPLOAD_CORS)
    return Response(status_code=200, headers={"ETag": etag, **_UPLOAD_CORS})


async def upload_preflight(request: Request) -> Response:
    """CORS preflight for the PUT: any origin, since the signed URL is the capability."""
    return Response(
        status_code=204,
        headers={
            **_UPLOAD_CORS,
            "Access-Control-Allow-Methods": "PUT",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": "600",
        },
    )


async def download(request: Request) -> Response:
    store = _store(request)
    if store is None:
        return _error(404, "not_found", "downloads come from the configured S3 store")
    try:
        grant = store.verify_download(request.query_params)
        path = store.path_for(grant.key)
    except SignatureExpired:
        return _error(403, "url_expired", "this download link has expired")
    except (SignatureInvalid, InvalidKey):
        return _error(403, "bad_signature", "this download link is not valid")
    if not path.is_file():
        return _error(404, "not_found", "this file does not exist any more")
    return FileResponse(
        path,
        # The type was allowlisted when signed; check again so no signed URL can ever
        # serve text/html or SVG from Bugline's origin.
        media_type=safe_download_type(grant.content_type),
        headers={"Content-Disposition": attachment_disposition(grant.filename), **_DOWNLOAD_HEADERS},
    )


routes: list[Route] = [
    Route("/media/upload", upload, methods=["PUT"]),
    Route("/media/upload", upload_preflight, methods=["OPTIONS"]),
    Route("/media/download", download, methods=["GET"]),
]
