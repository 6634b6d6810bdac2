"""The real django-helpdesk with its webhooks pointed at Bugline's hook URL.

The helpdesk takes its webhook URLs when it starts, so the URL is fixed for the session: a
port Bugline's test server will listen on while a test runs (``served``) and the id the test
gives its django-helpdesk connector. The helpdesk calls the URL synchronously inside its own
API calls, so tests make those calls from a thread while the app serves in the test's loop.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn

from tests.hooks.support import SECRET
from tests.support.helpdesk import Helpdesk, start_helpdesk
from tests.support.ports import free_port


@dataclass(frozen=True)
class HookedDesk:
    desk: Helpdesk
    port: int  # where Bugline must listen for the helpdesk to reach it
    connector_id: str  # the id the test's django-helpdesk connector must have


@pytest.fixture(scope="session")
def hooked_desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HookedDesk]:
    port, connector_id = free_port(), uuid.uuid4().hex
    url = f"http://127.0.0.1:{port}/hooks/{connector_id}?secret={SECRET}"
    desk = start_helpdesk(
        tmp_path_factory.mktemp("hooked-helpdesk"), new_ticket_webhooks=[url], followup_webhooks=[url]
    )
    try:
        yield HookedDesk(desk, port, connector_id)
    finally:
        desk.stop()


@asynccontextmanager
async def served(app: Any, port: int) -> AsyncIterator[None]:
    """The app over real HTTP on 127.0.0.1:port, in this event loop (its database engines
    belong to it); no lifespan, as in the in-process tests."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(400):
        if server.started or task.done():
            break
        await asyncio.sleep(0.025)
    assert server.started, "uvicorn did not start"
    try:
        yield
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)
