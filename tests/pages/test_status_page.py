"""GET /s/{status_token}: the customer's status page, on SQLite and PostgreSQL. It shows the
report's public timeline in plain words, and nothing internal: not the team's internal notes,
not triage's severity reasons, not other reporters; any token that finds nothing gets the
same 404 page."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from bugline.db.models import ReportEvent, utcnow
from tests.conftest import Bugline
from tests.integration.test_intake import report_body
from tests.integration.test_triage import VAGUE
from tests.pages.support import events, secure_page, submit

pytestmark = pytest.mark.anyio


async def add_event(b: Bugline, report_id: str, kind: str, *, public: bool, data: dict[str, object]) -> None:
    async with b.engine.begin() as conn:
        await conn.execute(
            insert(ReportEvent).values(
                project_id=b.project.id,
                report_id=report_id,
                at=utcnow(),
                kind=kind,
                actor_type="agent",
                actor="agent-secret@acme.example",
                public=public,
                data=data,
            )
        )


async def test_public_timeline_only(bugline: Bugline) -> None:
    created = await submit(bugline, report_body())
    await bugline.triaged()
    report_id, token = created["id"], created["status_token"]
    await add_event(bugline, report_id, "note", public=False, data={"note": "Root cause: the cache key"})
    await add_event(
        bugline, report_id, "status_changed", public=False, data={"to": "in_progress", "note": "Blame Bob"}
    )
    await add_event(
        bugline,
        report_id,
        "status_changed",
        public=True,
        data={"from": "received", "to": "resolved", "note": "Fixed in 2.4.1", "reason": "INTERNAL-REASON"},
    )
    other = await submit(
        bugline, report_body(reporter={"id": "u-2", "email": "someone.else@example.com", "name": "Zed"})
    )
    await bugline.triaged()
    res = await bugline.client.get(f"/s/{token}")
    assert res.status_code == 200, res.text
    secure_page(res)
    page = res.text
    assert f"Report #{created['number']}" in page and "Invoice export fails" in page
    assert "You sent this report" in page
    assert "Fixed in 2.4.1" in page and "Note from the team" in page and "by the support team" in page
    # Internal: the team's notes, internal status moves, actors, reasons.
    for secret in (
        "Root cause",
        "Blame Bob",
        "agent-secret@acme.example",
        "INTERNAL-REASON",
        "Being worked on",
    ):
        assert secret not in page
    triaged = next(e for e in await events(bugline, report_id) if e.kind == "triaged")
    reasons = [r for r in triaged.data["reasons"] if len(r) > 12]
    assert reasons, triaged.data
    for reason in reasons:
        assert reason not in page
    assert "severity" not in page.lower()
    # Nobody else's report or name.
    assert other["id"] not in page and "Zed" not in page and "someone.else" not in page


async def test_needs_info_asks_and_links_the_answer_page(bugline: Bugline) -> None:
    created = await submit(bugline, VAGUE)
    await bugline.triaged()
    res = await bugline.client.get(f"/s/{created['status_token']}")
    assert res.status_code == 200
    assert "Waiting for your answers" in res.text
    assert f'href="/s/{created["status_token"]}/answer"' in res.text
    assert "What did you expect to happen" in res.text
    # Triage's reason for the move ("missing: expected, ...") is for the team.
    assert "missing:" not in res.text


@pytest.mark.parametrize(
    "path",
    [
        "/s/" + "A" * 43,  # well-formed, finds nothing
        "/s/" + "A" * 5000,
        "/s/short",
        "/s/%C3%BCn%C3%AFc%C3%B8d%C3%A9-%C3%BCn%C3%AFc%C3%B8d%C3%A9-%F0%9F%90%9B",
        "/s/..%2F..%2F..%2Fetc%2Fpasswd",
        "/s/%2e%2e%2f%2e%2e%2fetc%2fpasswd/answer",
        "/s/AAAAAAAAAAAAAAAAAAAAAAAA%00",
        "/s/AAAAAAAAAAAAAAAAAAAAAAAA%20OR%201=1",
        "/s/" + "A" * 43 + "/answer",
        "/s/" + "A" * 43 + "/reopen",
        "/s/" + "A" * 43 + "/unknown",
        "/u/" + "A" * 43,
        "/u/abc.0000000000000000000000000000000000000000000000000000000000000000",
        "/u/..%2F..%2Fetc%2Fpasswd",
        "/u/" + "%F0%9F%90%9B" * 300,
    ],
)
async def test_hostile_tokens_get_the_same_404_page(bugline: Bugline, path: str) -> None:
    baseline = await bugline.client.get("/s/" + "B" * 43)
    assert baseline.status_code == 404
    secure_page(baseline)
    res = await bugline.client.get(path)
    assert res.status_code == 404, (path, res.status_code)
    assert res.text == baseline.text
    post = await bugline.client.post(path, data={"form_token": "1.x"})
    assert post.status_code in (404, 405)
    if post.status_code == 404:
        assert post.text == baseline.text


async def test_a_token_from_the_api_is_the_page_token(bugline: Bugline) -> None:
    """The status page, the JSON status and the mails all use the one derived token."""
    created = await submit(bugline, report_body())
    api = await bugline.client.get(f"/api/v1/status/{created['status_token']}")
    page = await bugline.client.get(f"/s/{created['status_token']}")
    assert api.status_code == page.status_code == 200
    assert api.json()["reference"] in page.text
