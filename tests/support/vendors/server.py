"""A fake SaaS vendor on 127.0.0.1: checks every request against the vendor's spec, records it,
and misbehaves on cue.

A vendor module (tests/support/vendors/<vendor>.py) subclasses FakeVendor, gives it the spec
validator and its routes (plain Starlette endpoints), and keeps whatever state it needs:

    class FakeGitHub(FakeVendor):
        def __init__(self) -> None:
            super().__init__(SpecValidator(spec_path("github")))
            self.issues: dict[int, dict[str, Any]] = {}

        def routes(self) -> list[BaseRoute]:
            return [Route("/repos/{owner}/{repo}/issues", self.create_issue, methods=["POST"])]

        async def create_issue(self, request: Request) -> Response:
            number = len(self.issues) + 1
            self.issues[number] = {"number": number, **await request.json()}
            return JSONResponse(self.issues[number], status_code=201)

    with FakeGitHub() as github:                        # sync or async tests alike
        github.script(Fault.status(429, headers={"Retry-After": "7"}))
        ... point the connector at github.url ...
        assert github.invalid == []                     # no request broke the spec
        assert [r.path for r in github.requests] == ["/repos/o/r/issues"]

Without a subclass: ``FakeVendor(validator, routes=[...])``. Validation and faults happen
before the routes see a request:

- every request is recorded in ``.requests`` (method, path, query, headers, body, validation
  errors, the fault applied, the status answered);
- a scripted fault (``.script(...)``), if one is queued for it, answers instead of the routes;
  otherwise, with ``.fail_rate`` > 0, a seeded random draw may answer with one of ``.fail_with``;
- a request that breaks the spec is answered by ``invalid_response`` (400 with the messages as
  JSON unless the vendor module overrides it to look like the vendor) and listed in ``.invalid``;
- paths under one of ``unchecked`` (e.g. a presigned upload URL that is not part of the API) skip
  validation; ``validator=None`` skips it everywhere (Freshdesk has no spec).

Also: ``.to(method, path)`` filters ``.requests``; ``.wait(n, method, path)`` (sync) and
``await .arrival(n, method, path)`` (async) block until requests made elsewhere (the outbox, a
worker process) arrived; ``.crashes`` lists requests whose route raised (a bug in the fake: 500).

Faults: ``Fault.status(code, headers=..., body=...)``, ``Fault.hang(seconds)``,
``Fault.malformed()``, ``Fault.drop()``. ``hang`` and ``drop`` take ``process=True`` to let the
vendor do the work first and then lose the answer (an interrupted attempt whose ticket exists).
``fault.on("POST", "/api/v2/tickets")`` makes a fault wait for a matching request (fnmatch path).

Separate process (benchmarks, worker-crash tests):

    python -m tests.support.vendors.server tests.support.vendors.github:FakeGitHub --port 8123

prints ``READY http://127.0.0.1:8123`` and serves until killed; ``RemoteVendor(url)`` then reads
its ``.requests`` and queues faults over HTTP (``/__fake__/...``, never recorded or validated).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import dataclasses
import fnmatch
import importlib
import json
import random
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol, Self

import anyio
import anyio.to_thread
import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import Headers, QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.support.vendors.openapi import Headers as HeaderInput
from tests.support.vendors.openapi import Query

ADMIN = "/__fake__/"
RECORD = "fake.record"  # scope key: the Recorded of the request a route is serving


class Validator(Protocol):
    """What FakeVendor needs from a validator (SpecValidator and GraphQLValidator both fit)."""

    def validate(
        self,
        method: str,
        path: str,
        query: Query = None,
        headers: HeaderInput = None,
        body: bytes = b"",
        content_type: str | None = None,
    ) -> list[str]: ...


@dataclass(frozen=True)
class Fault:
    """One way the vendor misbehaves for one request. Build with the class methods."""

    kind: str  # status | hang | malformed | drop
    code: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    content_type: str = "application/json"
    seconds: float = 0.0
    process: bool = False
    method: str | None = None
    path: str | None = None

    @classmethod
    def status(
        cls, code: int, headers: dict[str, str] | None = None, body: bytes | dict[str, Any] | None = None
    ) -> Fault:
        """Answer ``code`` (e.g. 429 with ``{"Retry-After": "7"}``, 500, 401) instead of the vendor."""
        if body is None:
            body = {"error": f"fake vendor: scripted {code}"}
        raw = json.dumps(body).encode() if isinstance(body, dict) else body
        return cls("status", code=code, headers=tuple((headers or {}).items()), body=raw)

    @classmethod
    def hang(cls, seconds: float, process: bool = False) -> Fault:
        """Hold the answer ``seconds`` (then 504); ``process=True`` lets the vendor act first."""
        return cls("hang", seconds=seconds, process=process)

    @classmethod
    def malformed(
        cls, body: bytes = b'{"ticket": {"id": 1, "url": ', content_type: str = "application/json"
    ) -> Fault:
        """200 with a body that is not JSON although it says so (a truncated answer by default)."""
        return cls("malformed", body=body, content_type=content_type)

    @classmethod
    def drop(cls, process: bool = False) -> Fault:
        """Close the connection without an answer; ``process=True`` lets the vendor act first."""
        return cls("drop", process=process)

    def on(self, method: str, path: str = "*") -> Fault:
        """This fault, kept for the first request with this method and path (an fnmatch pattern)."""
        return dataclasses.replace(self, method=method.upper(), path=path)

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.path is None or fnmatch.fnmatchcase(path, self.path)

    def describe(self) -> str:
        if self.kind == "status":
            return f"status {self.code}"
        if self.kind == "hang":
            return f"hang {self.seconds:g}s" + (" after processing" if self.process else "")
        return self.kind + (" after processing" if self.process else "")

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["body"] = base64.b64encode(self.body).decode()
        data["headers"] = [list(pair) for pair in self.headers]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        data = dict(data)
        data["body"] = base64.b64decode(data.get("body", ""))
        data["headers"] = tuple(tuple(pair) for pair in data.get("headers", ()))
        return cls(**data)


@dataclass
class Recorded:
    """One request the vendor received, with what the harness made of it."""

    method: str
    path: str
    query: QueryParams
    headers: Headers
    body: bytes
    errors: list[str]
    fault: str | None = None
    status: int | None = None  # what was answered; None when nothing was (drop, hang cut short)
    crash: str | None = None  # the exception a vendor route raised (answered 500), if any
    at: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    def to_json(self) -> dict[str, Any]:
        try:
            text: str | None = self.body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        return {
            "method": self.method,
            "path": self.path,
            "query": list(self.query.multi_items()),
            "headers": list(self.headers.items()),
            "body": text,
            "body_base64": base64.b64encode(self.body).decode() if text is None else None,
            "errors": self.errors,
            "fault": self.fault,
            "status": self.status,
            "crash": self.crash,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Recorded:
        body = data["body"].encode() if data["body"] is not None else base64.b64decode(data["body_base64"])
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in data["headers"]]
        return cls(
            data["method"],
            data["path"],
            QueryParams(data["query"]),
            Headers(raw=raw),
            body,
            list(data["errors"]),
            data["fault"],
            data["status"],
            crash=data.get("crash"),
        )


class FakeVendor:
    """A vendor's API on 127.0.0.1:<free port>, in a background thread (see the module doc)."""

    name = "vendor"

    def __init__(
        self,
        validator: Validator | None = None,
        routes: Sequence[BaseRoute] = (),
        *,
        unchecked: Sequence[str] = (),
        seed: int = 0,
    ) -> None:
        self.validator = validator
        self.unchecked = tuple(unchecked)
        self.fail_rate = 0.0
        self.fail_with: tuple[Fault, ...] = (
            Fault.status(500),
            Fault.status(503),
            Fault.status(429, headers={"Retry-After": "1"}),
        )
        self._routes = list(routes)
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._requests: list[Recorded] = []
        self._faults: list[Fault] = []
        self._app: ASGIApp | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._port: int | None = None

    # -- hooks for vendor modules -----------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        """The vendor's endpoints; subclasses override (the default is the ``routes`` argument)."""
        return list(self._routes)

    def invalid_response(self, errors: list[str]) -> Response:
        """How the vendor refuses a request that breaks its spec; override to look like the vendor."""
        return JSONResponse(
            {"error": "invalid request (fake vendor: spec validation)", "errors": errors}, 400
        )

    # -- what tests use ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._port is None:
            raise RuntimeError(f"fake {self.name} is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    @property
    def invalid(self) -> list[Recorded]:
        """Requests that broke the spec (tests assert this is empty)."""
        return [r for r in self.requests if r.errors]

    @property
    def crashes(self) -> list[Recorded]:
        """Requests whose vendor route raised (a bug in the fake, answered 500); should be empty."""
        return [r for r in self.requests if r.crash]

    def errors(self) -> list[str]:
        """Every validation message so far, flat: handy as ``assert vendor.errors() == []``."""
        return [e for r in self.requests for e in r.errors]

    def to(self, method: str, path: str = "*") -> list[Recorded]:
        """The recorded requests with this method and path (an fnmatch pattern)."""
        return self._matching(method, path)

    def wait(self, count: int, method: str = "*", path: str = "*", timeout: float = 10.0) -> list[Recorded]:
        """Block until ``count`` requests with this method and path arrived; AssertionError on timeout.

        For sync tests whose code under test runs elsewhere (a worker process, another thread).
        Async tests use ``await vendor.arrival(...)`` so that their own event loop keeps running.
        """
        deadline = time.monotonic() + timeout
        while True:
            seen = self._matching(method, path)
            if len(seen) >= count:
                return seen
            if time.monotonic() > deadline:
                raise AssertionError(self._timeout_message(count, method, path, timeout))
            time.sleep(0.02)

    async def arrival(
        self, count: int, method: str = "*", path: str = "*", timeout: float = 10.0
    ) -> list[Recorded]:
        """``wait`` for async tests: sleeps on the caller's event loop between looks."""
        deadline = time.monotonic() + timeout
        while True:
            seen = self._matching(method, path)
            if len(seen) >= count:
                return seen
            if time.monotonic() > deadline:
                raise AssertionError(self._timeout_message(count, method, path, timeout))
            await anyio.sleep(0.02)

    def _matching(self, method: str, path: str) -> list[Recorded]:
        return [
            r
            for r in self.requests
            if fnmatch.fnmatchcase(r.method, method.upper()) and fnmatch.fnmatchcase(r.path, path)
        ]

    def _timeout_message(self, count: int, method: str, path: str, timeout: float) -> str:
        seen = [f"{r.method} {r.path} -> {r.status}" for r in self.requests]
        return f"fake {self.name}: expected {count} x {method} {path} within {timeout:g}s; got {seen}"

    def script(self, *faults: Fault) -> None:
        """Queue faults: each one answers the next request it matches, in order."""
        with self._lock:
            self._faults.extend(faults)

    @property
    def pending(self) -> list[Fault]:
        """Scripted faults not used yet."""
        with self._lock:
            return list(self._faults)

    def reset(self) -> None:
        """Forget recorded requests and queued faults (vendor state is the subclass's business)."""
        with self._lock:
            self._requests.clear()
            self._faults.clear()

    def seed(self, value: int) -> None:
        """Restart the random failure draws from ``value``."""
        with self._lock:
            self._random = random.Random(value)

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self, port: int = 0) -> Self:
        """Serve in a daemon thread; returns once the port accepts connections."""
        if self._thread is not None:
            raise RuntimeError(f"fake {self.name} already started")
        sock = _listen(port)
        self._port = sock.getsockname()[1]
        self._stopping.clear()
        self._server = uvicorn.Server(self._config())
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name=f"fake-{self.name}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"fake {self.name} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving; hanging requests are cut short. Safe to call twice."""
        if self._server is None or self._thread is None:
            return
        self._stopping.set()
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def serve(self, port: int) -> None:
        """Serve in the foreground (the separate-process mode); returns when interrupted."""
        sock = _listen(port)
        self._port = sock.getsockname()[1]
        server = uvicorn.Server(self._config())
        self._server = server

        async def announce() -> None:
            while not server.started:
                await asyncio.sleep(0.01)
            print(f"READY {self.url}", flush=True)

        async def main() -> None:
            task = asyncio.create_task(announce())
            await server.serve(sockets=[sock])
            task.cancel()

        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(main())

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return await anyio.to_thread.run_sync(self.start)

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await anyio.to_thread.run_sync(self.stop)

    def _config(self) -> uvicorn.Config:
        return uvicorn.Config(
            self.asgi,
            log_level="warning",
            lifespan="off",
            loop="asyncio",
            interface="asgi3",
            access_log=False,
            timeout_graceful_shutdown=2,
        )

    # -- the ASGI side ----------------------------------------------------------------------------

    @property
    def app(self) -> ASGIApp:
        if self._app is None:
            self._app = Starlette(routes=self.routes(), exception_handlers={Exception: self._crashed})
        return self._app

    async def _crashed(self, request: Request, exc: Exception) -> Response:
        # A bug in the fake itself. Note it on the request before the 500 leaves, so a test that
        # reads `.crashes` right after its call sees it (Starlette still re-raises for the log).
        record = request.scope.get(RECORD)
        if isinstance(record, Recorded):
            record.crash = f"{type(exc).__name__}: {exc}"
        return JSONResponse({"error": f"fake {self.name} crashed: {type(exc).__name__}"}, 500)

    async def asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(ADMIN):
            await self._admin(scope, receive, send)
            return
        body = await _read_body(receive)
        record = self._record(scope, body)
        fault = self._fault_for(record.method, path)
        record.fault = None if fault is None else fault.describe()
        replay = _replay(body, receive)

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = int(message["status"])
            await send(message)

        if fault is not None:
            await self._misbehave(fault, scope, replay, recording_send, receive)
        elif record.errors:
            await self.invalid_response(record.errors)(scope, replay, recording_send)
        else:
            scope = {**scope, RECORD: record}
            await self.app(scope, replay, recording_send)

    def _record(self, scope: Scope, body: bytes) -> Recorded:
        headers = Headers(scope=scope)
        query = QueryParams(scope.get("query_string", b"").decode("latin-1"))
        method: str = scope["method"]
        path: str = scope["path"]
        errors: list[str] = []
        if self.validator is not None and not any(path.startswith(p) for p in self.unchecked):
            try:
                errors = self.validator.validate(
                    method,
                    path,
                    list(query.multi_items()),
                    list(headers.items()),
                    body,
                    headers.get("content-type"),
                )
            except Exception as exc:  # a validator bug must show up as a failed request, not a hang
                errors = [f"{method} {path}: validator crashed: {exc!r}"]
        record = Recorded(method, path, query, headers, body, errors)
        with self._lock:
            self._requests.append(record)
        return record

    def _fault_for(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.matches(method, path):
                    return self._faults.pop(index)
            if self.fail_rate > 0 and self.fail_with and self._random.random() < self.fail_rate:
                return self._random.choice(self.fail_with)
        return None

    async def _misbehave(
        self, fault: Fault, scope: Scope, receive: Receive, send: Send, raw_receive: Receive
    ) -> None:
        if fault.kind == "status":
            headers = [(b"content-type", b"application/json")]
            headers += [(k.lower().encode(), v.encode()) for k, v in fault.headers]
            await _answer(send, fault.code, headers, fault.body)
        elif fault.kind == "malformed":
            await _answer(send, fault.code, [(b"content-type", fault.content_type.encode())], fault.body)
        elif fault.kind == "hang":
            held: list[Message] = []
            if fault.process:
                await self.app(scope, receive, _collect(held))
            await self._sleep(fault.seconds)  # cut short by stop(); the answer then goes nowhere
            if held:
                for message in held:
                    await send(message)
            else:
                await _answer(
                    send, 504, [(b"content-type", b"application/json")], b'{"error": "fake vendor: hang"}'
                )
        elif fault.kind == "drop":
            if fault.process:
                await self.app(scope, receive, _collect([]))
            await _drop(send, raw_receive)
        else:
            raise ValueError(f"unknown fault kind {fault.kind!r}")

    async def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stopping.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

    async def _admin(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        action = scope["path"][len(ADMIN) :]
        response: Response
        if action == "requests" and request.method == "GET":
            response = JSONResponse([r.to_json() for r in self.requests])
        elif action == "script" and request.method == "POST":
            self.script(*(Fault.from_json(item) for item in await request.json()))
            response = JSONResponse({"pending": len(self.pending)})
        elif action == "fail_rate" and request.method == "POST":
            data = await request.json()
            self.fail_rate = float(data["rate"])
            if "seed" in data:
                self.seed(int(data["seed"]))
            response = JSONResponse({"rate": self.fail_rate})
        elif action == "reset" and request.method == "POST":
            self.reset()
            response = JSONResponse({})
        else:
            response = JSONResponse({"error": f"unknown admin call {request.method} {action}"}, 404)
        await response(scope, receive, send)


class RemoteVendor:
    """Talks to a FakeVendor running in another process (``python -m tests.support.vendors.server``)."""

    name = "remote vendor"

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    @property
    def requests(self) -> list[Recorded]:
        answer = httpx.get(f"{self.url}{ADMIN}requests", timeout=10)
        answer.raise_for_status()
        return [Recorded.from_json(item) for item in answer.json()]

    @property
    def invalid(self) -> list[Recorded]:
        return [r for r in self.requests if r.errors]

    def wait(self, count: int, method: str = "*", path: str = "*", timeout: float = 10.0) -> list[Recorded]:
        """Block until ``count`` requests with this method and path arrived; AssertionError on timeout.

        For sync tests whose code under test runs elsewhere (a worker process, another thread).
        Async tests use ``await vendor.arrival(...)`` so that their own event loop keeps running.
        """
        deadline = time.monotonic() + timeout
        while True:
            seen = self._matching(method, path)
            if len(seen) >= count:
                return seen
            if time.monotonic() > deadline:
                raise AssertionError(self._timeout_message(count, method, path, timeout))
            time.sleep(0.02)

    async def arrival(
        self, count: int, method: str = "*", path: str = "*", timeout: float = 10.0
    ) -> list[Recorded]:
        """``wait`` for async tests: sleeps on the caller's event loop between looks."""
        deadline = time.monotonic() + timeout
        while True:
            seen = self._matching(method, path)
            if len(seen) >= count:
                return seen
            if time.monotonic() > deadline:
                raise AssertionError(self._timeout_message(count, method, path, timeout))
            await anyio.sleep(0.02)

    def _matching(self, method: str, path: str) -> list[Recorded]:
        return [
            r
            for r in self.requests
            if fnmatch.fnmatchcase(r.method, method.upper()) and fnmatch.fnmatchcase(r.path, path)
        ]

    def _timeout_message(self, count: int, method: str, path: str, timeout: float) -> str:
        seen = [f"{r.method} {r.path} -> {r.status}" for r in self.requests]
        return f"fake {self.name}: expected {count} x {method} {path} within {timeout:g}s; got {seen}"

    def script(self, *faults: Fault) -> None:
        httpx.post(
            f"{self.url}{ADMIN}script", json=[f.to_json() for f in faults], timeout=10
        ).raise_for_status()

    def set_fail_rate(self, rate: float, seed: int | None = None) -> None:
        data: dict[str, Any] = {"rate": rate} if seed is None else {"rate": rate, "seed": seed}
        httpx.post(f"{self.url}{ADMIN}fail_rate", json=data, timeout=10).raise_for_status()

    def reset(self) -> None:
        httpx.post(f"{self.url}{ADMIN}reset", timeout=10).raise_for_status()


