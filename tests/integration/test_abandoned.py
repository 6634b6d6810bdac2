"""Abandoned uploads, on SQLite and PostgreSQL with the real S3: a customer who closes the tab
mid-upload does not lose the report they wrote, and the half-uploaded bytes do not stay."""

from __future__ import annotations

import dataclasses
import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from bugline.db.engine import make_sessionmaker
from bugline.db.models import Attachment, Report, ReportEvent, utcnow
from bugline.intake.abandoned import Abandoned, Settled
from bugline.intake.formdata import sweep_leftovers
from bugline.storage.base import StoreError
from tests.conftest import ORIGIN, Bugline
from tests.support.media import png, upload, upload_parts, webm

pytestmark = pytest.mark.anyio

WORDS = {
    "title": "Export hangs",
    "actual": "The export spinner never stops",
    "steps": ["Open Billing", "Export"],
}


def headers(b: Bugline, **extra: str) -> dict[str, str]:
    return {"X-Bugline-Key": b.key, "Origin": ORIGIN, **extra}


async def create(b: Bugline, body: dict[str, Any]) -> dict[str, Any]:
    res = await b.client.post("/api/v1/reports", json=body, headers=headers(b))
    assert res.status_code == 201, res.text
    assert res.json()["status"] == "awaiting_media"
    return dict(res.json())


async def age(b: Bugline, report_id: str, hours: float) -> None:
    async with make_sessionmaker(b.engine)() as s, s.begin():
        await s.execute(
            update(Report)
            .where(Report.id == report_id)
            .values(
                created_at=utcnow() - timedelta(hours=hours), updated_at=utcnow() - timedelta(hours=hours)
            )
        )


async def rows(b: Bugline, model: Any, *where: Any) -> list[Any]:
    async with make_sessionmaker(b.engine)() as s:
        return list((await s.execute(select(model).where(*where))).scalars())


async def sweep(b: Bugline) -> Settled:
    """This test's project only: other tests' reports share the database."""
    return await b.app.state.bugline.retention.abandoned.sweep(b.project.id, utcnow())


async def test_a_report_left_mid_upload_is_accepted_with_the_files_that_arrived(bugline: Bugline) -> None:
    image, recording = png(seed=3), webm(6 * 1024 * 1024)
    created = await create(
        bugline,
        {
            **WORDS,
            "attachments": [
                {"name": "shot.png", "type": "image/png", "size": len(image), "kind": "screenshot"},
                {"name": "rec.webm", "type": "video/webm", "size": len(recording), "kind": "recording"},
            ],
        },
    )
    shot, rec = created["attachments"]
    assert (await upload(bugline.client, shot, image)).status_code in (200, 204)
    # The recording's parts went up, then the tab closed: no complete, no finalize.
    parts = await upload_parts(bugline.client, rec, recording, bugline.key, created["status_token"])
    await age(bugline, created["id"], 25)

    # The hourly retention pass settles it (and says so in its counts).
    counts = await bugline.app.state.bugline.retention.sweep()

    assert counts["abandoned_accepted"] >= 1
    (report,) = await rows(bugline, Report, Report.id == created["id"])
    assert report.status == "received" and report.accepted_at is not None
    by_kind = {a.kind: a for a in await rows(bugline, Attachment, Attachment.report_id == created["id"])}
    assert (by_kind["screenshot"].state, by_kind["screenshot"].size) == ("stored", len(image))
    assert by_kind["recording"].state == "rejected"
    assert by_kind["recording"].error == "the upload did not finish within 24 h"
    kinds = [e.kind for e in await rows(bugline, ReportEvent, ReportEvent.report_id == created["id"])]
    assert {"attachment_rejected", "media_verified", "status_changed"} <= set(kinds)
    # The unfinished multipart upload was aborted: its parts can no longer be assembled.
    store = bugline.app.state.bugline.store
    with pytest.raises(StoreError):
        await store.complete_multipart(
            f"incoming/{by_kind['recording'].storage_key}",
            by_kind["recording"].upload_id,
            [(p["part_number"], p["etag"]) for p in parts],
        )
    # It is triaged like any report, and a second sweep has nothing left to do.
    assert await bugline.triaged() == 1
    (report,) = await rows(bugline, Report, Report.id == created["id"])
    assert report.severity is not None
    assert await sweep(bugline) == Settled(0, 0, 0)


async def test_a_report_with_files_but_no_words_is_dropped_with_its_files(bugline: Bugline) -> None:
    image = png(seed=4)
    created = await create(
        bugline, {"attachments": [{"name": "a.png", "type": "image/png", "size": len(image)}]}
    )
    assert (await upload(bugline.client, created["attachments"][0], image)).status_code in (200, 204)
    (att,) = await rows(bugline, Attachment, Attachment.report_id == created["id"])
    store = bugline.app.state.bugline.store
    assert await store.stat(f"incoming/{att.storage_key}") is not None
    await age(bugline, created["id"], 30)

    assert await sweep(bugline) == Settled(0, 1, 0)
    assert await rows(bugline, Report, Report.id == created["id"]) == []
    assert await rows(bugline, Attachment, Attachment.report_id == created["id"]) == []
    assert await store.stat(f"incoming/{att.storage_key}") is None
    status = await bugline.client.get(f"/api/v1/status/{created['status_token']}")
    assert status.status_code == 404


