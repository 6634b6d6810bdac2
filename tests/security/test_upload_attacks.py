"""Hostile uploads through the real flows: a presigned POST straight to S3 (SeaweedFS) then
finalize, and the one-request form endpoint. What the bytes are decides; claims can only
refuse; nothing is decoded or unpacked; what is kept is only ever served as a download.
"""

from __future__ import annotations

import tracemalloc
from typing import Any

import pytest

from bugline.db.models import Attachment
from tests.conftest import ORIGIN, Bugline
from tests.integration.test_agent_api import auth, token_for
from tests.integration.test_intake import create_with, finalize, rows
from tests.security import files
from tests.support.media import png, upload

pytestmark = pytest.mark.anyio

KEY_ONLY = "The export button does nothing"


async def through_s3(b: Bugline, name: str, ctype: str, data: bytes) -> tuple[dict[str, Any], Any]:
    created = await create_with(b, [{"name": name, "type": ctype, "size": len(data)}])
    sent = await upload(b.client, created["attachments"][0], data)
    assert sent.status_code in (200, 204), sent.text
    return created, await finalize(b, created)


REFUSED = [
    ("html named png", "cat.png", "image/png", files.HTML, "HTML"),
    ("svg with script named png", "logo.png", "image/png", files.SVG_SCRIPT, "SVG"),
    ("javascript named png", "shot.png", "image/png", files.JS, "image/png"),
    ("html declared as text", "notes.txt", "text/plain", files.HTML, "HTML"),
    ("png claiming to be a gif", "a.gif", "image/gif", png(), "image/png"),
]


@pytest.mark.parametrize(("case", "name", "ctype", "data", "why"), REFUSED, ids=[c[0] for c in REFUSED])
async def test_spoofed_types_are_refused_at_finalize_and_deleted(
    bugline: Bugline, case: str, name: str, ctype: str, data: bytes, why: str
) -> None:
    created, res = await through_s3(bugline, name, ctype, data)
    assert res.status_code == 422, res.text
    error = res.json()["error"]
    assert error["code"] == "attachments_rejected" and why in error["message"]
    (att,) = await rows(bugline, Attachment, report_id=created["id"])
    assert att.state == "rejected"
    assert await bugline.app.state.store.stat(att.storage_key) is None


async def download(b: Bugline, report_id: str) -> list[Any]:
    """The agent API's view of the report's files, each fetched through its download link."""
    token = await token_for(b, "agent")
    view = await b.client.get(f"/api/v1/projects/{b.project.id}/reports/{report_id}", headers=auth(token))
    assert view.status_code == 200, view.text
    return [await b.client.get(a["download_url"]) for a in view.json()["attachments"]]


POLYGLOTS = [
    ("gif that is also javascript", "a.gif", "image/gif", files.GIF_JS),
    ("png with html appended", "a.png", "image/png", files.PNG_THEN_HTML),
    ("png with a zip appended", "a.png", "image/png", files.PNG_THEN_ZIP),
]


@pytest.mark.parametrize(("case", "name", "ctype", "data"), POLYGLOTS, ids=[c[0] for c in POLYGLOTS])
async def test_polyglots_are_kept_as_their_image_type_and_only_ever_downloaded(
    bugline: Bugline, case: str, name: str, ctype: str, data: bytes
) -> None:
    created, res = await through_s3(bugline, name, ctype, data)
    assert res.status_code == 200, res.text
    (att,) = await rows(bugline, Attachment, report_id=created["id"])
    assert att.content_type == ctype
    (got,) = await download(bugline, created["id"])
    assert got.status_code == 200 and got.content == data
    # The presigned link makes S3 answer as a download of the sniffed type: no browser
    # renders it in a page, and no page can load it as a script of S3's origin by type.
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.headers["content-type"] == ctype


BOMBS = [
    ("png claiming 100000x100000 with 64 MiB of pixels", "huge.png", "image/png", files.png_bomb),
    ("zip of 4 x 64 MiB of zeros", "logs.zip", "application/zip", files.zip_bomb),
    ("gzip of 64 MiB of zeros", "app.log.gz", "application/gzip", files.gzip_bomb),
]


@pytest.mark.parametrize(("case", "name", "ctype", "make"), BOMBS, ids=[c[0] for c in BOMBS])
async def test_bombs_are_stored_as_sent_and_never_decompressed(
    bugline: Bugline, case: str, name: str, ctype: str, make: Any
) -> None:
    data = make()
    assert len(data) < files.EXPANDED // 100
    created = await create_with(bugline, [{"name": name, "type": ctype, "size": len(data)}])
    await upload(bugline.client, created["attachments"][0], data)
    tracemalloc.start()
    try:
        res = await finalize(bugline, created)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert res.status_code == 200, res.text
    (att,) = await rows(bugline, Attachment, report_id=created["id"])
    assert (att.content_type, att.size) == (ctype, len(data))
    # Verifying reads the head and hashes the rest in chunks: memory stays far below what
    # inflating the file (64 MiB and more) would take.
    assert peak < files.EXPANDED // 4, peak


