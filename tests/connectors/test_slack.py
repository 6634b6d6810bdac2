"""SlackConnector against a fake Slack: chat.postMessage checked against the Swagger subset,
and an incoming webhook checked for its payload shape."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from bugline.connectors.base import (
    Attempt,
    Delivered,
    Failed,
    InvalidSettings,
    Retry,
    Target,
    Ticket,
    mask,
)
from bugline.connectors.slack import SlackConnector
from bugline.render import blockkit
from tests.connectors.factory import hostile, make_document, make_update
from tests.support.vendors.server import Fault
from tests.support.vendors.slack import CHANNEL, OTHER_CHANNEL, PAYMENTS_CHANNEL, TOKEN, FakeSlack

KEY = "dlv-5b0e2c7a-93f1-4d55-8a0e-6c1f2d3b4a59"
WORKSPACE = "https://acme.slack.com"
TIMEOUT = 0.5
COLOURS = {"critical": "#D0021B", "high": "#F5A623", "medium": "#F8E71C", "low": "#9B9B9B"}


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as vendor:
        yield vendor


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        yield client


def bot(slack: FakeSlack, http: httpx.AsyncClient, **settings: Any) -> SlackConnector:
    raw = {
        "token": TOKEN,
        "channel": CHANNEL,
        "api_url": slack.api_url,
        "workspace_url": WORKSPACE,
        **settings,
    }
    return SlackConnector(SlackConnector.validate(raw), http)


def hook(slack: FakeSlack, http: httpx.AsyncClient) -> SlackConnector:
    return SlackConnector(SlackConnector.validate({"webhook_url": slack.webhook_url}), http)


# ---- bot token: success --------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("severity", ["critical", "high", "medium", "low"])
async def test_deliver_posts_the_alert(slack: FakeSlack, http: httpx.AsyncClient, severity: Any) -> None:
    doc = make_document(severity=severity)

    result = await bot(slack, http).deliver(doc, Target(), Attempt(KEY))

    assert isinstance(result, Delivered), result
    (posted,) = slack.messages
    ts = posted["ts"]
    assert result.ticket == Ticket(
        remote_id=f"{CHANNEL}:{ts}",
        url=f"{WORKSPACE}/archives/{CHANNEL}/p{ts.replace('.', '')}",
        data={"channel": CHANNEL, "ts": ts},
    )
    expected = blockkit.message(doc)
    assert posted["channel"] == CHANNEL
    assert posted["text"] == expected["text"] and doc.link in posted["text"]
    assert posted["blocks"] == expected["blocks"]
    assert posted["attachments"] == expected["attachments"]
    assert posted["attachments"][0]["color"] == COLOURS[severity]
    assert posted["unfurl_links"] is False and posted["unfurl_media"] is False
    assert "link_names" not in posted and "parse" not in posted
    shown = json.dumps(posted)
    assert severity.capitalize() in posted["blocks"][0]["text"]["text"]
    for media in doc.media:  # linked, not uploaded
        assert media.url.split("?")[0] in shown
    (request,) = slack.requests
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"].startswith("application/json")
    assert slack.invalid == []


@pytest.mark.anyio
async def test_channel_from_the_route_overrides_the_setting(
    slack: FakeSlack, http: httpx.AsyncClient
) -> None:
    target = Target(options={"channel": PAYMENTS_CHANNEL})

    result = await bot(slack, http).deliver(make_document(), target, Attempt(KEY))

    assert isinstance(result, Delivered), result
    assert [m["channel"] for m in slack.messages] == [PAYMENTS_CHANNEL]
    assert result.ticket.data["channel"] == PAYMENTS_CHANNEL
    assert slack.invalid == []


@pytest.mark.anyio
async def test_update_replies_in_the_thread(slack: FakeSlack, http: httpx.AsyncClient) -> None:
    connector = bot(slack, http)
    delivered = await connector.deliver(make_document(), Target(), Attempt(KEY))
    assert isinstance(delivered, Delivered)
    change = make_update()

    result = await connector.update(delivered.ticket, change, Attempt("upd-1"))

    assert isinstance(result, Delivered), result
    assert result.ticket == delivered.ticket
    parent, reply = slack.messages
    assert reply["thread_ts"] == parent["ts"] and reply["channel"] == CHANNEL
    expected = blockkit.update(change)
    assert reply["text"] == expected["text"] and reply["blocks"] == expected["blocks"]
    assert "Another customer reported this problem (#57)" in reply["text"]
    assert slack.invalid == []


@pytest.mark.anyio
async def test_check_posts_nothing(slack: FakeSlack, http: httpx.AsyncClient) -> None:
    result = await bot(slack, http).check()

    assert isinstance(result, Delivered), result
    assert result.ticket.url == f"{WORKSPACE}/archives/{CHANNEL}"
    assert slack.messages == []
    assert slack.invalid == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("settings", "error"),
    [
        ({"token": "xoxb-wrong-wrong-wrong"}, "invalid_auth"),
        ({"channel": OTHER_CHANNEL}, "not_in_channel"),
        ({"channel": "C0NOSUCH001"}, "channel_not_found"),
    ],
)
async def test_check_names_what_is_wrong(
    slack: FakeSlack, http: httpx.AsyncClient, settings: dict[str, str], error: str
) -> None:
    result = await bot(slack, http, **settings).check()

    assert isinstance(result, Failed), result
    assert error in result.reason
    assert slack.messages == []
    assert slack.invalid == []


# ---- bot token: failures -------------------------------------------------------------------------

# chat.postMessage answers HTTP 200 {"ok": false, "error": code}: which codes retry.
ERROR_CODES = [
    ("not_in_channel", Failed),
    ("channel_not_found", Failed),
    ("invalid_auth", Failed),
    ("not_authed", Failed),
    ("account_inactive", Failed),
    ("token_revoked", Failed),
    ("is_archived", Failed),
    ("msg_too_long", Failed),
    ("invalid_blocks", Failed),
    ("some_new_error", Failed),
    ("ratelimited", Retry),
    ("rate_limited", Retry),
    ("internal_error", Retry),
    ("fatal_error", Retry),
    ("service_unavailable", Retry),
    ("request_timeout", Retry),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("code", "kind"), ERROR_CODES)
async def test_error_codes(slack: FakeSlack, http: httpx.AsyncClient, code: str, kind: type) -> None:
    slack.script(Fault.status(200, body={"ok": False, "error": code}))

    result = await bot(slack, http).deliver(make_document(), Target(), Attempt(KEY))

    assert isinstance(result, kind), result
    assert isinstance(result, Retry | Failed) and code in result.reason
    assert slack.invalid == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("settings", "target", "error"),
    [
        ({"token": "xoxb-wrong-wrong-wrong"}, Target(), "invalid_auth"),
        ({}, Target(options={"channel": OTHER_CHANNEL}), "not_in_channel"),
        ({"channel": "C0NOSUCH001"}, Target(), "channel_not_found"),
    ],
)
async def test_real_refusals_fail_and_say_why(
    slack: FakeSlack, http: httpx.AsyncClient, settings: dict[str, str], target: Target, error: str
) -> None:
    result = await bot(slack, http, **settings).deliver(make_document(), target, Attempt(KEY))

    assert isinstance(result, Failed), result
    assert result.reason.split(" — ")[0].endswith(error)
    assert slack.messages == []
    assert slack.invalid == []


@pytest.mark.anyio
async def test_ratelimited_answer_keeps_retry_after(slack: FakeSlack, http: httpx.AsyncClient) -> None:
    slack.script(Fault.status(200, headers={"Retry-After": "3"}, body={"ok": False, "error": "ratelimited"}))

    result = await bot(slack, http).deliver(make_document(), Target(), Attempt(KEY))

    assert isinstance(result, Retry) and result.after == 3, result


HTTP_FAILURES = [
    ("429", Fault.status(429, headers={"Retry-After": "5"}), Retry, 5.0),
    ("500", Fault.status(500), Retry, None),
    ("503", Fault.status(503), Retry, None),
    ("hang", Fault.hang(3), Retry, None),
    ("drop", Fault.drop(), Retry, None),
    ("malformed", Fault.malformed(b'{"ok": true, "ts": '), Retry, None),
    ("html page", Fault.malformed(b"<html>upstream error</html>", "text/html"), Retry, None),
    ("neither ok nor error", Fault.status(200, body={"warning": "odd"}), Retry, None),
    ("ok without ts", Fault.status(200, body={"ok": True, "channel": CHANNEL}), Retry, None),
    ("401", Fault.status(401), Failed, None),
]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("fault", "kind", "after"), [f[1:] for f in HTTP_FAILURES], ids=[f[0] for f in HTTP_FAILURES]
)
async def test_http_failures(
    slack: FakeSlack, http: httpx.AsyncClient, fault: Fault, kind: type, after: float | None
) -> None:
    slack.script(fault)

    result = await bot(slack, http).deliver(make_document(), Target(), Attempt(KEY))

    assert isinstance(result, kind), result
    if after is not None:
        assert isinstance(result, Retry) and result.after == after
    assert slack.messages == []
    assert slack.invalid == []


@pytest.mark.anyio
async def test_a_lost_answer_can_double_the_alert(slack: FakeSlack, http: httpx.AsyncClient) -> None:
    """Slack has no idempotency key (CONTRACTS.md 6): documented, and accepted for an alert."""
    connector = bot(slack, http)
    slack.script(Fault.drop(process=True))

    first = await connector.deliver(make_document(), Target(), Attempt(KEY, 1))
    second = await connector.deliver(make_document(), Target(), Attempt(KEY, 2))

    assert isinstance(first, Retry) and isinstance(second, Delivered)
    assert len(slack.messages) == 2
    assert slack.invalid == []


# ---- incoming webhook ----------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("severity", ["critical", "low"])
async def test_webhook_posts_the_alert(slack: FakeSlack, http: httpx.AsyncClient, severity: Any) -> None:
    doc = make_document(severity=severity)

    result = await hook(slack, http).deliver(doc, Target(options={"channel": PAYMENTS_CHANNEL}), Attempt(KEY))

    assert isinstance(result, Delivered), result
    assert result.ticket.remote_id == f"webhook:{KEY}"
    (payload,) = slack.hook_messages
    expected = blockkit.message(doc)
    assert {k: payload[k] for k in ("text", "blocks", "attachments")} == expected
    assert payload["attachments"][0]["color"] == COLOURS[severity]
    assert "channel" not in payload  # a webhook's channel is fixed when it is made
    assert slack.messages == []
    assert slack.invalid == []


@pytest.mark.anyio
async def test_webhook_update_is_a_new_message(slack: FakeSlack, http: httpx.AsyncClient) -> None:
    connector = hook(slack, http)
    delivered = await connector.deliver(make_document(), Target(), Attempt(KEY))
    assert isinstance(delivered, Delivered)
    change = make_update()

    result = await connector.update(delivered.ticket, change, Attempt("upd-1"))

    assert isinstance(result, Delivered) and result.ticket == delivered.ticket, result
    assert len(slack.hook_messages) == 2
    assert slack.hook_messages[1]["blocks"] == blockkit.update(change)["blocks"]
    assert slack.invalid == []


HOOK_FAILURES = [
    ("400 invalid_payload", Fault.status(400, body=b"invalid_payload"), Failed, 400),
    ("403 action_prohibited", Fault.status(403, body=b"action_prohibited"), Failed, 403),
    ("404 no_service", Fault.status(404, body=b"no_service"), Failed, 404),
    ("410 channel_is_archived", Fault.status(410, body=b"channel_is_archived"), Failed, 410),
    ("429", Fault.status(429, headers={"Retry-After": "2"}, body=b"rate_limited"), Retry, 429),
    ("500", Fault.status(500, body=b"internal_error"), Retry, 500),
    ("not ok", Fault.malformed(b"<html>captive portal</html>", "text/html"), Retry, None),
    ("hang", Fault.hang(3), Retry, None),
]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("fault", "kind", "status"), [f[1:] for f in HOOK_FAILURES], ids=[f[0] for f in HOOK_FAILURES]
)
async def test_webhook_failures(
    slack: FakeSlack, http: httpx.AsyncClient, fault: Fault, kind: type, status: int | None
) -> None:
    slack.script(fault)

    result = await hook(slack, http).deliver(make_document(), Target(), Attempt(KEY))

    assert isinstance(result, Retry | Failed) and isinstance(result, kind), result
    assert result.status == status
    if status == 429:
        assert isinstance(result, Retry) and result.after == 2
    assert slack.hook_messages == []
    assert slack.invalid == []


@pytest.mark.anyio
async def test_webhook_check(slack: FakeSlack, http: httpx.AsyncClient) -> None:
    connector = hook(slack, http)

    alive = await connector.check()
    slack.hook_alive = False
    revoked = await connector.check()
    dead_delivery = await connector.deliver(make_document(), Target(), Attempt(KEY))

    assert isinstance(alive, Delivered), alive
    assert isinstance(revoked, Failed) and revoked.status == 404, revoked
    assert isinstance(dead_delivery, Failed) and "no_service" in dead_delivery.reason
    assert slack.hook_messages == []
    assert slack.invalid == []


# ---- hostile content, settings -------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["bot", "webhook"])
async def test_markup_in_the_report_does_not_inject(
    slack: FakeSlack, http: httpx.AsyncClient, mode: str
) -> None:
    connector = bot(slack, http) if mode == "bot" else hook(slack, http)
    delivered = await connector.deliver(hostile(), Target(), Attempt(KEY))
    assert isinstance(delivered, Delivered), delivered

    (payload,) = slack.messages if mode == "bot" else slack.hook_messages
    shown = json.dumps(payload, ensure_ascii=False)
    assert len(shown) > 5000  # the customer's text is there, as text
    for control in ("<!here", "<!channel", "<!everyone", "<!subteam", "<@U123ABC>", "<#C42", "<https://evil"):
        assert control not in shown
    for mention in ("@here", "@channel", "@everyone"):  # no plain-text mentions either
        assert mention not in shown
    # Slack reads <...> as markup in mrkdwn and in the fallback text (plain_text shows it as
    # typed): there, every "<" must open a link the renderer made.
    markup = [payload["text"], *mrkdwn(payload)]
    assert len(markup) > 5
    for text in markup:
        assert re.findall(r"<(?!https://)", text) == [], text
    assert payload.get("parse") in (None, "none") and not payload.get("link_names")
    assert slack.invalid == []


def mrkdwn(node: Any) -> list[str]:
    """Every mrkdwn text object's text in a Block Kit payload."""
    if isinstance(node, dict):
        own = [node["text"]] if node.get("type") == "mrkdwn" else []
        return own + [t for value in node.values() for t in mrkdwn(value)]
    if isinstance(node, list):
        return [t for value in node for t in mrkdwn(value)]
    return []


