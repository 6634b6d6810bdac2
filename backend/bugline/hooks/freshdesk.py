"""Freshdesk: an automation rule's "Trigger webhook" action, confirmed by reading the ticket back.

Freshdesk signs nothing ⚠ (CONTRACTS.md section 3): the rule ("Ticket is updated", condition
"Status is changed") POSTs a JSON body the admin writes, with custom headers allowed. So the
secret travels in the ``X-Bugline-Hook-Secret`` header (signatures.shared), and Bugline then
``GET /api/v2/tickets/{id}``s the ticket and acts on its ``status`` and ``tags`` as Freshdesk
stores them ✅ (CONTRACTS.md: "re-GET the ticket and confirm its status").

The body Bugline reads (placeholders are Freshdesk's ⚠; the "simple" content mode wraps the
same fields in ``freshdesk_webhook``, which is read too):

    {"ticket_id": {{ticket.id}},
     "ticket_latest_public_comment": "{{ticket.latest_public_comment}}"}

Only the latest *public* comment becomes the customer's note; private notes never do.

De-duplication: the ticket's ``updated_at`` as read back (``ticket:<id>:<updated_at>``): a
repeat of one delivery finds the ticket as it was; the same body sent again after the ticket
moved on (resolved, reopened, resolved again) is a new event. Without ``updated_at``, the body.
"""

from __future__ import annotations

from typing import Any

from bugline.connectors.base import Connector, Failed, Retry, Ticket
from bugline.db.models import ReportStatus as S
from bugline.hooks import payload, signatures
from bugline.hooks.inbound import Event, Ignored, Inbound, Malformed, Unavailable, Vendor
from bugline.hooks.states import OPEN, with_label

# Ticket statuses ✅ (python-freshdesk models.py: 2 Open, 3 Pending, 4 Resolved, 5 Closed);
# accounts may add their own (6 and up), which are left alone.
STATES: dict[int, str] = {
    2: OPEN,
    3: S.IN_PROGRESS,  # Pending: waiting on someone, still being handled
    4: S.RESOLVED,  # or cannot_reproduce with the tag
    5: S.CLOSED,
}
NAMES = {2: "Open", 3: "Pending", 4: "Resolved", 5: "Closed"}


class Freshdesk(Vendor):
    kind = "freshdesk"
    via = "Freshdesk webhook"
    shared_secret = True

    def verify(self, inbound: Inbound, secret: str) -> None:
        signatures.shared(
            inbound.header(signatures.SECRET_HEADER),
            inbound.query.get(signatures.SECRET_PARAMETER, ""),
            secret,
        )

    def read(self, inbound: Inbound) -> Event | Ignored:
        data = payload.parse(inbound.body)
        if not isinstance(data, dict):
            raise Malformed("a Freshdesk webhook body is a JSON object")
        fields = payload.obj(data, "freshdesk_webhook") or data
        ticket_id = payload.text(fields, "ticket_id") or payload.text(payload.obj(fields, "ticket"), "id")
        if not ticket_id.isdigit():
            raise Malformed('no ticket_id: the body needs "ticket_id": {{ticket.id}}')
        note = payload.note(fields, "ticket_latest_public_comment") or payload.note(
            fields, "latest_public_comment"
        )
        return Event(
            remote_id=ticket_id, state="", to="", keys=(payload.body_key(inbound.body),), public_note=note
        )

    async def confirm(self, connector: Connector, ticket: Ticket, event: Event) -> Event | Ignored:
        fetch = getattr(connector, "fetch_ticket", None)
        if fetch is None:
            raise Unavailable(f"the {connector.kind} connector cannot read tickets back")
        current: dict[str, Any] | Retry | Failed = await fetch(ticket)
        if isinstance(current, Failed) and current.status == 404:
            return Ignored("the ticket no longer exists in Freshdesk")
        if isinstance(current, Retry | Failed):
            raise Unavailable(f"could not read the ticket back from Freshdesk: {current.reason}")
        status = payload.number(current, "status")
        code = int(status) if status is not None and status.is_integer() else 0
        if code not in STATES:
            return Ignored(f"Freshdesk status {status!r} is not one Bugline maps")
        to = with_label(STATES[code], payload.names(payload.items(current, "tags")))
        updated = payload.text(current, "updated_at")
        keys = (payload.id_key("ticket", f"{event.remote_id}:{updated}"),) if updated else event.keys
        return Event(
            remote_id=event.remote_id, state=NAMES[code], to=to, keys=keys, public_note=event.public_note
        )
