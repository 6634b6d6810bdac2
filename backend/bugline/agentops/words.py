"""A timeline item in plain words for the report page: what happened, in one line (pure).

The item's full data is shown beside it (escaped); this only names the event so an engineer
can scan the history without reading JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bugline.triage import language

STATUS = {
    "awaiting_media": "awaiting files",
    "received": "received",
    "needs_info": "needs info",
    "escalated": "escalated",
    "in_progress": "in progress",
    "resolved": "resolved",
    "cannot_reproduce": "cannot reproduce",
    "closed": "closed",
    "reopened": "reopened",
}
NOTIFICATION_STATE = {
    "pending": "waiting to be sent",
    "sent": "sent",
    "failed": "failed",
    "skipped": "not sent",
}


def status(value: Any) -> str:
    return STATUS.get(str(value), str(value or "?"))


def describe(item: Mapping[str, Any]) -> str:
    data: Mapping[str, Any] = item.get("data") or {}
    kind = str(item.get("kind") or "")
    if item.get("type") == "notification":
        state = NOTIFICATION_STATE.get(str(data.get("state")), str(data.get("state")))
        return f"Mail to the customer ({kind.replace('_', ' ')}): {state}"
    simple = {
        "created": "Report sent by the customer",
        "media_verified": f"Files checked: {data.get('stored', 0)} stored, {data.get('rejected', 0)} refused",
        "attachment_rejected": "A file was refused",
        "edited": "Fields edited: " + ", ".join(str(f) for f in data.get("fields") or []),
        "answered": "The customer answered the questions",
        "note": "Internal note",
        "reply": "Public reply to the customer",
        "forward_requested": f"Forward now: {data.get('retried', 0)} retried, {data.get('added', 0)} new",
        "redelivery_requested": f"Re-delivery: {data.get('retried', 0)} retried",
        "forwarded": f"Forwarded to {data.get('connector') or 'a connector'}",
        "delivery_retry": f"Delivery to {data.get('connector') or 'a connector'} failed, will retry",
        "delivery_failed": f"Delivery to {data.get('connector') or 'a connector'} failed for good",
        "notified": "Mail sent to the customer",
        "notify_skipped": "Mail to the customer skipped",
        "notify_failed": "Mail to the customer failed",
        "split": "Split out of its duplicate group",
        "unsubscribed": "The customer unsubscribed from mail",
        "sla_breached": "SLA target missed",
    }
    if kind in simple:
        return simple[kind]
    if kind == "triaged" or kind == "retriaged":
        verb = "Triaged" if kind == "triaged" else "Re-triaged"
        said = f"{verb}: {data.get('severity', '?')} severity, {data.get('completeness', '?')}% complete"
        if data.get("unread_language"):
            said += f"; not asked for facts: written in {language.name(str(data['unread_language']))}"
        return said
    if kind == "status_changed":
        return f"Status {status(data.get('from'))} → {status(data.get('to', data.get('status')))}"
    if kind == "severity_changed":
        return f"Severity {data.get('from') or 'none'} → {data.get('to')}"
    if kind == "merged":
        into = data.get("into") or {}
        return f"Merged into the group of #{into.get('number', '?')}"
    if kind == "duplicate_added":
        other = data.get("report") or {}
        return f"#{other.get('number', '?')} was merged into this report's group"
    return kind.replace("_", " ").capitalize() or "Event"
