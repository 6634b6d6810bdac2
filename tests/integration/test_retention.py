"""Retention and erasure, on SQLite and PostgreSQL with the real S3: what a project keeps
expires on time, a reporter's erasure request removes them everywhere, and both are recorded
without recording what was erased."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bugline.cli import main as cli
from bugline.db.engine import make_sessionmaker
from bugline.db.models import (
    Attachment,
    Erasure,
    Notification,
    Project,
    Report,
    Reporter,
    ReportEvent,
    utcnow,
)
from bugline.retention.erase import ERASED
from bugline.retention.policy import Policy, RetentionError, for_project
from tests.conftest import Bugline
from tests.integration.test_agent_api import auth, token_for
from tests.support.media import png

pytestmark = pytest.mark.anyio


async def report_with_screenshot(b: Bugline, email: str, seed: int) -> str:
    res = await b.client.post(
        "/api/v1/reports/form",
        data={"actual": f"Checkout for {email} shows a blank page", "email": email, "name": "Ana Example"},
        files={"screenshot": ("me.png", png(seed=seed), "image/png")},
        headers={"X-Bugline-Key": b.key},
    )
    assert res.status_code == 201, res.text
    report_id = str(res.json()["id"])
    async with make_sessionmaker(b.engine)() as s, s.begin():
        await s.execute(
            update(Report)
            .where(Report.id == report_id)
            .values(metadata_={"customer_tier": "gold"}, client_ip="198.51.100.7")
        )
    return report_id


async def one(b: Bugline, model: Any, *where: Any) -> Any:
    async with make_sessionmaker(b.engine)() as s:
        return (await s.execute(select(model).where(*where))).scalar_one()


async def object_exists(b: Bugline, key: str) -> bool:
    return await b.app.state.bugline.store.stat(key) is not None


async def test_an_erasure_request_removes_the_reporter_everywhere_and_is_recorded(bugline: Bugline) -> None:
    ana = await report_with_screenshot(bugline, "ana@example.com", 1)
    other = await report_with_screenshot(bugline, "bo@example.com", 2)
    await bugline.triaged()
    shot = await one(bugline, Attachment, Attachment.report_id == ana)
    assert await object_exists(bugline, shot.storage_key)
    token = await token_for(bugline, "admin")

    res = await bugline.client.post(
        f"/api/v1/projects/{bugline.project.id}/erasures",
        json={"subject": "  ANA@example.com "},
        headers=auth(token),
    )
    assert res.status_code == 201, res.text
    body = res.json()
    assert (body["reason"], body["reports"], body["files"]) == ("request", 1, 1)
    assert body["subject_sha256"] == hashlib.sha256(b"ana@example.com").hexdigest()
    assert "ana@example.com" not in res.text

    report = await one(bugline, Report, Report.id == ana)
    assert (report.actual, report.title, report.client_ip, report.metadata_, report.console) == (
        ERASED,
        ERASED,
        None,
        {},
        [],
    )
    assert report.severity is not None  # the verdict stays: the monthly review's figures do not change
    reporter = await one(bugline, Reporter, Reporter.id == report.reporter_id)
    assert (reporter.email, reporter.name, reporter.unsubscribed) == (None, None, True)
    assert (await one(bugline, Attachment, Attachment.report_id == ana)).state == "deleted"
    assert not await object_exists(bugline, shot.storage_key)
    async with make_sessionmaker(bugline.engine)() as s:
        mails = (await s.execute(select(Notification).where(Notification.report_id == ana))).scalars().all()
        kinds = (
            (await s.execute(select(ReportEvent.kind).where(ReportEvent.report_id == ana))).scalars().all()
        )
    assert all(m.state != "pending" for m in mails)
    assert "personal_data_erased" in kinds
    # Someone else's report is untouched.
    kept = await one(bugline, Report, Report.id == other)
    assert "bo@example.com" in kept.actual and kept.client_ip == "198.51.100.7"
    assert await object_exists(
        bugline, (await one(bugline, Attachment, Attachment.report_id == other)).storage_key
    )

    listed = await bugline.client.get(f"/api/v1/projects/{bugline.project.id}/erasures", headers=auth(token))
    assert [e["id"] for e in listed.json()["erasures"]][:1] == [body["id"]]


async def test_an_unknown_subject_is_recorded_as_honoured(bugline: Bugline) -> None:
    token = await token_for(bugline, "admin")
    res = await bugline.client.post(
        f"/api/v1/projects/{bugline.project.id}/erasures",
        json={"subject": "nobody@example.com"},
        headers=auth(token),
    )
    assert res.status_code == 201 and (res.json()["reports"], res.json()["files"]) == (0, 0)


@pytest.mark.parametrize(
    ("role", "body", "status"),
    [
        ("agent", {"subject": "a@example.com"}, 403),
        ("lead", {"subject": "a@example.com"}, 403),
        ("admin", {}, 422),
        ("admin", {"subject": ""}, 422),
        ("admin", {"subject": "x" * 400}, 422),
        ("admin", {"subject": "a@example.com", "also": 1}, 422),
    ],
)
async def test_erasure_needs_an_admin_and_a_subject(
    bugline: Bugline, role: str, body: dict[str, Any], status: int
) -> None:
    token = await token_for(bugline, role)
    res = await bugline.client.post(
        f"/api/v1/projects/{bugline.project.id}/erasures", json=body, headers=auth(token)
    )
    assert res.status_code == status, res.text
    assert res.json()["error"]["message"]


async def test_erasure_is_invisible_to_other_tenants_and_strangers(bugline: Bugline) -> None:
    other = await bugline.new_project()
    token = await token_for(bugline, "admin", project=other)
    url = f"/api/v1/projects/{bugline.project.id}/erasures"
    assert (
        await bugline.client.post(url, json={"subject": "a@example.com"}, headers=auth(token))
    ).status_code == 404
    assert (await bugline.client.post(url, json={"subject": "a@example.com"})).status_code == 401
    bad = await bugline.client.post(
        url, content=b"{", headers={**auth(token), "Content-Type": "application/json"}
    )
    assert bad.status_code == 404  # membership first: nothing about the project leaks


async def test_the_retention_sweep_expires_old_media_and_personal_data_only(bugline: Bugline) -> None:
    old = await report_with_screenshot(bugline, "old@example.com", 3)
    new = await report_with_screenshot(bugline, "new@example.com", 4)
    async with make_sessionmaker(bugline.engine)() as s, s.begin():
        await s.execute(
            update(Project)
            .where(Project.id == bugline.project.id)
            .values(settings={"retention": {"media_days": 30, "personal_days": 90}})
        )
        long_ago = utcnow() - timedelta(days=120)
        await s.execute(update(Report).where(Report.id == old).values(created_at=long_ago))
        old_reporter = (await s.execute(select(Report.reporter_id).where(Report.id == old))).scalar_one()
        await s.execute(update(Reporter).where(Reporter.id == old_reporter).values(updated_at=long_ago))
    old_shot = await one(bugline, Attachment, Attachment.report_id == old)
    counts = await bugline.app.state.bugline.retention.sweep()
    assert counts["files"] >= 1 and counts["personal_reports"] >= 1

    assert (await one(bugline, Attachment, Attachment.report_id == old)).state == "deleted"
    assert not await object_exists(bugline, old_shot.storage_key)
    expired = await one(bugline, Report, Report.id == old)
    assert (expired.client_ip, expired.metadata_) == (None, {})
    assert (
        "old@example.com" in expired.actual
    )  # retention keeps the words of the bug; erasure requests do not
    assert (await one(bugline, Reporter, Reporter.id == expired.reporter_id)).email is None

    fresh = await one(bugline, Report, Report.id == new)
    assert fresh.client_ip == "198.51.100.7" and fresh.metadata_ == {"customer_tier": "gold"}
    assert (await one(bugline, Attachment, Attachment.report_id == new)).state == "stored"
    async with make_sessionmaker(bugline.engine)() as s:
        records = (
            (
                await s.execute(
                    select(Erasure).where(
                        Erasure.project_id == bugline.project.id, Erasure.reason == "retention"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert records and records[0].subject_hash is None


async def test_a_file_left_half_deleted_is_finished_by_the_next_sweep(bugline: Bugline) -> None:
    report_id = await report_with_screenshot(bugline, "crash@example.com", 5)
    shot = await one(bugline, Attachment, Attachment.report_id == report_id)
    async with make_sessionmaker(bugline.engine)() as s, s.begin():  # as if a worker died after marking it
        await s.execute(update(Attachment).where(Attachment.id == shot.id).values(state="deleting"))
    await bugline.app.state.bugline.retention.sweep()
    assert (await one(bugline, Attachment, Attachment.id == shot.id)).state == "deleted"
    assert not await object_exists(bugline, shot.storage_key)


async def test_bugline_erase_from_the_shell(
    bugline: Bugline, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    report_id = await report_with_screenshot(bugline, "shell@example.com", 6)
    for name, value in {
        "BUGLINE_DATABASE_URL": bugline.settings.effective_database_url,
        "BUGLINE_DATA_DIR": str(bugline.settings.data_dir),
        "BUGLINE_SECRET_KEY": bugline.settings.secret_key,
        "BUGLINE_S3_BUCKET": bugline.settings.s3_bucket,
        "BUGLINE_S3_ENDPOINT_URL": bugline.settings.s3_endpoint_url,
    }.items():
        monkeypatch.setenv(name, value)
    code = await __import__("anyio").to_thread.run_sync(
        lambda: cli(
            ["erase", "--project", bugline.project.id, "shell@example.com", "--by", "dpo@example.com"]
        )
    )
    assert code == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (printed["reports"], printed["files"]) == (1, 1)
    assert (await one(bugline, Report, Report.id == report_id)).actual == ERASED
    record = await one(bugline, Erasure, Erasure.id == printed["erasure"])
    assert record.requested_by == "dpo@example.com"


@pytest.mark.parametrize(
    ("own", "message"),
    [
        ({"media_days": -1}, "media_days"),
        ({"personal_days": "30"}, "personal_days"),
        ({"media_days": True}, "media_days"),
        ({"keep": 3}, "unknown keys: keep"),
        ("forever", "must be a table"),
    ],
)
def test_a_bad_retention_setting_names_what_to_fix(own: Any, message: str) -> None:
    with pytest.raises(RetentionError, match=message):
        for_project(Policy(0, 0), {"retention": own})


def test_a_project_policy_overrides_the_defaults() -> None:
    assert for_project(Policy(30, 0), {"retention": {"personal_days": 7}}) == Policy(30, 7)
    assert for_project(Policy(30, 0), {}) == Policy(30, 0)
    assert Policy(0, 0).media_before(utcnow()) is None
