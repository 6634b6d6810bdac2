"""Zendesk: status changes from a webhook, signed with the webhook's signing secret.

Signature ✅ (developer.zendesk.com/documentation/webhooks/verifying/, CONTRACTS.md section 1):
``X-Zendesk-Webhook-Signature = base64(HMAC-SHA256(secret, timestamp + body))`` where the
timestamp is the ``X-Zendesk-Webhook-Signature-Timestamp`` header, ISO 8601 such as
``2021-03-25T05:09:27Z`` ✅ (developer.zendesk.com/documentation/webhooks/anatomy-of-a-webhook-request).
The secret is used as the key as it is shown (the docs' NodeJS example passes the string).

Replay window: Zendesk signs the timestamp but names no window; Bugline refuses timestamps
more than 5 minutes from its clock, either way. Five minutes is the window Slack's signing
spec uses (CONTRACTS.md section 6) and covers Zendesk's immediate retries; an older delivery is
also caught by the de-duplication below if it was seen before.

Two kinds of webhook are read (CONTRACTS.md section 1):

- an event-subscribed webhook, ``zen:event-type:ticket.status_changed`` ⚠: ``detail.id``,
  ``event.current`` (upper case: ``SOLVED``), ``detail.tags`` when present;
- a webhook fired by a trigger ("Ticket status | Changed") whose JSON body the admin writes.
  Bugline reads this template (placeholders are Zendesk's) ⚠:

      {"ticket": {"id": "{{ticket.id}}", "status": "{{ticket.status}}",
                  "tags": "{{ticket.tags}}",
                  "latest_public_comment": "{{ticket.latest_public_comment}}"}}

  (the same keys at the top level, and ``ticket_id`` for ``id``, are read too). The status
  placeholder renders the status's name ("Solved"); an account whose agent language is not
  English renders it translated, which Bugline does not map: use the event webhook there.
  Only ``latest_public_comment`` becomes the customer's note: it is public by definition;
  nothing else in the body reaches them.

De-duplication: ``X-Zendesk-Webhook-Invocation-Id`` ⚠ (anatomy page: on every request), the
event's own ``id`` for event webhooks, and the hash of timestamp + body (a trigger's body
alone repeats whenever the same status comes round again, so it is not a key by itself).
"""

from __future__ import annotations

from datetime import datetime

from bugline.db.models import ReportStatus as S
from bugline.hooks import payload, signatures
from bugline.hooks.inbound import Event, Ignored, Inbound, Malformed, Rejected, Vendor
from bugline.hooks.states import OPEN, with_label

# Zendesk's statuses ✅ (CONTRACTS.md section 1: new|open|pending|hold|solved|closed).
STATES: dict[str, str] = {
    "new": OPEN,  # not yet looked at: nothing new for the customer
    "open": S.IN_PROGRESS,  # an agent has it
    "pending": S.IN_PROGRESS,  # waiting on the requester: still being handled
    "hold": S.IN_PROGRESS,  # waiting on a third party: still being handled
    "solved": S.RESOLVED,  # or cannot_reproduce with the tag (states.CANNOT_REPRODUCE)
    "closed": S.CLOSED,  # Zendesk closes solved tickets on its own after some days
}
WINDOW = 300.0  # seconds; see the module docstring
SIGNATURE = "X-Zendesk-Webhook-Signature"
TIMESTAMP = "X-Zendesk-Webhook-Signature-Timestamp"
INVOCATION = "X-Zendesk-Webhook-Invocation-Id"
EVENT_TYPE = "zen:event-type:ticket.status_changed"


class Zendesk(Vendor):
    kind = "zendesk"
    via = "Zendesk webhook"

    def verify(self, inbound: Inbound, secret: str) -> None:
        given = signatures.required(inbound.header(SIGNATURE), SIGNATURE)
        stamp = signatures.required(inbound.header(TIMESTAMP), TIMESTAMP)
        sent = _iso_seconds(stamp)
        signatures.check(
            signatures.b64_sha256(secret, stamp.encode("utf-8") + inbound.body), given, SIGNATURE
        )
        signatures.fresh(sent, inbound.now, WINDOW, TIMESTAMP)

    def read(self, inbound: Inbound) -> Event | Ignored:
        data = payload.parse(inbound.body)
        if not isinstance(data, dict):
            raise Malformed("a Zendesk webhook body is a JSON object")
        keys = [payload.body_key(inbound.header(TIMESTAMP).encode("utf-8"), inbound.body)]
        if inbound.header(INVOCATION):
            keys.insert(0, payload.id_key("invocation", inbound.header(INVOCATION)))
        kind = payload.text(data, "type")
        if kind.startswith("zen:event-type:"):
            if kind != EVENT_TYPE:
                return Ignored(f"{kind} is not a status change")
            detail = payload.obj(data, "detail")
            ticket_id = payload.text(detail, "id")
            state = payload.text(payload.obj(data, "event"), "current").lower()
            tags = _tags(detail)
            note = ""
            if payload.text(data, "id"):
                keys.insert(0, payload.id_key("event", payload.text(data, "id")))
        else:
            ticket = payload.obj(data, "ticket") or data
            ticket_id = payload.text(ticket, "id") or payload.text(ticket, "ticket_id")
            state = payload.text(ticket, "status").lower()
            tags = _tags(ticket)
            note = payload.note(ticket, "latest_public_comment")
        if not ticket_id.isdigit():
            raise Malformed("no ticket id: the body needs ticket.id ({{ticket.id}}) or an event's detail.id")
        if not state:
            raise Malformed("no status: the body needs ticket.status ({{ticket.status}})")
        to = STATES.get(state)
        if to is None:
            return Ignored(f"Zendesk status {state!r} is not one Bugline maps")
        return Event(
            remote_id=ticket_id,
            state=state,
            to=with_label(to, tags),
            keys=tuple(keys),
            public_note=note,
        )


def _iso_seconds(stamp: str) -> float:
    try:
        when = datetime.fromisoformat(stamp.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Rejected(f"{TIMESTAMP} must be an ISO 8601 time like 2021-03-25T05:09:27Z") from None
    if when.tzinfo is None:
        raise Rejected(f"{TIMESTAMP} must carry its time zone (Z)")
    return when.timestamp()


def _tags(ticket: object) -> list[str]:
    """``{{ticket.tags}}`` renders as one space-separated string; event details carry a list."""
    if isinstance(ticket, dict) and isinstance(ticket.get("tags"), str):
        tags: str = ticket["tags"]
        return tags.split()[:200]
    return payload.names(payload.items(ticket, "tags"))
