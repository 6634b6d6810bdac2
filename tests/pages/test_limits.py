"""The pages' limits, on SQLite and PostgreSQL: requests per client IP (the app's per-IP
limiter, shared with the API) answered with a page and Retry-After, and capped bodies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import Bugline, make_settings, start_bugline
from tests.integration.test_intake import report_body
from tests.pages.support import FORM, change, post_form, report, submit

pytestmark = pytest.mark.anyio


@pytest.fixture
async def strict(db_url: str, tmp_path: Path) -> AsyncIterator[Bugline]:
    """The app with a per-IP limit of 4 requests a minute."""
    async for b in start_bugline(make_settings(db_url, tmp_path, rate_limit_per_ip=4)):
        yield b


async def test_posts_per_ip_are_limited(strict: Bugline) -> None:
    created = await submit(strict, report_body())  # the first of the four
    await strict.triaged()
    await change(strict, created["id"], "resolved")
    token = created["status_token"]
    for _ in range(3):
        res = await post_form(strict, f"/s/{token}/reopen", {"form_token": "1.x"})
        assert res.status_code == 403
    limited = await post_form(strict, f"/s/{token}/reopen", {"form_token": "1.x"})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["content-type"].startswith("text/html") and "Too many requests" in limited.text
    assert limited.headers["cache-control"] == "no-store"
    assert (await report(strict, created["id"])).status == "resolved"


async def test_bodies_are_capped_whatever_the_length_header_says(bugline: Bugline) -> None:
    created = await submit(bugline, report_body())
    await bugline.triaged()
    await change(bugline, created["id"], "resolved")
    url = f"/s/{created['status_token']}/reopen"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: streamed, stopped at the cap
        for _ in range(100):
            yield b"comment=" + b"a" * 1024

    res = await bugline.client.post(url, content=chunks(), headers=FORM)
    assert res.status_code == 413
    declared = await bugline.client.post(
        url, content=b"comment=x", headers={**FORM, "Content-Length": str(10 * 1024 * 1024)}
    )
    assert declared.status_code == 413, declared.status_code
    assert (await report(bugline, created["id"])).status == "resolved"
