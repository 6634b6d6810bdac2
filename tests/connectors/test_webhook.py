"""The generic webhook connector: signed JSON a receiver can verify, and every failure mapped
to what the outbox should do."""

from __future__ import annotations

import hashlib
import hmac
import time

import httpx
import pytest

from bugline.connectors.base import Attempt, Delivered, Failed, InvalidSettings, Retry, Target, mask
from bugline.connectors.webhook import WebhookConnector, signature, verify
from tests.connectors.factory import hostile, make_document, make_update
from tests.support.vendors.receiver import SECRET, FakeReceiver
from tests.support.vendors.server import Fault

pytestmark = pytest.mark.anyio


def connector(receiver: FakeReceiver, http: httpx.AsyncClient, secret: str = SECRET) -> WebhookConnector:
    config = WebhookConnector.validate({"url": f"{receiver.url}/hook", "secret": secret})
    return WebhookConnector(config, http)


async def test_report_arrives_signed_with_every_section() -> None:
    async with FakeReceiver() as receiver, httpx.AsyncClient(timeout=5) as http:
        doc = make_document()
        result = await connector(receiver, http).deliver(doc, Target(tags=("vip",)), Attempt("k1"))
        assert isinstance(result, Delivered)
        assert result.ticket.remote_id == "T-1" and result.ticket.url.endswith("/tickets/1")
        [payload] = receiver.reports()
        report = payload["report"]
        assert payload["type"] == "report.forwarded" and payload["id"] == "k1"
        assert report["title"] == doc.title and report["reference"] == doc.reference
        assert report["severity"] == doc.severity and report["severity_reasons"] == list(doc.severity_reasons)
        assert {f["key"] for f in report["facts"]} >= {"expected", "actual", "steps_to_reproduce"}
        assert [m["url"] for m in report["media"]] == [m.url for m in doc.media]
        assert "read" not in report["media"][0]  # no internals leak into the JSON
        assert payload["target"]["tags"] == ["vip"]
        assert receiver.refused == 0


async def test_retries_carry_the_same_id_so_the_receiver_keeps_one() -> None:
    async with FakeReceiver() as receiver, httpx.AsyncClient(timeout=5) as http:
        c = connector(receiver, http)
        first = await c.deliver(make_document(), Target(), Attempt("same"))
        again = await c.deliver(make_document(), Target(), Attempt("same", number=2))
        assert isinstance(first, Delivered) and isinstance(again, Delivered)
        assert first.ticket.remote_id == again.ticket.remote_id
        assert len(receiver.received) == 2 and len(receiver.reports()) == 1


async def test_duplicate_update_names_the_ticket_and_the_count() -> None:
    async with FakeReceiver() as receiver, httpx.AsyncClient(timeout=5) as http:
        c = connector(receiver, http)
        created = await c.deliver(make_document(), Target(), Attempt("k"))
        assert isinstance(created, Delivered)
        change = make_update()
        result = await c.update(created.ticket, change, Attempt("u1"))
        assert isinstance(result, Delivered) and result.ticket == created.ticket
        payload = receiver.received[-1]
        assert payload["type"] == "report.duplicate" and payload["ticket"]["id"] == "T-1"
        assert payload["note"] == change.note


@pytest.mark.parametrize(
    ("fault", "expected", "after"),
    [
        (Fault.status(429, headers={"Retry-After": "7"}), Retry, 7.0),
        (Fault.status(503), Retry, None),
        (Fault.hang(3), Retry, None),
        (Fault.drop(), Retry, None),
        (Fault.status(410), Failed, None),
        (Fault.status(404), Failed, None),
    ],
)
async def test_failures_map_to_retry_or_failed(fault: Fault, expected: type, after: float | None) -> None:
    async with FakeReceiver() as receiver, httpx.AsyncClient(timeout=1) as http:
        receiver.script(fault)
        result = await connector(receiver, http).deliver(make_document(), Target(), Attempt("k"))
        assert isinstance(result, expected)
        if after is not None:
            assert isinstance(result, Retry) and result.after == after


async def test_wrong_secret_is_refused_by_a_verifying_receiver() -> None:
    async with FakeReceiver() as receiver, httpx.AsyncClient(timeout=5) as http:
        result = await connector(receiver, http, secret="not-the-receivers-secret").deliver(
            make_document(), Target(), Attempt("k")
        )
        assert isinstance(result, Failed) and result.status == 401
        assert receiver.refused == 1 and receiver.reports() == []


async def test_hostile_report_is_plain_json_data() -> None:
    async with FakeReceiver() as receiver, httpx.AsyncClient(timeout=5) as http:
        doc = hostile()
        result = await connector(receiver, http).deliver(doc, Target(), Attempt("k"))
        assert isinstance(result, Delivered)
        assert receiver.reports()[0]["report"]["title"] == doc.title  # carried as data, byte for byte


def test_signature_is_hmac_of_timestamp_dot_body() -> None:
    body = b'{"a":1}'
    expected = hmac.new(b"s" * 16, b"1700000000." + body, hashlib.sha256).hexdigest()
    assert signature("s" * 16, 1_700_000_000, body) == "v1=" + expected
    headers = {"bugline-timestamp": "1700000000", "bugline-signature": "v1=" + expected}
    assert verify("s" * 16, headers, body, now=1_700_000_100)
    assert not verify("s" * 16, headers, body, now=1_700_000_000 + 301)  # replayed later
    assert not verify("s" * 16, headers, body + b" ", now=1_700_000_000)  # body changed
    assert not verify("s" * 16, {**headers, "bugline-timestamp": "1700000001"}, body, now=time.time())
    # rotation: several signatures, one valid
    rotated = {**headers, "bugline-signature": "v1=00, v1=" + expected}
    assert verify("s" * 16, rotated, body, now=1_700_000_000)


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"url": "ftp://x", "secret": "s" * 16}, "url"),
        ({"url": "https://x.example", "secret": "short"}, "secret"),
        ({"secret": "s" * 16}, "url"),
        ({"url": "https://x.example", "secret": "s" * 16, "token": "x"}, "token"),
    ],
)
def test_invalid_settings_name_the_key(settings: dict[str, str], key: str) -> None:
    with pytest.raises(InvalidSettings) as err:
        WebhookConnector.validate(settings)
    assert key in err.value.errors


def test_secret_is_masked() -> None:
    shown = mask(WebhookConnector.settings, {"url": "https://x.example/h", "secret": "abcdefghijklmnop1234"})
    assert shown == {"url": "https://x.example/h", "secret": "…1234"}
