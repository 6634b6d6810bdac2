"""The django-helpdesk connector against a REAL django-helpdesk 2.6.1 (tests/support/helpdesk.py).

Everything is read back through the helpdesk's own API: the ticket's fields, the follow-ups,
the attachments' bytes. Nothing here is a fake of the vendor.
"""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from bugline.connectors import djangohelpdesk
from bugline.connectors.base import Attempt, Delivered, Failed, InvalidSettings, Retry, Target, Ticket, mask
from bugline.connectors.djangohelpdesk import DjangoHelpdeskConnector, marker_for
from bugline.connectors.document import Media, Reporter
from bugline.render import common, text
from tests.connectors.factory import LOG, PNG, hostile, make_document, make_media, make_update
from tests.support.helpdesk import Helpdesk, WebhookReceiver, start_helpdesk
from tests.support.ports import free_port

pytestmark = pytest.mark.anyio

# What infra/helpdesk/desk/settings.py lets the test helpdesk accept (HELPDESK_VALID_EXTENSIONS).
SITE_TYPES = ".txt,.log,.json,.pdf,.jpg,.png,.gif,.webp,.webm,.mp4"


def connector(desk: Helpdesk, http: httpx.AsyncClient, **settings: Any) -> DjangoHelpdeskConnector:
    raw: dict[str, Any] = {
        "url": desk.url,
        "token": desk.token,
        "queue": str(desk.queue_id),
        "attachment_types": SITE_TYPES,
    }
    raw.update(settings)
    return DjangoHelpdeskConnector(DjangoHelpdeskConnector.validate(raw), http)


def client(timeout: float = 15.0) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=timeout)


def key() -> str:
    return f"delivery-{uuid.uuid4()}"


def delivered(result: object) -> Delivered:
    assert isinstance(result, Delivered), result
    return result


def ticket_id(result: object) -> int:
    return int(delivered(result).ticket.remote_id)


def tickets_marked(desk: Helpdesk, attempt_key: str) -> list[dict[str, Any]]:
    marker = marker_for(attempt_key)
    return [t for t in desk.tickets() if marker in t["description"].splitlines()]


def attachment_bytes(desk: Helpdesk, tid: int) -> dict[str, bytes]:
    return {a["filename"]: desk.download(a["file"]) for a in desk.attachments(tid)}


# ---- creating tickets ----------------------------------------------------------------------


async def test_ticket_has_title_report_priority_submitter_and_the_files(
    helpdesk: Helpdesk, helpdesk_webhooks: WebhookReceiver
) -> None:
    doc = make_document()
    async with client() as http:
        result = await connector(helpdesk, http).deliver(doc, Target(), Attempt(key()))
    tid = ticket_id(result)
    assert delivered(result).ticket.url == f"{helpdesk.url}/tickets/{tid}/"
    assert "2 files attached" in delivered(result).detail

    ticket = helpdesk.get_ticket(tid)
    assert ticket["title"] == common.title(doc) == "[High] Pay button does nothing (#42)"
    assert ticket["queue"] == helpdesk.queue_id
    assert ticket["priority"] == 2  # High
    assert ticket["submitter_email"] == "dana@acme.example"
    assert ticket["status"] == 1  # Open
    # The whole plain-text report, the SOP checklist in the customer's words included.
    assert ticket["description"].startswith(text.report(doc).rstrip())
    for fact in doc.facts:
        if fact.value:
            assert fact.value.splitlines()[0] in ticket["description"]
    assert "Pay for my order with a saved Visa card" in ticket["description"]

    # Both files, byte for byte, in a private follow-up (the first, public one carries none).
    assert attachment_bytes(helpdesk, tid) == {"checkout.png": PNG, "console.log": LOG}
    with_files = [f for f in ticket["followup_set"] if f["followupattachment_set"]]
    assert len(with_files) == 1 and with_files[0]["public"] is False
    # Attaching must not rename the ticket (a follow-up's title would).
    assert helpdesk.get_ticket(tid)["title"] == common.title(doc)
    assert any(
        w.body["ticket"]["id"] == tid for w in helpdesk_webhooks.received if w.path.endswith("new-ticket")
    )


@pytest.mark.parametrize(("severity", "priority"), [("critical", 1), ("high", 2), ("medium", 3), ("low", 4)])
async def test_severity_becomes_the_helpdesk_priority(
    helpdesk: Helpdesk, severity: str, priority: int
) -> None:
    doc = make_document(severity=severity, media=())
    async with client() as http:
        result = await connector(helpdesk, http).deliver(doc, Target(), Attempt(key()))
    ticket = helpdesk.get_ticket(ticket_id(result))
    assert ticket["priority"] == priority
    assert ticket["title"].startswith(f"[{common.severity_name(severity)}] ")  # type: ignore[arg-type]


