"""Jira Cloud: status changes from an admin webhook saved with a secret.

Signature ⚠ (CONTRACTS.md section 2: jira.js ``verify.ts``, Atlassian's Data Center doc,
n8n-io/n8n#8822 citing ``#secure-admin-webhooks``): ``X-Hub-Signature: sha256=<hex
HMAC-SHA256(secret, raw body)>``. Only webhooks saved with a secret are signed, and Bugline
accepts no unsigned ones. No timestamp is signed; replays are caught by de-duplication on
``X-Atlassian-Webhook-Identifier`` (the same across Jira's retries ⚠ jira.js
``webhooks/headers.ts``) and on the body's hash (each event's body carries its ``timestamp``).

Read ⚠ (CONTRACTS.md): ``webhookEvent == "jira:issue_updated"``, ``issue.key`` (the ticket, as
the connector stored it), ``issue.fields.status.statusCategory.key`` (``new``,
``indeterminate``, ``done``: the three categories every Jira workflow status belongs to),
``issue.fields.resolution.name`` and ``issue.fields.labels``. Only an update whose
``changelog.items`` change the status or the resolution, or add a cannot-reproduce label, is a
status change: Bugline's own comments and attachments on the issue fire this webhook too and
must not move the report.

No public note: Jira comments (outside Service Management) are the team's.
A moved issue gets a new key; its old key no longer finds the ticket (ignored, 202).
"""

from __future__ import annotations

from typing import Any

from bugline.db.models import ReportStatus as S
from bugline.hooks import payload, signatures
from bugline.hooks.inbound import Event, Ignored, Inbound, Malformed, Vendor
from bugline.hooks.states import CANNOT_REPRODUCE, OPEN, folded, says_cannot_reproduce, with_label

CATEGORIES: dict[str, str] = {
    "new": OPEN,  # To Do and its kin: open, nobody on it yet
    "indeterminate": S.IN_PROGRESS,  # In Progress, In Review, ...
    "done": S.RESOLVED,  # refined by the resolution below
}
# Resolutions (folded: states.folded) of a "done" issue. Jira Cloud's defaults are Done, Won't
# Do, Duplicate and Cannot Reproduce ❓ (sites add their own). A fix is said only for names that
# mean one; any other resolution is "closed", never a claim that it was fixed.
FIXED = frozenset({"done", "fixed", "resolved", "completed", ""})
DUPLICATE = frozenset({"duplicate"})
SIGNATURE = "X-Hub-Signature"
IDENTIFIER = "X-Atlassian-Webhook-Identifier"
CHANGES = frozenset({"status", "resolution"})


class Jira(Vendor):
    kind = "jira"
    via = "Jira webhook"

    def verify(self, inbound: Inbound, secret: str) -> None:
        header = signatures.required(inbound.header(SIGNATURE), SIGNATURE)
        given = signatures.prefixed(header, "sha256=", SIGNATURE)
        signatures.check(signatures.hex_sha256(secret, inbound.body), given.lower(), SIGNATURE)

    def read(self, inbound: Inbound) -> Event | Ignored:
        data = payload.parse(inbound.body)
        if not isinstance(data, dict):
            raise Malformed("a Jira webhook body is a JSON object")
        event = payload.text(data, "webhookEvent")
        if event != "jira:issue_updated":
            return Ignored(f"{event or 'an event without webhookEvent'} is not an issue update")
        issue = payload.obj(data, "issue")
        key = payload.text(issue, "key")
        if not key:
            raise Malformed("no issue.key")
        fields = payload.obj(issue, "fields")
        labels = payload.names(payload.items(fields, "labels"))
        if not _status_changed(payload.items(payload.obj(data, "changelog"), "items")):
            return Ignored("the update changed neither the status nor the resolution")
        category = payload.text(payload.obj(fields, "status", "statusCategory"), "key")
        status_name = payload.text(payload.obj(fields, "status"), "name")
        to = CATEGORIES.get(category)
        if to is None:
            return Ignored(f"status category {category!r} is not one Bugline maps")
        resolution = folded(payload.text(payload.obj(fields, "resolution"), "name"))
        if category == "done":
            if resolution in DUPLICATE:
                return Ignored("resolved as a duplicate: the work continues in the other issue")
            if resolution in CANNOT_REPRODUCE:
                to = S.CANNOT_REPRODUCE
            elif resolution in FIXED:
                to = S.RESOLVED if resolution else with_label(S.RESOLVED, labels)
            else:
                to = with_label(S.CLOSED, labels)
        else:
            to = with_label(to, labels)
        keys = [payload.body_key(inbound.body)]
        if inbound.header(IDENTIFIER):
            keys.insert(0, payload.id_key("delivery", inbound.header(IDENTIFIER)))
        state = status_name + (f"/{resolution}" if category == "done" and resolution else "")
        return Event(remote_id=key, state=state or category, to=to, keys=tuple(keys))


def _status_changed(items: list[Any]) -> bool:
    for item in items:
        name = payload.text(item, "field").lower()
        if name in CHANGES:
            return True
        if name == "labels":
            before = payload.text(item, "fromString").split()
            after = payload.text(item, "toString").split()
            if says_cannot_reproduce(after) and not says_cannot_reproduce(before):
                return True
    return False
