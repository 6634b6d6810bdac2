"""django-helpdesk: every follow-up posts the ticket to its follow-up webhook URLs.

What it sends ✅ (helpdesk/webhooks.py of 2.6.1, the version the tests run): new tickets POST
``{"ticket": {...}, "queue_slug"}``; every follow-up (a status change or a plain comment)
POSTs ``{"ticket": {..., "status": N}, "queue_slug", "followup_id"}`` with ``requests.post(url,
json=...)``: no signature, no custom headers, one attempt, a 3-second timeout
(``HELPDESK_WEBHOOK_TIMEOUT``). So the secret goes in the URL, ``?secret=``
(signatures.shared), and what the body claims is only a pointer: Bugline reads the ticket back
through the connector's API token (``fetch_ticket``) and acts on the follow-up as the helpdesk
stores it, which also proves the follow-up exists.

A status change is a follow-up with ``new_status`` set; other follow-ups (comments, Bugline's
own notes) change nothing. The follow-up's ``public`` flag decides where its comment goes: a
public one is the note the customer reads with the news; a private one stays on the internal
timeline. "Cannot reproduce": django-helpdesk has no tags, so a follow-up whose comment begins
with the words (``Cannot reproduce: tried on Chrome 120 …``, see states.CANNOT_REPRODUCE) says it.

De-duplication: ``followup:<id>``; follow-up ids are the helpdesk's own primary keys.
"""

from __future__ import annotations

from typing import Any

from bugline.connectors.base import Connector, Failed, Retry, Ticket
from bugline.db.models import ReportStatus as S
from bugline.hooks import payload, signatures
from bugline.hooks.inbound import Event, Ignored, Inbound, Malformed, Unavailable, Vendor
from bugline.hooks.states import OPEN, says_cannot_reproduce, with_label

# Ticket.STATUS_CHOICES ✅ (helpdesk/models.py; /work/shared/notes/real-services.md).
STATES: dict[int, str | None] = {
    1: OPEN,  # Open: also where every new ticket starts
    2: S.REOPENED,
    3: S.RESOLVED,  # or cannot_reproduce when the follow-up says so
    4: S.CLOSED,
    5: None,  # Duplicate: the work goes on in the other ticket
}
NAMES = {1: "Open", 2: "Reopened", 3: "Resolved", 4: "Closed", 5: "Duplicate"}


class DjangoHelpdesk(Vendor):
    kind = "django-helpdesk"
    via = "django-helpdesk webhook"
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
            raise Malformed("a django-helpdesk webhook body is a JSON object")
        ticket_id = payload.text(payload.obj(data, "ticket"), "id")
        if not ticket_id.isdigit():
            raise Malformed("no ticket.id")
        followup = payload.text(data, "followup_id")
        if not followup:
            return Ignored("a new ticket: no status change")
        if not followup.isdigit():
            raise Malformed("followup_id is not a follow-up id")
        return Event(
            remote_id=ticket_id, state="", to="", keys=(f"followup:{followup}",), data={"followup": followup}
        )

    async def confirm(self, connector: Connector, ticket: Ticket, event: Event) -> Event | Ignored:
        fetch = getattr(connector, "fetch_ticket", None)
        if fetch is None:
            raise Unavailable(f"the {connector.kind} connector cannot read tickets back")
        current: dict[str, Any] | Retry | Failed = await fetch(ticket)
        if isinstance(current, Failed) and current.status == 404:
            return Ignored("the ticket no longer exists in the helpdesk")
        if isinstance(current, Retry | Failed):
            raise Unavailable(f"could not read the ticket back from the helpdesk: {current.reason}")
        followup = next(
            (
                f
                for f in payload.items(current, "followup_set")
                if payload.text(f, "id") == event.data["followup"]
            ),
            None,
        )
        if followup is None:
            return Ignored(f"follow-up {event.data['followup']} is not on ticket {ticket.remote_id}")
        if payload.number(followup, "new_status") is None:
            return Ignored("a follow-up that did not change the status")
        status = payload.number(current, "status")
        code = int(status) if status is not None and status.is_integer() else 0
        if code not in STATES:
            return Ignored(f"status {status!r} is not one Bugline maps")
        to = STATES[code]
        if to is None:
            return Ignored("marked as a duplicate: the work continues in the other ticket")
        comment = payload.note(followup, "comment")
        first_words = comment.split(":", 1)[0].split("\n", 1)[0][:40]
        to = with_label(to, [first_words] if says_cannot_reproduce([first_words]) else [])
        public = followup.get("public") is True
        return Event(
            remote_id=event.remote_id,
            state=NAMES[code],
            to=to,
            keys=event.keys,
            public_note=comment if public else "",
            internal_note="" if public else comment,
        )
