"""The demo page `make run` points at: a fake host app with a bug-report form wired to the real API."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bugline.db.models import Project
from bugline.routes.edge import app_state

HERE = Path(__file__).resolve().parent.parent
templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
PAGE_CSP = "default-src 'self'; img-src 'self' data: blob:; connect-src *; frame-ancestors 'none'"


async def index(request: Request) -> Response:
    return RedirectResponse("/demo", status_code=302)


async def demo_page(request: Request) -> Response:
    state = app_state(request)
    async with state.sessions() as session:
        projects = (await session.execute(select(Project).order_by(Project.created_at))).scalars().all()
    project = next((p for p in projects if p.settings.get("demo")), None)
    html = templates.get_template("demo.html").render(
        project=project, public_url=state.settings.effective_public_url
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-store"})


routes = [
    Route("/", index, methods=["GET"]),
    Route("/demo", demo_page, methods=["GET"]),
    Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
]
