"""The shared fixture factory gives connectors what real deliveries give them."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.connectors.factory import LOG, PNG, hostile, make_document, make_media, make_update


async def _read(media_read) -> bytes:  # type: ignore[no-untyped-def]
    return b"".join([chunk async for chunk in media_read()])


@pytest.mark.anyio
async def test_media_read_streams_the_real_bytes_every_time() -> None:
    shot, log = make_document().media
    assert await _read(shot.read) == PNG == await _read(shot.read)
    assert await _read(log.read) == LOG
    assert (shot.size, log.size) == (len(PNG), len(LOG))
    assert (shot.content_type, log.content_type) == ("image/png", "text/plain")


def test_png_is_a_valid_image() -> None:
    image = Image.open(io.BytesIO(PNG))
    image.load()
    assert image.size == (2, 2)
    assert image.format == "PNG"


def test_overrides_replace_fields() -> None:
    doc = make_document(severity="critical", media=(make_media("a.txt", b"hi", "text/plain", "file"),))
    assert doc.severity == "critical"
    assert [m.name for m in doc.media] == ["a.txt"]
    assert doc.number == 42


def test_update_is_a_new_duplicate_of_the_report() -> None:
    change = make_update()
    assert change.report.number == 57
    assert change.report.duplicates.group_id == make_document().duplicates.group_id
    assert change.report.duplicates.reports == 4
    assert make_update(note="x").note == "x"


def test_hostile_carries_markup_in_every_text_field() -> None:
    doc = hostile()
    texts = [
        doc.project,
        doc.title,
        doc.description,
        doc.kind,
        doc.reporter.name,
        doc.reporter.email,
        doc.reporter.account,
        doc.reporter.plan,
        doc.environment.browser,
        doc.environment.os,
        doc.environment.device,
        doc.environment.viewport,
        doc.environment.locale,
        doc.environment.user_agent,
        doc.media[0].name,
        *(f.value for f in doc.facts),
        *(f.label for f in doc.facts),
        *(c.message for c in doc.console),
        doc.severity_reasons[0],
        doc.categories[0],
        next(iter(doc.metadata)),
    ]
    for value in texts:
        assert "<script>" in value and "<!here>" in value and "\x00" in value and len(value) > 10_000
