"""Slack: the status buttons of an alert, pressed by someone in the channel.

Signature ✅ (python-slack-sdk ``signature/__init__.py``, CONTRACTS.md section 6):
``X-Slack-Signature = "v0=" + hex(HMAC-SHA256(signing secret, "v0:" + X-Slack-Request-Timestamp
+ ":" + raw body))``, and the timestamp (Unix seconds) no more than 5 minutes from now.

What a press sends ✅ (Slack's interactivity payloads, ``block_actions``): a form body
``payload=<JSON>`` with ``actions[]``, ``container.channel_id`` and ``container.message_ts``
(``message.thread_ts`` for a button inside a thread).

The buttons' contract (Bugline's alert must carry them; see the final note in the hooks
helper's report): a button whose ``action_id`` starts with ``bugline_status`` and whose
``value`` is the Bugline status it sets: in_progress, resolved, cannot_reproduce, closed or
reopened. The ticket is ``<channel>:<message ts>``, as the connector stored it.

De-duplication: the body's hash (each press has its own ``trigger_id`` and ``action_ts``).
"""

from __future__ import annotations

from urllib.parse import parse_qs

from bugline.db.models import ReportStatus as S
from bugline.hooks import payload, signatures
from bugline.hooks.inbound import Event, Ignored, Inbound, Malformed, Vendor

# The button's value -> Bugline: the person pressing it chooses the status itself.
STATES: dict[str, str] = {
    "in_progress": S.IN_PROGRESS,
    "resolved": S.RESOLVED,
    "cannot_reproduce": S.CANNOT_REPRODUCE,
    "closed": S.CLOSED,
    "reopened": S.REOPENED,
}
WINDOW = 300.0  # seconds ✅ (the SDK refuses requests more than 5 minutes old)
SIGNATURE = "X-Slack-Signature"
TIMESTAMP = "X-Slack-Request-Timestamp"
ACTION = "bugline_status"


class Slack(Vendor):
    kind = "slack"
    via = "Slack button"

    def verify(self, inbound: Inbound, secret: str) -> None:
        header = signatures.required(inbound.header(SIGNATURE), SIGNATURE)
        stamp = signatures.required(inbound.header(TIMESTAMP), TIMESTAMP)
        sent = signatures.epoch_seconds(stamp, TIMESTAMP)
        given = signatures.prefixed(header, "v0=", SIGNATURE)
        base = b"v0:" + stamp.encode("ascii") + b":" + inbound.body
        signatures.check(signatures.hex_sha256(secret, base), given.lower(), SIGNATURE)
        signatures.fresh(sent, inbound.now, WINDOW, TIMESTAMP)

    def read(self, inbound: Inbound) -> Event | Ignored:
        try:
            form = parse_qs(inbound.body.decode("utf-8"), strict_parsing=True, max_num_fields=20)
        except (UnicodeDecodeError, ValueError):
            raise Malformed("a Slack interaction is a form body: payload=<JSON>") from None
        raw = form.get("payload", [])
        if len(raw) != 1:
            raise Malformed("a Slack interaction has exactly one payload field")
        data = payload.parse(raw[0].encode("utf-8"))
        if not isinstance(data, dict):
            raise Malformed("the payload is a JSON object")
        if payload.text(data, "type") != "block_actions":
            return Ignored(f"{payload.text(data, 'type') or '?'} is not a button press")
        pressed = [
            a for a in payload.items(data, "actions") if payload.text(a, "action_id").startswith(ACTION)
        ]
        if not pressed:
            return Ignored("no Bugline status button was pressed")
        value = payload.text(pressed[0], "value")
        to = STATES.get(value)
        if to is None:
            return Ignored(f"button value {value!r} is not a status Bugline sets")
        container = payload.obj(data, "container")
        channel = payload.text(container, "channel_id") or payload.text(payload.obj(data, "channel"), "id")
        ts = payload.text(payload.obj(data, "message"), "thread_ts") or payload.text(container, "message_ts")
        if not channel or not ts:
            raise Malformed("no container.channel_id or container.message_ts")
        return Event(
            remote_id=f"{channel}:{ts}",
            state=f"button {value}",
            to=to,
            keys=(payload.body_key(inbound.body),),
        )
