"""The agent API for erasure requests (GDPR Art. 17 and its like): a project admin erases a
reporter's personal data, and lists the record of what was erased.

    POST /api/v1/projects/{project_id}/erasures   {"subject": "ana@example.com"}   (admin)
    GET  /api/v1/projects/{project_id}/erasures                                    (admin)

The record holds the SHA-256 of the subject, never the address: it proves the request was
honoured without keeping what was erased.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bugline.db.models import Erasure
from bugline.retention import runner
from bugline.routes.agent import project_for
from bugline.routes.edge import app_state, json_body

MAX_BODY = 4 * 1024
LIST_LIMIT = 200


class ErasureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: str = Field(min_length=1, max_length=320, description="the reporter's email or host-app user id")


def _shown(e: Erasure) -> dict[str, object]:
    return {
        "id": e.id,
        "reason": e.reason,
        "subject_sha256": e.subject_hash,
        "requested_by": e.requested_by,
        "reports": e.reports,
        "files": e.files,
        "at": e.at.isoformat(),
    }


async def erasures(request: Request) -> Response:
    who, project = await project_for(request, "admin")
    state = app_state(request)
    if request.method == "GET":
        async with state.readers() as session:
            rows = (
                await session.execute(
                    select(Erasure)
                    .where(Erasure.project_id == project.id)
                    .order_by(Erasure.at.desc())
                    .limit(LIST_LIMIT)
                )
            ).scalars()
            return JSONResponse({"erasures": [_shown(e) for e in rows]})
    body, _ = await json_body(request, ErasureIn, MAX_BODY)
    erased = await runner.erase(state.writer, state.store, project.id, body.subject, requested_by=who.email)
    async with state.readers() as session:
        record = await session.get(Erasure, erased.erasure_id)
    assert record is not None
    return JSONResponse(_shown(record), status_code=201)


routes = [Route("/api/v1/projects/{project_id:str}/erasures", erasures, methods=["GET", "POST"])]