async def test_files_of_types_the_helpdesk_refuses_are_linked_not_uploaded(helpdesk: Helpdesk) -> None:
    # attachment_types left at django-helpdesk's default list, which has no .log
    doc = make_document()
    async with client() as http:
        conn = connector(helpdesk, http, attachment_types=None)
        result = await conn.deliver(doc, Target(), Attempt(key()))
    tid = ticket_id(result)
    assert attachment_bytes(helpdesk, tid) == {"checkout.png": PNG}
    assert "1 file linked, not uploaded (.log not in attachment_types)" in delivered(result).detail
    assert doc.media[1].url in helpdesk.get_ticket(tid)["description"]  # the link is in the report


async def test_file_name_outside_ascii_is_uploaded_once(helpdesk: Helpdesk) -> None:
    doc = make_document(media=(make_media("écran de paiement.png"),))
    attempt_key = key()
    async with client() as http:
        conn = connector(helpdesk, http)
        first = await conn.deliver(doc, Target(), Attempt(attempt_key))
        again = await conn.deliver(doc, Target(), Attempt(attempt_key, number=2))
    tid = ticket_id(first)
    assert ticket_id(again) == tid
    assert [a["filename"] for a in helpdesk.attachments(tid)] == ["écran de paiement.png"]


async def test_reporter_without_email_gets_the_configured_submitter(helpdesk: Helpdesk) -> None:
    doc = make_document(reporter=Reporter(name="Anon"), media=())
    async with client() as http:
        conn = connector(helpdesk, http, submitter_email="support@acme.example")
        result = await conn.deliver(doc, Target(), Attempt(key()))
        private = connector(helpdesk, http, reporter_as_submitter="false")
        other = await private.deliver(make_document(media=()), Target(), Attempt(key()))
    assert helpdesk.get_ticket(ticket_id(result))["submitter_email"] == "support@acme.example"
    assert helpdesk.get_ticket(ticket_id(other))["submitter_email"] in ("", None)


async def test_hostile_report_is_stored_as_sent(helpdesk: Helpdesk) -> None:
    doc = hostile()
    attempt_key = key()
    async with client() as http:
        result = await connector(helpdesk, http).deliver(doc, Target(), Attempt(attempt_key))
    ticket = helpdesk.get_ticket(ticket_id(result))
    assert len(ticket["title"]) <= 200 and ticket["title"].endswith(" (#42)")
    assert ticket["description"] == f"{text.report(doc).rstrip()}\n\n{marker_for(attempt_key)}"
    assert "\x00" not in ticket["description"] and "\u202e" not in ticket["description"]
    assert ticket["submitter_email"] in ("", None)  # the hostile "email" is not an address
    # Names with markup upload under their own name; the 10 kB name with odd "extensions" is linked.
    names = sorted(a["filename"] for a in helpdesk.attachments(ticket_id(result)))
    assert names == sorted(m.name for m in doc.media if len(m.name) < 100)
    assert "log<script>.txt" in names


async def test_unknown_queue_fails_naming_the_queue(helpdesk: Helpdesk) -> None:
    async with client() as http:
        result = await connector(helpdesk, http, queue="9999").deliver(
            make_document(media=()), Target(), Attempt(key())
        )
        routed = await connector(helpdesk, http).deliver(
            make_document(media=()), Target(options={"queue": "bugs"}), Attempt(key())
        )
    assert isinstance(result, Failed) and result.status == 400 and "queue" in result.reason
    assert isinstance(routed, Failed) and "'bugs' is not a queue id" in routed.reason


async def test_route_chooses_the_queue(helpdesk: Helpdesk) -> None:
    async with client() as http:
        result = await connector(helpdesk, http, queue="9999").deliver(
            make_document(media=()), Target(options={"queue": str(helpdesk.queue_id)}), Attempt(key())
        )
    assert helpdesk.get_ticket(ticket_id(result))["queue"] == helpdesk.queue_id


# ---- exactly once --------------------------------------------------------------------------


