"""GitHub Issues: issue closes, reopens and labels from a repository webhook.

Signature ✅ (github/docs ``validating-webhook-deliveries.md``, CONTRACTS.md section 4):
``X-Hub-Signature-256 = "sha256=" + hex(HMAC-SHA256(secret, raw body))``, compared in
constant time. GitHub signs no timestamp, so a replay is caught by de-duplication instead:
``X-GitHub-Delivery`` (the same GUID on a redelivery ✅ CONTRACTS.md) and the body's hash
(every issue event carries the issue's ``updated_at``, so two real events never share a body;
the hash also catches a captured body replayed under a made-up delivery id, which the
signature does not cover).

Events read ✅ (the spec's ``x-webhooks``: issues-closed, -reopened, -labeled, ping), with
``X-GitHub-Event: issues`` and the body's ``action``. The ticket is ``repository.full_name``
+ ``#`` + ``issue.number``, as the connector stored it; GitHub names are case-insensitive.
The webhook must send ``application/json`` (the form-encoded variant is refused, 400).

No public note: the closing comment is not in the payload, and a tracker's comments are the
team's, not written for the customer.
"""

from __future__ import annotations

from bugline.db.models import ReportStatus as S
from bugline.hooks import payload, signatures
from bugline.hooks.inbound import Event, Ignored, Inbound, Malformed, Vendor
from bugline.hooks.states import says_cannot_reproduce, with_label

# (action, issue.state_reason) -> Bugline; the reasons ✅ (CONTRACTS.md section 4:
# completed | not_planned | duplicate | reopened).
CLOSED: dict[str, str | None] = {
    "completed": S.RESOLVED,  # "Close as completed": done, fixed
    # "Close as not planned" covers won't fix, can't reproduce and stale (GitHub's own wording):
    # telling the customer "we could not reproduce it" would be a guess, so it is closed,
    # unless the cannot-reproduce label says exactly that.
    "not_planned": S.CLOSED,
    # A duplicate of another issue: the work goes on there, in an issue Bugline does not
    # follow. Nothing changes; the report's SLA follow-ups keep the team asking.
    "duplicate": None,
    "": S.RESOLVED,  # older events without a reason: GitHub's default close is "completed"
}
SIGNATURE = "X-Hub-Signature-256"
DELIVERY = "X-GitHub-Delivery"
EVENT = "X-GitHub-Event"


class GitHub(Vendor):
    kind = "github"
    via = "GitHub webhook"

    def verify(self, inbound: Inbound, secret: str) -> None:
        given = signatures.prefixed(
            signatures.required(inbound.header(SIGNATURE), SIGNATURE), "sha256=", SIGNATURE
        )
        signatures.check(signatures.hex_sha256(secret, inbound.body), given.lower(), SIGNATURE)

    def read(self, inbound: Inbound) -> Event | Ignored:
        event = inbound.header(EVENT)
        if not event:
            raise Malformed(f"no {EVENT} header")
        if event == "ping":
            return Ignored("ping: the webhook reaches Bugline and its signature checks out")
        if event != "issues":
            return Ignored(f"{event[:50]} events carry no issue status; send only Issues events")
        data = payload.parse(inbound.body)
        if not isinstance(data, dict):
            raise Malformed(
                "a GitHub webhook body is a JSON object (set the content type to application/json)"
            )
        action = payload.text(data, "action")
        issue = payload.obj(data, "issue")
        number = payload.text(issue, "number")
        repo = payload.text(payload.obj(data, "repository"), "full_name")
        if not number.isdigit() or "/" not in repo:
            raise Malformed("no issue.number or repository.full_name")
        labels = payload.names(payload.items(issue, "labels"))
        reason = payload.text(issue, "state_reason")
        if action == "closed":
            if reason not in CLOSED:
                return Ignored(f"closed with reason {reason!r}, which Bugline does not map")
            to = CLOSED[reason]
            if to is None:
                return Ignored("closed as a duplicate: the work continues in the other issue")
            # A close as completed is a fix, whatever labels remain (states.py).
            to = to if reason == "completed" else with_label(to, labels)
            state = f"closed/{reason or 'completed'}"
        elif action == "reopened":
            to, state = S.REOPENED, "reopened"
        elif action == "labeled":
            added = payload.names([payload.obj(data, "label")])
            if payload.text(issue, "state") != "open" or not says_cannot_reproduce(added):
                return Ignored("a label that says nothing about the issue's status")
            to, state = S.CANNOT_REPRODUCE, f"labeled {added[0]}"
        else:
            return Ignored(f"issues/{action[:30]} is not a status change")
        keys = [payload.body_key(inbound.body)]
        if inbound.header(DELIVERY):
            keys.insert(0, payload.id_key("delivery", inbound.header(DELIVERY)))
        return Event(remote_id=f"{repo}#{number}", state=state, to=to, keys=tuple(keys), fold_case=True)
