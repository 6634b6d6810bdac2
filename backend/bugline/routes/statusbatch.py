"""POST /api/v1/status/batch: the widget's "My reports", the public view of up to 20 reports in one
request, each by the status token this browser got when it sent the report.

One request instead of one GET per report: the per-IP limit (30 a minute by default) is shared
with sending reports, and twenty GETs each time the list opens would use it up. The project's
key and the page's origin are checked like every widget call, and a token only finds a report
of that project. Tokens that find nothing are left out of the answer, without saying why: the
answer tells no more than the tokens already do.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bugline.db.models import Report, ReportEvent
from bugline.notify import links
from bugline.routes.edge import app_state, json_body, require_project
from bugline.tokens import token_hash

MAX_TOKENS = 20
MAX_BODY = 4 * 1024  # 20 tokens of at most 100 characters, quoted, with room to spare
MAX_EVENTS = 50  # per report, the newest: a long-lived report's list stays small
MAX_NOTE = 2_000

# Status tokens are URL-safe base64 (tokens.status_token); the GET route takes 20-100 characters.
Token = Annotated[str, StringConstraints(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]


class StatusBatchIn(BaseModel):
    """The status tokens of the reports sent from this browser (at most 20)."""

    model_config = ConfigDict(extra="forbid")
    tokens: list[Token] = Field(max_length=MAX_TOKENS)


def timeline_entry(event: ReportEvent) -> dict[str, Any]:
    # Public events only, and of those only the status they show and the public note (the
    # team's, or the customer's own reopen comment), as the status page shows them
    # (bugline.pages.timeline): actors, sources, reasons, answers and anything else a caller
    # put in ``data`` stay inside.
    data = event.data if isinstance(event.data, dict) else {}
    out: dict[str, Any] = {"at": _iso(event.at), "kind": event.kind}
    status = data.get("to", data.get("status"))
    if isinstance(status, str):
        out["status"] = status
    note = data.get("note")
    if isinstance(note, str) and note.strip():
        out["note"] = note.strip()[:MAX_NOTE]
    return out


def _iso(at: datetime) -> str:
    return at.isoformat()


async def status_batch(request: Request) -> Response:
    project = await require_project(request)
    state = app_state(request)
    body, _ = await json_body(request, StatusBatchIn, MAX_BODY)
    tokens = list(dict.fromkeys(body.tokens))  # repeated tokens: answered once
    by_hash = {token_hash(t): t for t in tokens}
    answered: dict[str, dict[str, Any]] = {}
    if by_hash:
        async with state.readers() as session:
            mine = select(Report).where(
                Report.project_id == project.id, Report.status_token_hash.in_(list(by_hash))
            )
            reports = (await session.scalars(mine)).all()
            events: dict[str, list[ReportEvent]] = {r.id: [] for r in reports}
            if reports:
                rows = await session.execute(
                    select(ReportEvent)
                    .where(ReportEvent.report_id.in_(list(events)), ReportEvent.public.is_(True))
                    .order_by(ReportEvent.id)
                )
                for event in rows.scalars():
                    events[event.report_id].append(event)
        public_url = state.settings.effective_public_url
        for report in reports:
            token = by_hash[report.status_token_hash]
            answered[token] = {
                "token": token,
                "reference": f"#{report.number}",
                "number": report.number,
                "title": report.title or report.actual[:120],
                "status": str(report.status),
                "created_at": _iso(report.created_at),
                "updated_at": _iso(report.updated_at),
                # {public_url}/s/{token}, built where the mails and the pages build it.
                "page_url": links.token_url(public_url, token),
                "timeline": [timeline_entry(e) for e in events[report.id][-MAX_EVENTS:]],
            }
    return JSONResponse(
        {"reports": [answered[t] for t in tokens if t in answered]},  # in the order asked
        headers={"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"},
    )


routes = [Route("/api/v1/status/batch", status_batch, methods=["POST"])]
