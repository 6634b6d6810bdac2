"""Each vendor's signature check, exactly as the vendor specifies it: the published test vector
where one exists (GitHub's, from CONTRACTS.md), computed signatures otherwise; wrong secret,
truncated body, missing headers, stale and future timestamps, hostile header values."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from bugline.db.models import utcnow
from bugline.hooks.inbound import Inbound, Rejected, Vendor
from bugline.hooks.vendors import vendor
from tests.hooks.support import (
    SECRET,
    dumps,
    github_headers,
    jira_headers,
    linear_headers,
    now_ms,
    shared_headers,
    slack_headers,
    zendesk_headers,
)


def inbound(body: bytes, headers: dict[str, str], query: dict[str, str] | None = None) -> Inbound:
    return Inbound(
        body=body, headers={k.lower(): v for k, v in headers.items()}, query=query or {}, now=utcnow()
    )


def verify(
    kind: str, body: bytes, headers: dict[str, str], key: str = SECRET, query: dict[str, str] | None = None
) -> None:
    found: Vendor | None = vendor(kind)
    assert found is not None
    found.verify(inbound(body, headers, query), key)


def test_github_official_test_vector() -> None:
    # ../shared/specs/CONTRACTS.md section 4 (github/docs validating-webhook-deliveries.md).
    secret, body = "It's a Secret to Everybody", b"Hello, World!"
    good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    verify("github", body, {"X-Hub-Signature-256": good}, secret)
    flipped = good[:-1] + "8"
    with pytest.raises(Rejected, match="does not match"):
        verify("github", body, {"X-Hub-Signature-256": flipped}, secret)
    with pytest.raises(Rejected, match="does not match"):
        verify("github", body + b" ", {"X-Hub-Signature-256": good}, secret)


def zendesk_body() -> bytes:
    return dumps({"ticket": {"id": "35436", "status": "Solved"}})


def linear_body(offset: float = 0.0) -> bytes:
    return dumps(
        {"action": "update", "type": "Issue", "webhookId": "wh-1", "webhookTimestamp": now_ms(offset)}
    )


SLACK_BODY = b"payload=%7B%22type%22%3A%22block_actions%22%7D"


@dataclass
class Case:
    kind: str
    make_body: Callable[[], bytes]  # at test time: Linear's signed timestamp must be fresh
    sign: Callable[[bytes, str], dict[str, str]]
    missing: tuple[str, ...]  # headers whose absence means "unsigned"
    query: dict[str, str] = field(default_factory=dict)

    @property
    def body(self) -> bytes:
        return self.make_body()


CASES = [
    Case("zendesk", zendesk_body, lambda b, s: zendesk_headers(b, s),
         ("X-Zendesk-Webhook-Signature", "X-Zendesk-Webhook-Signature-Timestamp")),
    Case("github", lambda: dumps({"action": "closed"}), lambda b, s: github_headers(b, s), ("X-Hub-Signature-256",)),
    Case("jira", lambda: dumps({"webhookEvent": "jira:issue_updated"}), lambda b, s: jira_headers(b, s),
         ("X-Hub-Signature",)),
    Case("linear", linear_body, lambda b, s: linear_headers(b, s), ("Linear-Signature",)),
    Case("slack", lambda: SLACK_BODY, lambda b, s: slack_headers(b, s),
         ("X-Slack-Signature", "X-Slack-Request-Timestamp")),
    Case("freshdesk", lambda: dumps({"ticket_id": 7}), lambda b, s: shared_headers(s), ("X-Bugline-Hook-Secret",)),
    Case("django-helpdesk", lambda: dumps({"ticket": {"id": 7}}), lambda b, s: {},
         (), query={"secret": SECRET}),
]  # fmt: skip
IDS = [c.kind for c in CASES]


def secret_query(case: Case, secret: str) -> dict[str, str]:
    return {"secret": secret} if case.query else {}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_correctly_signed_delivery_passes(case: Case) -> None:
    body = case.body
    verify(case.kind, body, case.sign(body, SECRET), query=secret_query(case, SECRET))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_another_secret_is_refused(case: Case) -> None:
    body = case.body
    other = "another-secret-of-enough-length"
    with pytest.raises(Rejected, match="does not match"):
        verify(case.kind, body, case.sign(body, other), query=secret_query(case, other))


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.kind not in ("freshdesk", "django-helpdesk")], ids=lambda c: c.kind
)
def test_a_truncated_body_is_refused(case: Case) -> None:
    body = case.body
    headers = case.sign(body, SECRET)
    with pytest.raises(Rejected, match="does not match"):
        verify(case.kind, body[:-3], headers)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_missing_headers_mean_unsigned(case: Case) -> None:
    body = case.body
    headers = case.sign(body, SECRET)
    for name in case.missing or ("X-Bugline-Hook-Secret",):
        without = {k: v for k, v in headers.items() if k != name}
        with pytest.raises(Rejected, match=r"unsigned|missing"):
            verify(case.kind, body, without)


@pytest.mark.parametrize(
    ("kind", "window"), [("zendesk", 300), ("slack", 300)], ids=["zendesk-5min", "slack-5min"]
)
def test_header_timestamps_have_a_window(kind: str, window: int) -> None:
    body = zendesk_body() if kind == "zendesk" else SLACK_BODY
    sign = zendesk_headers if kind == "zendesk" else slack_headers
    verify(kind, body, sign(body, at=time.time() - window + 20))  # inside: accepted
    with pytest.raises(Rejected, match="stale"):
        verify(kind, body, sign(body, at=time.time() - window - 20))
    with pytest.raises(Rejected, match="future"):
        verify(kind, body, sign(body, at=time.time() + window + 20))


def test_linear_signed_body_timestamp_has_a_60_second_window() -> None:
    fresh = linear_body(-45)
    verify("linear", fresh, linear_headers(fresh))
    stale = linear_body(-75)
    with pytest.raises(Rejected, match="stale"):
        verify("linear", stale, linear_headers(stale))
    ahead = linear_body(+75)
    with pytest.raises(Rejected, match="future"):
        verify("linear", ahead, linear_headers(ahead))
    # The header is not what counts: a fresh Linear-Timestamp header does not rescue an old body.
    headers = linear_headers(stale) | {"Linear-Timestamp": str(now_ms())}
    with pytest.raises(Rejected, match="stale"):
        verify("linear", stale, headers)


@pytest.mark.parametrize(
    "body",
    [
        b'{"webhookTimestamp": NaN}',
        b'{"webhookTimestamp": Infinity}',
        b'{"webhookTimestamp": "1700000000000"}',
        b'{"webhookTimestamp": 1e999}',
        b'{"action": "update"}',
        b"[1, 2]",
        b"not json",
    ],
    ids=["nan", "infinity", "string", "overflow", "missing", "array", "not-json"],
)
def test_linear_without_a_usable_signed_time_is_refused(body: bytes) -> None:
    with pytest.raises(Rejected):
        verify("linear", body, linear_headers(body))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_hostile_header_values_are_refused_not_crashes(case: Case) -> None:
    body = case.body
    headers = case.sign(body, SECRET)
    for name in case.missing or ("X-Bugline-Hook-Secret",):
        for value in (
            "sha256=é" + "0" * 63,
            "x" * 5000,
            "v0=\x00\x01",
            "2026-13-45T99:99:99Z",
            "\uff11\uff12\uff13",
        ):
            with pytest.raises(Rejected):
                verify(case.kind, body, headers | {name: value})


def test_signatures_name_their_algorithm() -> None:
    body = dumps({"action": "closed"})
    digest = github_headers(body)["X-Hub-Signature-256"].removeprefix("sha256=")
    with pytest.raises(Rejected, match="must start with 'sha256='"):
        verify("github", body, {"X-Hub-Signature-256": "sha1=" + digest})
    with pytest.raises(Rejected, match="must start with 'sha256='"):
        verify("jira", body, {"X-Hub-Signature": digest})
    headers = slack_headers(SLACK_BODY)
    with pytest.raises(Rejected, match="must start with 'v0='"):
        verify("slack", SLACK_BODY, headers | {"X-Slack-Signature": headers["X-Slack-Signature"][3:]})


def test_zendesk_signs_the_timestamp_too() -> None:
    body = zendesk_body()
    headers = zendesk_headers(body)
    later = zendesk_headers(body, at=time.time() - 60)["X-Zendesk-Webhook-Signature-Timestamp"]
    with pytest.raises(Rejected, match="does not match"):
        verify("zendesk", body, headers | {"X-Zendesk-Webhook-Signature-Timestamp": later})


def test_shared_secrets_travel_in_a_header_or_the_query_and_must_be_long() -> None:
    body = dumps({"ticket_id": 7})
    verify("freshdesk", body, shared_headers())
    vendor("django-helpdesk").verify(inbound(body, {}, {"secret": SECRET}), SECRET)  # type: ignore[union-attr]
    vendor("django-helpdesk").verify(inbound(body, shared_headers()), SECRET)  # type: ignore[union-attr]
    with pytest.raises(Rejected, match="does not match"):
        vendor("freshdesk").verify(inbound(body, {}, {"secret": SECRET[:-1]}), SECRET)  # type: ignore[union-attr]
    short = "tooshort"
    with pytest.raises(Rejected, match="fewer than 16 characters"):
        vendor("freshdesk").verify(inbound(body, shared_headers(short)), short)  # type: ignore[union-attr]


def test_every_receiving_connector_kind_has_a_vendor_and_a_webhook_secret_setting() -> None:
    from bugline.connectors import registry

    for kind in registry.kinds():
        cls = registry.get(kind)
        names = {s.name: s for s in cls.settings}
        if kind in ("email", "webhook"):
            assert vendor(kind) is None and "webhook_secret" not in names
        else:
            assert vendor(kind) is not None, kind
            setting = names["webhook_secret"]
            assert setting.secret and not setting.required, kind