def test_mask_hides_token_and_webhook() -> None:
    bot_config = SlackConnector.validate({"token": TOKEN, "channel": CHANNEL})
    hook_url = "https://hooks.slack.com/services/T0FAKE001/B0FAKE001/fakeHookSecret0123456789"
    hook_config = SlackConnector.validate({"webhook_url": hook_url})

    shown_bot = mask(SlackConnector.settings, bot_config)
    shown_hook = mask(SlackConnector.settings, hook_config)

    assert shown_bot["token"] == "…" + TOKEN[-4:] and shown_bot["channel"] == CHANNEL
    assert shown_hook["webhook_url"] == "…" + hook_url[-4:]
    assert TOKEN not in str(shown_bot) and "fakeHookSecret" not in str(shown_hook)


@pytest.mark.parametrize(
    ("raw", "bad"),
    [
        ({}, "token"),
        ({"channel": CHANNEL}, "token"),
        ({"token": TOKEN}, "channel"),
        ({"token": "abc-123", "channel": CHANNEL}, "token"),
        (
            {"token": TOKEN, "channel": CHANNEL, "webhook_url": "https://hooks.slack.com/services/a"},
            "webhook_url",
        ),
        ({"webhook_url": "http://hooks.slack.com/services/a"}, "webhook_url"),
        ({"webhook_url": "hooks.slack.com/services/a"}, "webhook_url"),
        ({"token": TOKEN, "channel": CHANNEL, "api_url": "http://slack.example.com/api"}, "api_url"),
        ({"token": TOKEN, "channel": CHANNEL, "workspace_url": "acme"}, "workspace_url"),
        ({"token": TOKEN, "channel": CHANNEL, "chanel": "x"}, "chanel"),
    ],
)
def test_invalid_settings_name_the_key(raw: dict[str, str], bad: str) -> None:
    with pytest.raises(InvalidSettings) as caught:
        SlackConnector.validate(raw)
    assert list(caught.value.errors) == [bad]


def test_settings_defaults() -> None:
    config = SlackConnector.validate({"token": TOKEN, "channel": CHANNEL})
    assert config["api_url"] == "https://slack.com/api"
    local = SlackConnector.validate({"webhook_url": "http://127.0.0.1:9/services/x"})
    assert local["webhook_url"] == "http://127.0.0.1:9/services/x"