async def test_young_reports_and_reports_being_finalized_are_left_alone(bugline: Bugline) -> None:
    young = await create(
        bugline, {**WORDS, "attachments": [{"name": "a.png", "type": "image/png", "size": 10}]}
    )
    await age(bugline, young["id"], 2)
    busy = await create(
        bugline, {**WORDS, "attachments": [{"name": "b.png", "type": "image/png", "size": 10}]}
    )
    await age(bugline, busy["id"], 48)
    async with make_sessionmaker(bugline.engine)() as s, s.begin():
        await s.execute(
            update(Report)
            .where(Report.id == busy["id"])
            .values(finalizing_until=utcnow() + timedelta(minutes=3))
        )

    assert await sweep(bugline) == Settled(0, 0, 0)
    statuses = {r.id: r.status for r in await rows(bugline, Report, Report.project_id == bugline.project.id)}
    assert statuses == {young["id"]: "awaiting_media", busy["id"]: "awaiting_media"}
    # The customer can still finish the young one the normal way.
    res = await bugline.client.post(
        young["finalize_url"],
        json={"skip_rejected": True},
        headers=headers(bugline, **{"X-Bugline-Report-Token": young["status_token"]}),
    )
    assert res.status_code == 200, res.text
    assert res.json()["status"] == "received"


async def test_with_the_setting_at_zero_reports_wait_for_ever(bugline: Bugline) -> None:
    created = await create(
        bugline, {**WORDS, "attachments": [{"name": "a.png", "type": "image/png", "size": 10}]}
    )
    await age(bugline, created["id"], 24 * 365)
    state = bugline.app.state.bugline
    waiting = Abandoned(
        state.writer,
        state.sessions,
        state.readers,
        state.store,
        dataclasses.replace(bugline.settings, abandoned_upload_hours=0),
    )
    assert await waiting.sweep(bugline.project.id, utcnow()) == Settled(0, 0, 0)
    (report,) = await rows(bugline, Report, Report.id == created["id"])
    assert report.status == "awaiting_media"


def test_temporary_upload_files_a_killed_process_left_are_removed(tmp_path: Path) -> None:
    old, fresh, other = tmp_path / "upload-old", tmp_path / "upload-fresh", tmp_path / "notes.txt"
    for path in (old, fresh, other):
        path.write_bytes(b"x")
    now = time.time()
    day_ago = now - 25 * 3600
    os.utime(old, (day_ago, day_ago))
    os.utime(other, (day_ago, day_ago))

    assert sweep_leftovers(tmp_path, now) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "upload-fresh"]
    assert sweep_leftovers(tmp_path / "missing", now) == 0


class FailingFor:
    """The real store, except that it fails for one report's files (an outage, a lost bucket)."""

    def __init__(self, store: Any, key_part: str) -> None:
        self.store, self.key_part = store, key_part

    def __getattr__(self, name: str) -> Any:
        real = getattr(self.store, name)
        if name == "iter_bytes":  # an async generator, not a coroutine: only ever reached when stat worked
            return real

        async def call(key: str, *args: Any, **kwargs: Any) -> Any:
            if self.key_part in key:
                raise StoreError("the store did not answer")
            return await real(key, *args, **kwargs)

        return call


async def test_one_report_the_store_fails_on_does_not_stop_the_others(bugline: Bugline) -> None:
    image = png(seed=8)
    spec = [{"name": "a.png", "type": "image/png", "size": len(image)}]
    stuck = await create(bugline, {**WORDS, "attachments": spec})
    other_project = await bugline.new_project()
    res = await bugline.client.post(
        "/api/v1/reports",
        json={**WORDS, "attachments": spec},
        headers={"X-Bugline-Key": other_project.public_key, "Origin": ORIGIN},
    )
    assert res.status_code == 201, res.text
    fine = res.json()
    for created in (stuck, fine):
        assert (await upload(bugline.client, created["attachments"][0], image)).status_code in (200, 204)
        await age(bugline, created["id"], 30)
    (att,) = await rows(bugline, Attachment, Attachment.report_id == stuck["id"])
    state = bugline.app.state.bugline
    flaky = Abandoned(
        state.writer,
        state.sessions,
        state.readers,
        FailingFor(state.store, att.storage_key),
        bugline.settings,
    )

    assert await flaky.sweep(bugline.project.id, utcnow()) == Settled(0, 0, 1)
    assert await flaky.sweep(other_project.id, utcnow()) == Settled(1, 0, 0)
    statuses = {r.id: r.status for r in await rows(bugline, Report, Report.id.in_([stuck["id"], fine["id"]]))}
    assert statuses == {stuck["id"]: "awaiting_media", fine["id"]: "received"}


async def test_words_that_arrive_just_before_a_drop_keep_the_report(bugline: Bugline) -> None:
    created = await create(bugline, {"attachments": [{"name": "a.png", "type": "image/png", "size": 10}]})
    await age(bugline, created["id"], 30)
    (stale,) = await rows(bugline, Report, Report.id == created["id"])  # read by the sweep: no words yet
    edit = await bugline.client.patch(
        f"/api/v1/reports/{created['id']}",
        json={"actual": "The chart goes blank"},
        headers=headers(bugline, **{"X-Bugline-Report-Token": created["status_token"]}),
    )
    assert edit.status_code == 200, edit.text

    assert await bugline.app.state.bugline.retention.abandoned.drop(stale) == "busy"

    (report,) = await rows(bugline, Report, Report.id == created["id"])
    assert (report.status, report.actual) == ("awaiting_media", "The chart goes blank")
    # The edit restarted the wait: the next sweep leaves it alone.
    assert await sweep(bugline) == Settled(0, 0, 0)
