"""CORS for the public API, decided per project: a page may call Bugline only from an origin
on its project's allowlist.

Preflights carry no custom headers, so the widget puts its key in the URL (``?key=``);
the preflight is then answered for that project alone. Actual responses get
``Access-Control-Allow-Origin`` only after the handler has checked the origin
(``check_origin`` marks it in the request state), so an error for a foreign origin
stays unreadable to that origin's scripts.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bugline.origins import origin_allowed
from bugline.state import AppState

ALLOW_HEADERS = "Content-Type, X-Bugline-Key, X-Bugline-Report-Token, Idempotency-Key"
EXPOSE_HEADERS = "Retry-After, Idempotent-Replayed, ETag"
MAX_AGE = "600"


class CorsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if scope["method"] == "OPTIONS" and origin and "access-control-request-method" in headers:
            await self.preflight(scope, origin, headers)(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                allowed = scope.get("state", {}).get("cors_origin")
                out = MutableHeaders(scope=message)
                out.add_vary_header("Origin")
                if allowed:
                    out["Access-Control-Allow-Origin"] = allowed
                    out["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def preflight(self, scope: Scope, origin: str, headers: Headers) -> ASGIApp:
        async def answer(scope: Scope, receive: Receive, send: Send) -> None:
            state: AppState = scope["app"].state.bugline
            key = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("key", [""])[0]
            path = scope["path"]
            project = await state.projects.get(state.readers, key) if key else None
            # A known project's allowlist decides. With no key or an unknown one there is
            # nothing to protect: the preflight passes so the browser can show the real
            # request's readable 401/403 instead of an opaque "CORS error".
            allowed = project is None or origin_allowed(origin, project.allowed_origins)
            method = headers.get("access-control-request-method", "")
            # PATCH: the widget adds the customer's words to a report created while recording.
            if not allowed or method not in ("POST", "GET", "PATCH") or not path.startswith("/api/v1/"):
                response: Response = JSONResponse(
                    {
                        "error": {
                            "code": "origin_not_allowed",
                            "message": f"{origin} may not call this API with this key",
                        }
                    },
                    status_code=403,
                    headers={"Vary": "Origin"},
                )
            else:
                response = Response(
                    status_code=204,
                    headers={
                        "Access-Control-Allow-Origin": origin,
                        "Access-Control-Allow-Methods": "GET, POST, PATCH",
                        "Access-Control-Allow-Headers": ALLOW_HEADERS,
                        "Access-Control-Max-Age": MAX_AGE,
                        "Vary": "Origin",
                    },
                )
            await response(scope, receive, send)

        return answer