# -- helpers --------------------------------------------------------------------------------------


def _listen(port: int) -> socket.socket:
    # proto=IPPROTO_TCP, not 0: asyncio only sets TCP_NODELAY on accepted sockets whose proto says
    # TCP, and without it every answer waits ~40 ms for the client's delayed ACK (Nagle).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _collect(into: list[Message]) -> Send:
    async def collect(message: Message) -> None:
        into.append(message)

    return collect


async def _answer(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _drop(send: Send, receive: Receive) -> None:
    """Close the TCP connection with no answer at all (the client sees "server disconnected")."""
    # uvicorn's receive is a bound method of its per-request cycle, which holds the transport.
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    if transport is not None and hasattr(transport, "abort"):
        transport.abort()
        # Wait for uvicorn to notice, so it does not log "returned without starting response".
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1):
                while (await receive())["type"] != "http.disconnect":
                    pass
        return
    # Fallback: promise a body and never send it; uvicorn closes the connection on the error.
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1000")]})
    raise ConnectionAbortedError("fake vendor: scripted drop")


def load(target: str) -> Callable[[], FakeVendor]:
    """``"package.module:Name"`` -> the factory (a FakeVendor subclass or a function returning one)."""
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    if attribute:
        factory: Callable[[], FakeVendor] = getattr(module, attribute)
        return factory
    found = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, FakeVendor)
        and value is not FakeVendor
        and value.__module__ == module.__name__
    ]
    if len(found) != 1:
        raise SystemExit(
            f"{module_name}: name the vendor class as {module_name}:<Class> ({len(found)} candidates)"
        )
    return found[0]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run one fake vendor in the foreground.")
    parser.add_argument("target", help="module[:factory], e.g. tests.support.vendors.github:FakeGitHub")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = any free one)")
    parser.add_argument("--fail-rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    vendor = load(args.target)()
    vendor.fail_rate = args.fail_rate
    vendor.seed(args.seed)
    vendor.serve(args.port)


if __name__ == "__main__":
    main(sys.argv[1:])
