"""Schemathesis against /openapi.json, in process: generated requests go through httpx into the
ASGI app on the test's own event loop (the app's database pools belong to that loop), and
each answer is checked against the document.

Hypothesis only *generates* here (a sync ``@given`` collecting cases); the requests are sent
afterwards, so a failure names the request as a curl command instead of a shrunk example.
``SOAK_LONG=1`` (``make soak``; not a BUGLINE_ name, which Settings would refuse) raises the number of examples per operation.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import PUBLIC_URL

SOAK = os.environ.get("SOAK_LONG") == "1"
# Examples per operation and per kind of run (aimed, negative aimed, wild).
EXAMPLES = int(os.environ.get("BUGLINE_FUZZ_EXAMPLES", "25" if SOAK else "2"))

# What any answer must be: no 5xx, a documented status, a documented content type, a body and
# headers matching the schema.
ALWAYS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@dataclass(frozen=True)
class Run:
    """One way of generating: which data, and which values are held fixed (real ids, tokens)."""

    name: str
    mode: GenerationMode
    aimed: bool  # real ids and credentials, so the request reaches the handler's logic


RUNS = (
    Run("aimed", GenerationMode.POSITIVE, aimed=True),
    Run("aimed-negative", GenerationMode.NEGATIVE, aimed=True),
    Run("wild-negative", GenerationMode.NEGATIVE, aimed=False),
)


@dataclass
class Known:
    """Real values a generated request may use: a report, its token and attachment, a connector."""

    path: dict[str, str]
    headers: dict[str, str]  # by the header's name as documented
    bearer: str
    project_key: str
    hook_id: str  # /hooks/{connector_id} takes the connector's id, the agent API its name


@dataclass
class Tally:
    sent: int = 0
    unsendable: int = 0  # a header no HTTP client can put on the wire (CR/LF, leading space)
    statuses: Counter[int] = field(default_factory=Counter)
    by_operation: dict[str, Counter[int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def load(doc: dict[str, Any]) -> Any:
    return schemathesis.openapi.from_dict(doc)


def operations(schema: Any) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


def declared(operation: Any, location: str) -> set[str]:
    params = operation.definition.raw.get("parameters", [])
    return {p["name"] for p in params if p.get("in") == location}


def secured_by(operation: Any) -> set[str]:
    return {name for requirement in operation.definition.raw.get("security", []) for name in requirement}


def fixed_for(operation: Any, known: Known) -> tuple[dict[str, str], dict[str, str]]:
    path = {k: v for k, v in known.path.items() if k in declared(operation, "path")}
    if operation.path.startswith("/hooks/"):
        path["connector_id"] = known.hook_id
    headers = {k: v for k, v in known.headers.items() if k in declared(operation, "header")}
    if "apiToken" in secured_by(operation):
        headers["Authorization"] = f"Bearer {known.bearer}"
    if "projectKey" in secured_by(operation):
        headers["X-Bugline-Key"] = known.project_key
    return path, headers


def generate(operation: Any, run: Run, known: Known, examples: int) -> list[Any]:
    kwargs: dict[str, Any] = {"generation_mode": run.mode}
    if run.aimed:
        path, headers = fixed_for(operation, known)
        kwargs |= {"path_parameters": path or None, "headers": headers or None}
    cases: list[Any] = []

    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=not SOAK,  # the short form tries the same requests every time
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    @given(operation.as_strategy(**kwargs))
    def collect(case: Any) -> None:
        cases.append(case)

    try:
        collect()
    except Unsatisfiable:  # every generated value was filtered out (e.g. a path template no value fits)
        return []
    return cases


def wire(case: Any) -> requests.PreparedRequest | None:
    """The request as a real client would put it on the wire (or None if none could)."""
    kwargs = case.as_transport_kwargs(base_url=PUBLIC_URL)
    kwargs.pop("cookies", None)
    try:
        return requests.Request(**kwargs).prepare()
    except (requests.exceptions.InvalidHeader, ValueError, UnicodeEncodeError):
        return None


def ip_of(n: int) -> str:
    """A different documentation-range address per request (only the ASGI scope sees it), so the
    per-IP limits for failed tokens do not turn most of a run into 429s."""
    return f"198.{18 + (n >> 16) % 2}.{(n >> 8) % 256}.{n % 256}"


async def send(client: httpx.AsyncClient, prepared: requests.PreparedRequest) -> httpx.Response:
    headers = [
        (k, v) for k, v in prepared.headers.items() if k.lower() not in ("connection", "content-length")
    ]
    body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
    return await client.request(str(prepared.method), str(prepared.url), headers=headers, content=body)


def refused(ctx: Any, response: Any, case: Any) -> bool | None:
    """Invalid data gets a 4xx. A 413 counts: the size cap answers before validation does,
    and the client learns what to fix all the same."""
    if response.status_code == 413 or empty_query_only(case) or lax_scalar_only(case):
        return None
    result: bool | None = negative_data_rejection(ctx, response, case)
    return result


def empty_query_only(case: Any) -> bool:
    """The only invalid part is a query parameter sent empty, which the API reads as not
    given (as HTML forms send an unset filter): ``?from=`` lists everything."""
    meta = case.meta
    negative = [loc for loc, c in meta.components.items() if c.mode.is_negative]
    if negative != [ParameterLocation.QUERY]:
        return False
    data = meta.phase.data
    names = (
        [data.parameter]
        if getattr(data, "parameter", None)
        else [m.parameter for m in getattr(data, "mutations", ()) if m.parameter]
    )
    return bool(names) and all(case.query.get(n) in ("", [""]) for n in names)


SCALARS = {"boolean", "integer", "number", "string"}


def lax_scalar_only(case: Any) -> bool:
    """Every change is a scalar given another scalar type (0 for false, "5" for 5): the API's
    models read what means the same (pydantic's lax mode) and refuse the rest, so an
    acceptance here is the same request as a valid one."""
    mutations = getattr(case.meta.phase.data, "mutations", ())
    return bool(mutations) and all(
        tuple(m.keywords) == ("type",) and m.original_value in SCALARS - {"string"} and m.new_value in SCALARS
        for m in mutations
    )


def check(case: Any, response: httpx.Response, checks: list[Callable[..., Any]]) -> str | None:
    try:
        case.validate_response(response, checks=checks)
    except (Exception, BaseExceptionGroup) as exc:  # FailureGroup: the message names the request
        text = str(exc)
        return f"{case.operation.label}: {text[:3000]}{' [...]' if len(text) > 3000 else ''}"
    return None


def negatable(operation: Any, run: Run, known: Known) -> bool:
    """Something left to make invalid: a parameter not held fixed, or a body."""
    if "requestBody" in operation.definition.raw:
        return True
    names = {p["name"] for p in operation.definition.raw.get("parameters", [])}
    if run.aimed:
        path, headers = fixed_for(operation, known)
        names -= set(path) | set(headers)
    return bool(names)


async def fuzz(
    app: Any,
    doc: dict[str, Any],
    known: Known,
    *,
    examples: int = EXAMPLES,
    only: Callable[[Any], bool] = lambda op: True,
) -> Tally:
    tally = Tally()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL, timeout=60) as client:
        for operation in operations(load(doc)):
            if not only(operation):
                continue
            for run in RUNS:
                negative = run.mode is GenerationMode.NEGATIVE
                if negative and not negatable(operation, run, known):
                    continue
                checks = ALWAYS + ([refused] if negative else [])
                for case in generate(operation, run, known, examples):
                    prepared = wire(case)
                    if prepared is None:
                        tally.unsendable += 1
                        continue
                    transport.client = (ip_of(tally.sent), 50_000)
                    response = await send(client, prepared)
                    tally.sent += 1
                    tally.statuses[response.status_code] += 1
                    tally.by_operation.setdefault(operation.label, Counter())[response.status_code] += 1
                    problem = check(case, response, checks)
                    if problem:
                        tally.failures.append(f"[{run.name}] {problem}")
    return tally