async def test_form_endpoint_stores_a_bomb_without_unpacking_it(bugline: Bugline) -> None:
    data = files.zip_bomb()
    tracemalloc.start()
    try:
        res = await bugline.client.post(
            "/api/v1/reports/form",
            headers={"X-Bugline-Key": bugline.key},
            data={"actual": KEY_ONLY},
            files={"file": ("logs.zip", data, "application/zip")},
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert res.status_code == 201, res.text
    assert peak < files.EXPANDED // 4, peak


NAMES = [
    ("../../etc/passwd.png", "passwd.png"),
    ("..\\..\\windows\\win.ini.png", "win.ini.png"),
    ("a\x00.exe.png", None),
    ("invoice\u202egnp.exe", None),  # RTL override: shown as "invoiceexe.png"; an .exe is refused
    ("x" * 250 + ".png", "x" * 196 + ".png"),  # cut to 200, the extension kept
    ("x" * 5000 + ".png", None),  # over 255 characters: refused up front
]


@pytest.mark.parametrize(
    ("sent", "kept"), NAMES, ids=["traversal", "windows traversal", "nul", "rtl", "long", "very long"]
)
async def test_hostile_file_names_never_reach_the_storage_key_or_the_download(
    bugline: Bugline, sent: str, kept: str | None
) -> None:
    image = png()
    res = await bugline.client.post(
        "/api/v1/reports",
        headers={"X-Bugline-Key": bugline.key, "Origin": ORIGIN},
        json={"actual": KEY_ONLY, "attachments": [{"name": sent, "type": "image/png", "size": len(image)}]},
    )
    if res.status_code != 201:  # refused up front: it must say what to fix
        assert kept is None, res.text
        if "\x00" in sent:  # PostgreSQL could not store it: refused before anything is written
            assert res.status_code == 400 and res.json()["error"]["code"] == "nul_character"
        else:
            assert (
                res.status_code == 422 and res.json()["error"]["fields"][0]["field"] == "attachments.0.name"
            )
            assert len(sent) > 255
        return
    created = res.json()
    await upload(bugline.client, created["attachments"][0], image)
    done = await finalize(bugline, created)
    (att,) = await rows(bugline, Attachment, report_id=created["id"])
    assert ".." not in att.storage_key and "\x00" not in att.storage_key and "\u202e" not in att.storage_key
    if kept is None:  # an executable extension under the override is refused at finalize
        assert done.status_code == 422 and ".exe" in done.json()["error"]["message"]
        return
    assert done.status_code == 200, done.text
    assert att.filename == kept
    (got,) = await download(bugline, created["id"])
    saved_as = got.headers["content-disposition"]
    # Saved under the clean name (a long one cut in its stem, the extension kept).
    assert saved_as.startswith("attachment;") and saved_as.endswith(f'{kept[-30:]}"'), saved_as
    assert "/" not in saved_as and "\\" not in saved_as


async def test_zero_byte_files_are_refused(bugline: Bugline) -> None:
    declared = await bugline.client.post(
        "/api/v1/reports",
        headers={"X-Bugline-Key": bugline.key},
        json={"actual": KEY_ONLY, "attachments": [{"name": "a.png", "type": "image/png", "size": 0}]},
    )
    assert declared.status_code == 422 and declared.json()["error"]["fields"][0]["field"].endswith("size")
    # Announced as 100 bytes, sent empty: S3 itself refuses the body (the signed policy
    # requires at least one byte), and finalize says the upload is not there yet.
    created = await create_with(bugline, [{"name": "a.png", "type": "image/png", "size": 100}])
    sent = await upload(bugline.client, created["attachments"][0], b"")
    assert sent.status_code >= 400
    res = await finalize(bugline, created)
    assert res.status_code == 409 and res.json()["error"]["code"] == "uploads_incomplete"


async def test_truncated_files(bugline: Bugline) -> None:
    image = png(width=40, height=40)
    # Fewer bytes than announced: refused, naming both sizes.
    created = await create_with(bugline, [{"name": "a.png", "type": "image/png", "size": len(image)}])
    await upload(bugline.client, created["attachments"][0], image[: len(image) // 2])
    res = await finalize(bugline, created)
    assert res.status_code == 422
    assert (
        f"{len(image) // 2} bytes uploaded but {len(image)} were announced" in res.json()["error"]["message"]
    )
    # A PNG cut short but announced at its real size is still a PNG (no decoder runs on
    # it); it is kept and served as a download like any other.
    cut = image[:60]
    created, res = await through_s3(bugline, "cut.png", "image/png", cut)
    assert res.status_code == 200, res.text