async def test_retry_after_an_interrupted_attempt_finds_the_earlier_ticket(helpdesk: Helpdesk) -> None:
    doc = make_document()
    attempt_key = key()
    async with client() as http:
        conn = connector(helpdesk, http)
        first = await conn.deliver(doc, Target(), Attempt(attempt_key))
        second = await conn.deliver(doc, Target(), Attempt(attempt_key, number=2))
        fresh = await conn.deliver(doc, Target(), Attempt(key(), number=2))  # a retry of a lost create
    assert ticket_id(second) == ticket_id(first)
    assert delivered(second).detail.startswith("found the ticket an earlier attempt created")
    assert len(tickets_marked(helpdesk, attempt_key)) == 1
    assert len(helpdesk.attachments(ticket_id(first))) == 2  # no file uploaded twice
    assert ticket_id(fresh) != ticket_id(first)  # nothing found: created


async def test_retry_search_pages_back_through_newer_tickets(
    helpdesk: Helpdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The API lists oldest first and has no search: the retry reads the newest pages backwards.
    monkeypatch.setattr(djangohelpdesk, "PAGE_SIZE", 3)
    doc = make_document(media=())
    attempt_key = key()
    async with client() as http:
        conn = connector(helpdesk, http)
        first = await conn.deliver(doc, Target(), Attempt(attempt_key))
        for _ in range(7):  # others' tickets arrive after the interrupted attempt
            delivered(await conn.deliver(doc, Target(), Attempt(key())))
        again = await conn.deliver(doc, Target(), Attempt(attempt_key, number=2))
    assert ticket_id(again) == ticket_id(first)
    assert len(tickets_marked(helpdesk, attempt_key)) == 1


async def test_retry_search_is_bounded_to_the_newest_tickets(
    helpdesk: Helpdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Older than SEARCH_PAGES x PAGE_SIZE tickets: not read, so a second ticket is made (the
    # documented price of not reading a whole helpdesk on every retry).
    monkeypatch.setattr(djangohelpdesk, "PAGE_SIZE", 2)
    monkeypatch.setattr(djangohelpdesk, "SEARCH_PAGES", 1)
    doc = make_document(media=())
    attempt_key = key()
    async with client() as http:
        conn = connector(helpdesk, http)
        first = await conn.deliver(doc, Target(), Attempt(attempt_key))
        for _ in range(4):
            delivered(await conn.deliver(doc, Target(), Attempt(key())))
        again = await conn.deliver(doc, Target(), Attempt(attempt_key, number=2))
    assert ticket_id(again) != ticket_id(first)


async def test_webhook_receiver_down_gives_500_then_the_retry_finds_the_saved_ticket(
    helpdesk: Helpdesk, helpdesk_webhooks: WebhookReceiver
) -> None:
    # django-helpdesk saves the ticket, then its webhook POST is refused and it answers 500.
    doc = make_document()
    attempt_key = key()
    async with client() as http:
        conn = connector(helpdesk, http)
        helpdesk_webhooks.down()
        try:
            first = await conn.deliver(doc, Target(), Attempt(attempt_key))
        finally:
            helpdesk_webhooks.up()
        second = await conn.deliver(doc, Target(), Attempt(attempt_key, number=2))
    assert isinstance(first, Retry) and first.status == 500
    saved = tickets_marked(helpdesk, attempt_key)
    assert len(saved) == 1
    assert ticket_id(second) == saved[0]["id"]
    # The first attempt never got to the files; the retry added them, once.
    assert attachment_bytes(helpdesk, saved[0]["id"]) == {"checkout.png": PNG, "console.log": LOG}


def failing_read(data: bytes, after: int) -> Callable[[], AsyncIterator[bytes]]:
    async def read() -> AsyncIterator[bytes]:
        yield data[:after]
        raise ConnectionResetError("storage went away")

    return read


async def test_storage_failing_mid_upload_retries_and_the_retry_attaches_every_file(
    helpdesk: Helpdesk,
) -> None:
    good = make_document()
    broken_log = dataclasses.replace(good.media[1], read=failing_read(LOG, 10))
    broken = dataclasses.replace(good, media=(good.media[0], broken_log))
    attempt_key = key()
    async with client() as http:
        conn = connector(helpdesk, http)
        first = await conn.deliver(broken, Target(), Attempt(attempt_key))
        second = await conn.deliver(good, Target(), Attempt(attempt_key, number=2))
    assert isinstance(first, Retry) and "storage went away" in first.reason
    tid = ticket_id(second)
    assert [t["id"] for t in tickets_marked(helpdesk, attempt_key)] == [tid]
    assert attachment_bytes(helpdesk, tid) == {"checkout.png": PNG, "console.log": LOG}


async def test_stored_file_shorter_than_recorded_fails(helpdesk: Helpdesk) -> None:
    doc = make_document()
    wrong: Media = dataclasses.replace(doc.media[0], size=len(PNG) + 5)
    async with client() as http:
        result = await connector(helpdesk, http).deliver(
            dataclasses.replace(doc, media=(wrong,)), Target(), Attempt(key())
        )
    assert isinstance(result, Failed) and "the report recorded" in result.reason


class BodyLimitProxy:
    """A reverse proxy in front of the helpdesk that answers 413 to bodies over ``limit`` bytes,
    as nginx does past its client_max_body_size."""

    def __init__(self, upstream: str, limit: int) -> None:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._relay()

            def do_POST(self) -> None:
                self._relay()

            def _relay(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if len(body) > limit:
                    proxy.refused += 1
                    self.send_response(413)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")
                }
                answer = httpx.request(
                    self.command, upstream + self.path, headers=headers, content=body, timeout=30
                )
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("content-type", "text/plain"))
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.refused = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


async def test_files_too_large_for_the_server_are_tried_one_by_one_then_linked(helpdesk: Helpdesk) -> None:
    big = b"x" * 60_000
    doc = make_document(media=(make_media(), make_media("huge.log", big, "text/plain", "log")))
    proxy = BodyLimitProxy(helpdesk.origin, limit=20_000)
    try:
        async with client() as http:
            conn = connector(helpdesk, http, url=proxy.url + "/helpdesk")
            result = await conn.deliver(doc, Target(), Attempt(key()))
    finally:
        proxy.stop()
    assert "1 file too large for the helpdesk (HTTP 413), linked" in delivered(result).detail
    assert proxy.refused == 2  # both files together, then the large one alone
    assert attachment_bytes(helpdesk, ticket_id(result)) == {"checkout.png": PNG}


# ---- updates -------------------------------------------------------------------------------


async def test_update_adds_an_internal_follow_up(helpdesk: Helpdesk) -> None:
    change = make_update()
    async with client() as http:
        conn = connector(helpdesk, http)
        created = delivered(await conn.deliver(make_document(media=()), Target(), Attempt(key())))
        result = await conn.update(created.ticket, change, Attempt(key()))
    assert delivered(result).ticket == created.ticket
    ticket = helpdesk.get_ticket(created.ticket.remote_id)
    last = ticket["followup_set"][-1]
    assert last["public"] is False
    assert last["comment"].startswith(text.update(change).rstrip())
    assert "3 people, 2 accounts affected" in last["comment"]
    assert ticket["title"] == "[High] Pay button does nothing (#42)"  # not renamed by the follow-up


async def test_update_retry_finds_the_earlier_follow_up(helpdesk: Helpdesk) -> None:
    attempt_key = key()
    async with client() as http:
        conn = connector(helpdesk, http)
        created = delivered(await conn.deliver(make_document(media=()), Target(), Attempt(key())))
        await conn.update(created.ticket, make_update(), Attempt(attempt_key))
        again = await conn.update(created.ticket, make_update(), Attempt(attempt_key, number=2))
    assert delivered(again).detail == "found the follow-up an earlier attempt added"
    comments = [f["comment"] for f in helpdesk.get_ticket(created.ticket.remote_id)["followup_set"]]
    assert sum(marker_for(attempt_key) in c.splitlines() for c in comments) == 1


async def test_template_syntax_in_an_update_stays_as_written(helpdesk: Helpdesk) -> None:
    # django-helpdesk renders follow-up comments as Django templates with the ticket as context.
    note = "Customer wrote: {{ ticket.ticket_url }} and {# hidden #} and {% now 'Y' %} and 100%} done"
    change = make_update(note=note)
    async with client() as http:
        conn = connector(helpdesk, http)
        created = delivered(await conn.deliver(make_document(media=()), Target(), Attempt(key())))
        delivered(await conn.update(created.ticket, change, Attempt(key())))
    comment = helpdesk.get_ticket(created.ticket.remote_id)["followup_set"][-1]["comment"]
    shown = comment.replace("\u200b", "")
    assert note in shown
    assert "secret_key" not in comment and "key=" not in comment  # the ticket URL was not filled in


async def test_update_of_a_deleted_or_unknown_ticket_fails(helpdesk: Helpdesk) -> None:
    async with client() as http:
        conn = connector(helpdesk, http)
        result = await conn.update(Ticket(remote_id="987654"), make_update(), Attempt(key()))
        retried = await conn.update(Ticket(remote_id="987654"), make_update(), Attempt(key(), number=2))
        bad = await conn.update(Ticket(remote_id="ABC-1"), make_update(), Attempt(key()))
    assert isinstance(result, Failed) and result.status == 400
    assert isinstance(retried, Failed) and retried.status == 404
    assert isinstance(bad, Failed)


# ---- credentials, outages, settings --------------------------------------------------------


async def test_check_proves_the_token(helpdesk: Helpdesk) -> None:
    async with client() as http:
        ok = await connector(helpdesk, http).check()
        wrong = await connector(helpdesk, http, token="0" * 40).check()
    assert "the token works" in delivered(ok).detail
    assert isinstance(wrong, Failed) and wrong.status == 401


async def test_wrong_token_fails_delivery_and_update(helpdesk: Helpdesk) -> None:
    async with client() as http:
        conn = connector(helpdesk, http, token="0" * 40)
        result = await conn.deliver(make_document(), Target(), Attempt(key()))
        retried = await conn.deliver(make_document(), Target(), Attempt(key(), number=2))
        updated = await conn.update(Ticket(remote_id="1"), make_update(), Attempt(key()))
    for outcome in (result, retried, updated):
        assert isinstance(outcome, Failed) and outcome.status == 401


async def test_helpdesk_down_is_retried(tmp_path_factory: pytest.TempPathFactory) -> None:
    desk = start_helpdesk(
        tmp_path_factory.mktemp("helpdesk-down"), new_ticket_webhooks=[], followup_webhooks=[]
    )
    try:
        async with client(timeout=5.0) as http:
            conn = connector(desk, http)
            created = delivered(await conn.deliver(make_document(media=()), Target(), Attempt(key())))
            desk.stop()
            results = [
                await conn.deliver(make_document(), Target(), Attempt(key())),
                await conn.deliver(make_document(), Target(), Attempt(key(), number=2)),
                await conn.update(created.ticket, make_update(), Attempt(key())),
                await conn.check(),
            ]
    finally:
        desk.stop()
    for outcome in results:
        assert isinstance(outcome, Retry), outcome
        assert "ConnectError" in outcome.reason


async def test_nothing_listening_is_retried() -> None:
    async with client(timeout=5.0) as http:
        conn = DjangoHelpdeskConnector(
            DjangoHelpdeskConnector.validate(
                {"url": f"http://127.0.0.1:{free_port()}/helpdesk", "token": "t" * 40, "queue": 1}
            ),
            http,
        )
        result = await conn.deliver(make_document(), Target(), Attempt(key()))
    assert isinstance(result, Retry)


def test_settings_are_checked_and_the_token_masked() -> None:
    with pytest.raises(InvalidSettings) as caught:
        DjangoHelpdeskConnector.validate(
            {"url": "ftp://x", "queue": "0", "attachment_types": "png, ../x", "colour": "red"}
        )
    assert set(caught.value.errors) == {"url", "token", "queue", "attachment_types", "colour"}

    config = DjangoHelpdeskConnector.validate(
        {"url": "https://help.example.com/helpdesk/", "token": "abcdef0123456789abcdef", "queue": "3"}
    )
    assert config["url"] == "https://help.example.com/helpdesk"
    assert config["queue"] == 3
    assert config["reporter_as_submitter"] is True
    assert ".png" in config["attachment_types"] and ".log" not in config["attachment_types"]
    shown = mask(DjangoHelpdeskConnector.settings, config)
    assert shown["token"] == "…cdef" and "abcdef0123456789" not in str(shown)
    custom = DjangoHelpdeskConnector.validate(
        {"url": "https://h.example", "token": "t" * 20, "queue": 1, "attachment_types": "PNG, .webm,*"}
    )
    assert custom["attachment_types"] == [".png", ".webm", "*"]


# ---- the harness itself, for the tests that build on it ------------------------------------


def test_resolving_sends_the_followup_webhook_with_the_status(
    helpdesk: Helpdesk, helpdesk_webhooks: WebhookReceiver
) -> None:
    with helpdesk.client() as http:
        made = http.post(
            "/api/tickets/",
            data={"queue": helpdesk.queue_id, "title": "Harness", "description": "d", "priority": 3},
        )
    assert made.status_code == 201, made.text
    tid = made.json()["id"]
    helpdesk.resolve(tid, "Fixed in 4.12.1")
    ticket = helpdesk.get_ticket(tid)
    assert ticket["status"] == 3 and ticket["title"] == "Harness"
    hooks = [w.body for w in helpdesk_webhooks.received if w.path.endswith("followup")]
    assert any(h["ticket"]["id"] == tid and h["ticket"]["status"] == 3 for h in hooks)
