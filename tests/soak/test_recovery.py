"""The two fixes the soak led to, checked without the soak: a database that does not answer gets
503 with Retry-After (the widget retries it; a 500 says nothing), and a finalize killed mid-check
holds a screenshot's report for seconds, not minutes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from bugline.app import create_app
from bugline.db.models import Attachment
from bugline.intake.finalize import CLAIM, CLAIM_FLOOR, claim_for
from bugline.settings import Settings
from tests.support.ports import free_port

ORIGIN = "https://app.example.com"


@pytest.mark.anyio
async def test_a_database_that_does_not_answer_is_a_503_to_retry_not_a_500(tmp_path: Path) -> None:
    # Nothing listens on this port: every connection is refused, as during a restart.
    settings = Settings(
        database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/bugline",
        data_dir=tmp_path,
        secret_key="s" * 40,
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://bugline.test") as client:
        res = await client.post(
            "/api/v1/reports?key=pk_nothing_here",
            json={"actual": "The export button does nothing"},
            headers={"Origin": ORIGIN, "Idempotency-Key": "k-1"},
        )
    assert res.status_code == 503, res.text
    assert res.json()["error"]["code"] == "database_unavailable"
    assert "Idempotency-Key" in res.json()["error"]["message"]
    assert int(res.headers["retry-after"]) > 0


def attachment(size: int) -> Attachment:
    return Attachment(kind="screenshot", filename="a.png", declared_type="image/png", declared_size=size)


def test_a_screenshot_report_is_claimed_for_seconds_a_big_recording_for_minutes() -> None:
    assert claim_for([]) == CLAIM_FLOOR
    shot = claim_for([attachment(300 * 1024)])
    assert CLAIM_FLOOR <= shot < timedelta(seconds=30)
    recording = claim_for([attachment(500 * 1024 * 1024)])
    assert timedelta(minutes=3) < recording <= CLAIM
    assert claim_for([attachment(50 * 1024**3)]) == CLAIM  # never longer than the cap
