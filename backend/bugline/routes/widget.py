"""GET /widget/{name}: the embeddable widget's files, built by widget/build.mjs into static/widget/.

Host pages on any origin load them: the loader as a classic script, the chunks as ES modules
through ``import()``, which browsers fetch in CORS mode, hence ``Access-Control-Allow-Origin: *``
and ``Cross-Origin-Resource-Policy: cross-origin``. The files are public and carry no
credentials. ``chunk-<hash>.js`` names change with their content, so they are cached for a
year; everything else (loader.js, dialog.js, ...) for five minutes, revalidated by ETag.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bugline.errors import ApiError

STATIC = Path(__file__).resolve().parent.parent / "static" / "widget"
# Only plain file names the build writes: no slashes, no dots beyond the extension.
NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}\.(js|json)$")
TYPES = {"js": "text/javascript; charset=utf-8", "json": "application/json"}
SHORT = "public, max-age=300"
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True, slots=True)
class WidgetFile:
    body: bytes
    etag: str
    stamp: tuple[int, int]  # (mtime_ns, size): reload when a rebuild changes the file


_cache: dict[str, WidgetFile] = {}


def load(name: str) -> WidgetFile | None:
    path = STATIC / name
    try:
        st = path.stat()
    except OSError:
        return None
    stamp = (st.st_mtime_ns, st.st_size)
    cached = _cache.get(name)
    if cached is None or cached.stamp != stamp:
        body = path.read_bytes()
        cached = WidgetFile(body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"', stamp)
        _cache[name] = cached
    return cached


async def widget_file(request: Request) -> Response:
    name = request.path_params["name"]
    found = load(name) if NAME.match(name) else None
    if found is None:
        raise ApiError(404, "not_found", f"the widget has no file named {name[:80]!r}")
    headers = {
        "ETag": found.etag,
        "Cache-Control": IMMUTABLE if name.startswith("chunk-") else SHORT,
        "Access-Control-Allow-Origin": "*",
        "Cross-Origin-Resource-Policy": "cross-origin",
        "Vary": "Accept-Encoding",
    }
    if found.etag in (t.strip() for t in request.headers.get("if-none-match", "").split(",")):
        return Response(status_code=304, headers=headers)
    media_type = TYPES[name.rsplit(".", 1)[1]]
    body = b"" if request.method == "HEAD" else found.body
    response = Response(body, media_type=media_type, headers=headers)
    if request.method == "HEAD":
        response.headers["Content-Length"] = str(len(found.body))
    return response


routes = [Route("/widget/{name:str}", widget_file, methods=["GET", "HEAD"])]
