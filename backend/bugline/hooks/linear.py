"""Linear: issue state changes from a webhook (resource type Issues).

Signature ✅ (Linear SDK ``webhooks/client.ts``, CONTRACTS.md section 5):
``Linear-Signature = hex(HMAC-SHA256(secret, raw body))``, compared timing-safe, and the
body's ``webhookTimestamp`` (Unix milliseconds) within 60 seconds of now. The signed body field
is what counts, not the ``Linear-Timestamp`` header (the SDK's CHANGELOG replay fix).

Read ✅ (schema.graphql ``EntityWebhookPayload`` / ``IssueWebhookPayload``): ``type == "Issue"``,
``action == "update"``, ``data.id`` (the ticket: the connector stores the issue's UUID),
``data.identifier``, ``data.state.type`` and ``data.labels[].name``. ``updatedFrom`` holds the
previous values of what changed: only an update with ``updatedFrom.stateId`` (the state
changed) or a newly added cannot-reproduce label is a status change; Bugline's own comments
change neither.

De-duplication: the event itself (``webhookId``, the issue, its ``updatedAt`` and the action),
since ``webhookTimestamp`` and so the body differ on every send; and the ``Linear-Delivery``
header when present ⚠ (third-party receivers read it; not in CONTRACTS.md).

No public note: Linear comments are the team's.
"""

from __future__ import annotations

from bugline.db.models import ReportStatus as S
from bugline.hooks import payload, signatures
from bugline.hooks.inbound import Event, Ignored, Inbound, Malformed, Rejected, Vendor
from bugline.hooks.states import OPEN, says_cannot_reproduce, with_label

# WorkflowState.type ✅ (CONTRACTS.md: triage, backlog, unstarted, started, completed,
# canceled, duplicate).
STATES: dict[str, str | None] = {
    "triage": OPEN,
    "backlog": OPEN,
    "unstarted": OPEN,
    "started": S.IN_PROGRESS,
    "completed": S.RESOLVED,  # done: a fix, whatever labels remain
    "canceled": S.CLOSED,  # or cannot_reproduce with the label
    "duplicate": None,  # the work goes on in the other issue
}
WINDOW = 60.0  # seconds ✅ (SDK: |now - webhookTimestamp| > 60 s is refused)
SIGNATURE = "Linear-Signature"
DELIVERY = "Linear-Delivery"


class Linear(Vendor):
    kind = "linear"
    via = "Linear webhook"

    def verify(self, inbound: Inbound, secret: str) -> None:
        given = signatures.required(inbound.header(SIGNATURE), SIGNATURE)
        signatures.check(signatures.hex_sha256(secret, inbound.body), given.lower(), SIGNATURE)
        try:
            data = payload.parse(inbound.body)
        except Malformed:  # signed, yet not JSON: it cannot carry the signed time
            raise Rejected("the body is not JSON, so it carries no webhookTimestamp") from None
        sent = payload.number(data, "webhookTimestamp")
        if sent is None:
            raise Rejected("unsigned time: the body has no webhookTimestamp (milliseconds)")
        signatures.fresh(sent / 1000.0, inbound.now, WINDOW, "webhookTimestamp")

    def read(self, inbound: Inbound) -> Event | Ignored:
        data = payload.parse(inbound.body)
        if not isinstance(data, dict):
            raise Malformed("a Linear webhook body is a JSON object")
        kind, action = payload.text(data, "type"), payload.text(data, "action")
        if kind != "Issue" or action != "update":
            return Ignored(f"{kind or '?'}/{action or '?'} is not an issue update")
        issue = payload.obj(data, "data")
        issue_id = payload.text(issue, "id")
        if not issue_id:
            raise Malformed("no data.id")
        before = payload.obj(data, "updatedFrom")
        labels = payload.names(payload.items(issue, "labels"))
        earlier = payload.items(before, "labelIds")
        new_label = "labelIds" in before and says_cannot_reproduce(
            payload.names([x for x in payload.items(issue, "labels") if payload.text(x, "id") not in earlier])
        )
        if "stateId" not in before and not new_label:
            return Ignored("the update did not change the issue's state")
        state = payload.obj(issue, "state")
        kind_of_state = payload.text(state, "type")
        if kind_of_state not in STATES:
            return Ignored(f"state type {kind_of_state!r} is not one Bugline maps")
        to = STATES[kind_of_state]
        if to is None:
            return Ignored("marked as a duplicate: the work continues in the other issue")
        if kind_of_state != "completed":
            to = with_label(to, labels)
        event_id = ":".join(
            [payload.text(data, "webhookId"), issue_id, payload.text(issue, "updatedAt"), action]
        )
        keys = [
            payload.id_key("event", event_id)
            if payload.text(issue, "updatedAt")
            else payload.body_key(inbound.body)
        ]
        if inbound.header(DELIVERY):
            keys.append(payload.id_key("delivery", inbound.header(DELIVERY)))
        name = payload.text(state, "name") or kind_of_state
        return Event(remote_id=issue_id, state=f"{name} ({kind_of_state})", to=to, keys=tuple(keys))
