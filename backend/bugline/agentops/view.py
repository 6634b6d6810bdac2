"""Everything an engineer needs about one report, read in one session: the same JSON-ready
dict feeds the report page and ``GET /api/v1/projects/{project_id}/reports/{report_id}``.

Reads only; every query is bounded (other reports of the reporter, group members, the
reports it may duplicate, the timeline) and filtered by the report's project. Media links
are added by the caller (:func:`media_links`): presigning is I/O and needs no session.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bugline.agentops.fields import FIELDS
from bugline.db.models import (
    Attachment,
    AttachmentState,
    ConnectorConfig,
    Delivery,
    DuplicateGroup,
    DuplicateMember,
    Notification,
    Project,
    Report,
    Reporter,
    ReportEvent,
    Ticket,
)
from bugline.grouping import suggest
from bugline.intake.triage import rules_for
from bugline.storage.base import MediaStore
from bugline.triage import language

OTHER_REPORTS = 20
GROUP_MEMBERS = 50
TIMELINE = 500  # events and notifications; a report with more shows the newest


def iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def link(url: str | None) -> str | None:
    """A URL we may put in an href: http(s) only (never javascript: or data:)."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _verdict(report: Report) -> Mapping[str, Any]:
    return report.triage if isinstance(report.triage, Mapping) else {}


def checklist(report: Report) -> list[dict[str, Any]]:
    """Each field with its value and, when triage found the fact missing, its question."""
    completeness = _verdict(report).get("completeness") or {}
    missing = {str(m) for m in completeness.get("missing") or []}
    questions = completeness.get("questions") or {}
    findings = {str(f.get("fact")): f for f in completeness.get("findings") or [] if isinstance(f, Mapping)}
    out = []
    for f in FIELDS:
        value = getattr(report, f.name)
        finding = findings.get(f.fact, {})
        out.append(
            {
                "name": f.name,
                "label": f.label,
                "value": value or "",
                "words": f.choices.get(value or "", value or "") if f.choices else value or "",
                "missing": bool(f.fact) and f.fact in missing,
                "question": _text(questions.get(f.fact)) if f.fact in missing else "",
                "note": _text(finding.get("note")),
            }
        )
    return out


def severity(report: Report, override_reason: str | None) -> dict[str, Any]:
    verdict = _verdict(report).get("severity") or {}
    engine = {
        "level": verdict.get("level"),
        "score": verdict.get("score"),
        "reasons": [str(r) for r in verdict.get("reasons") or []],
    }
    override = None
    if report.severity_override:
        override = {
            "level": report.severity_override,
            "by": report.severity_override_by,
            "at": iso(report.severity_override_at),
            "reason": override_reason,
        }
    return {
        "level": report.severity,
        "set_by": "agent" if report.severity_override else "triage",
        "override": override,
        "triage": engine,
    }


def environment(report: Report) -> dict[str, Any]:
    env = report.environment if isinstance(report.environment, Mapping) else {}

    def joined(*parts: str | None) -> str | None:
        return " ".join(p for p in parts if p) or None

    def size(value: Any) -> str | None:
        if isinstance(value, Mapping) and value.get("width") and value.get("height"):
            ratio = value.get("pixel_ratio")
            extra = f" @{ratio}x" if ratio else ""
            return f"{value['width']} x {value['height']}{extra}"
        return None

    return {
        "browser": joined(report.browser_name, report.browser_version),
        "os": joined(report.os_name, report.os_version),
        "device": joined(report.device_type, report.device_vendor, report.device_model),
        "url": report.page_url,
        "url_link": link(report.page_url),
        "referrer": report.referrer,
        "viewport": size(env.get("viewport")),
        "screen": size(env.get("screen")),
        "locale": _text(env.get("locale")) or None,
        "languages": [str(x) for x in env.get("languages") or [] if isinstance(x, str)],
        "timezone": _text(env.get("timezone")) or None,
        "connection": _text(env.get("connection")) or None,
        "user_agent": report.user_agent,
    }


def console(report: Report) -> list[dict[str, Any]]:
    return [
        {
            "level": _text(c.get("level")) or "log",
            "message": _text(c.get("message")),
            "stack": _text(c.get("stack")),
            "source": _text(c.get("source")),
            "count": c.get("count") if isinstance(c.get("count"), int) else 1,
        }
        for c in report.console or []
        if isinstance(c, Mapping)
    ]


def network(report: Report) -> list[dict[str, Any]]:
    out = []
    for n in report.network or []:
        if not isinstance(n, Mapping):
            continue
        status = n.get("status") if isinstance(n.get("status"), int) else 0
        duration = n.get("duration_ms")
        out.append(
            {
                "method": _text(n.get("method")) or "GET",
                "url": _text(n.get("url")),
                "status": status,
                "duration_ms": duration if isinstance(duration, int | float) else None,
                "error": _text(n.get("error")),
            }
        )
    return out


def metadata(report: Report) -> list[dict[str, Any]]:
    data = report.metadata_ if isinstance(report.metadata_, Mapping) else {}
    return [{"key": str(k), "value": v} for k, v in sorted(data.items(), key=lambda kv: str(kv[0]))]


def brief(r: Report) -> dict[str, Any]:
    return {
        "id": r.id,
        "number": r.number,
        "title": r.title,
        "status": r.status,
        "severity": r.severity,
        "created_at": iso(r.created_at),
    }


def reporter(s: Session, report: Report) -> dict[str, Any] | None:
    if report.reporter_id is None:
        return None
    who = s.execute(
        select(Reporter).where(Reporter.id == report.reporter_id, Reporter.project_id == report.project_id)
    ).scalar_one_or_none()
    if who is None:
        return None
    others = s.execute(
        select(Report)
        .where(
            Report.project_id == report.project_id,
            Report.reporter_id == who.id,
            Report.id != report.id,
        )
        .order_by(Report.created_at.desc())
        .limit(OTHER_REPORTS)
    ).scalars()
    return {
        "id": who.id,
        "name": who.name,
        "email": who.email,
        "external_id": who.external_id,
        "account": who.account,
        "plan": who.plan,
        "locale": who.locale,
        "unsubscribed": who.unsubscribed,
        "other_reports": [brief(r) for r in others],
    }


def duplicates(s: Session, report: Report) -> dict[str, Any] | None:
    if not report.duplicate_group_id:
        return None
    group = s.execute(
        select(DuplicateGroup).where(
            DuplicateGroup.id == report.duplicate_group_id, DuplicateGroup.project_id == report.project_id
        )
    ).scalar_one_or_none()
    if group is None:
        return None
    rows = s.execute(
        select(Report, DuplicateMember.score, DuplicateMember.reasons)
        .join(DuplicateMember, DuplicateMember.report_id == Report.id)
        .where(DuplicateMember.group_id == group.id, Report.project_id == report.project_id)
        .order_by(DuplicateMember.created_at, Report.id)
        .limit(GROUP_MEMBERS)
    ).all()
    own = next((r for r in rows if r[0].id == report.id), None)
    return {
        "group_id": group.id,
        "status": group.status,
        "reports": group.report_count,
        "reporters": group.reporter_count,
        "accounts": group.account_count,
        "primary_report_id": group.primary_report_id,
        "reasons": [str(x) for x in (own[2] if own else None) or []],
        "members": [
            {
                **brief(r),
                "score": round(score, 2) if isinstance(score, float) else None,
                "reasons": [str(x) for x in reasons or []],
                "this": r.id == report.id,
            }
            for r, score, reasons in rows
        ],
    }


def similar(s: Session, report: Report) -> list[dict[str, Any]]:
    """Open reports of other groups that may be the same problem, best first, with why."""
    project = s.get(Project, report.project_id)
    if project is None:
        return []
    return [
        {
            "id": x.report_id,
            "number": x.number,
            "title": x.title,
            "status": x.status,
            "severity": x.severity,
            "score": x.score,
            "reasons": list(x.reasons),
        }
        for x in suggest.suggest(s, report, rules_for(project).duplicates)
    ]


def attachments(s: Session, report: Report) -> list[dict[str, Any]]:
    rows = s.execute(
        select(Attachment)
        .where(Attachment.report_id == report.id, Attachment.project_id == report.project_id)
        .order_by(Attachment.created_at, Attachment.id)
    ).scalars()
    return [
        {
            "id": a.id,
            "kind": a.kind,
            "filename": a.filename,
            "content_type": a.content_type or a.declared_type,
            "size": a.size if a.size is not None else a.declared_size,
            "state": a.state,
            "error": a.error,
            "sha256": a.sha256,
            "url": None,  # filled by media_links() for stored files
            "key": a.storage_key if a.state == AttachmentState.STORED else None,
        }
        for a in rows
    ]


def deliveries(s: Session, report: Report) -> list[dict[str, Any]]:
    rows = s.execute(
        select(Delivery, ConnectorConfig.name, ConnectorConfig.kind)
        .join(ConnectorConfig, ConnectorConfig.id == Delivery.connector_id)
        .where(Delivery.report_id == report.id, Delivery.project_id == report.project_id)
        .order_by(Delivery.created_at, Delivery.id)
    ).all()
    return [
        {
            "id": d.id,
            "connector": name,
            "connector_kind": kind,
            "action": d.action,
            "state": d.state,
            "attempts": d.attempts,
            "outcome": d.outcome,
            "last_error": d.last_error,
            "last_status": d.last_status,
            "available_at": iso(d.available_at),
            "done_at": iso(d.done_at),
        }
        for d, name, kind in rows
    ]


def tickets(s: Session, report: Report) -> list[dict[str, Any]]:
    """The group's tickets, and any ticket this report's deliveries reached."""
    keys = [report.id] + ([report.duplicate_group_id] if report.duplicate_group_id else [])
    reached = select(Delivery.ticket_id).where(
        Delivery.report_id == report.id, Delivery.ticket_id.is_not(None)
    )
    rows = s.execute(
        select(Ticket, ConnectorConfig.name, ConnectorConfig.kind)
        .join(ConnectorConfig, ConnectorConfig.id == Ticket.connector_id)
        .where(
            Ticket.project_id == report.project_id,
            or_(Ticket.group_key.in_(keys), Ticket.id.in_(reached.scalar_subquery())),
        )
        .order_by(Ticket.created_at, Ticket.id)
    ).all()
    return [
        {
            "id": t.id,
            "connector": name,
            "connector_kind": kind,
            "state": t.state,
            "remote_id": t.remote_id,
            "url": link(t.url),
            "created_at": iso(t.created_at),
        }
        for t, name, kind in rows
    ]


def timeline(s: Session, report: Report) -> list[dict[str, Any]]:
    """Every event and notification, oldest first (the newest TIMELINE of them)."""
    events = s.execute(
        select(ReportEvent)
        .where(ReportEvent.report_id == report.id, ReportEvent.project_id == report.project_id)
        .order_by(ReportEvent.id.desc())
        .limit(TIMELINE)
    ).scalars()
    items: list[dict[str, Any]] = [
        {
            "type": "event",
            "id": str(e.id),
            "at": iso(e.at),
            "kind": e.kind,
            "actor_type": e.actor_type,
            "actor": e.actor,
            "public": e.public,
            "data": e.data if isinstance(e.data, dict) else {},
        }
        for e in events
    ]
    mails = s.execute(
        select(Notification)
        .where(Notification.report_id == report.id, Notification.project_id == report.project_id)
        .order_by(Notification.created_at.desc())
        .limit(TIMELINE)
    ).scalars()
    items.extend(
        {
            "type": "notification",
            "id": n.id,
            "at": iso(n.created_at),
            "kind": n.kind,
            "actor_type": "system",
            "actor": None,
            "public": True,
            "data": {
                "state": n.state,
                "attempts": n.attempts,
                "sent_at": iso(n.sent_at),
                "last_error": n.last_error,
            },
        }
        for n in mails
    )
    items.sort(key=lambda i: (i["at"] or "", i["type"] == "notification"))
    return items[-TIMELINE:]


def override_reason(items: list[dict[str, Any]], report: Report) -> str | None:
    """The reason given with the agent's severity now in force (its latest change)."""
    if not report.severity_override:
        return None
    for item in reversed(items):
        if item["type"] == "event" and item["kind"] == "severity_changed" and item["actor_type"] == "agent":
            reason = item["data"].get("reason")
            return reason if isinstance(reason, str) else None
    return None


def build(s: Session, report: Report) -> dict[str, Any]:
    items = timeline(s, report)
    verdict = _verdict(report)
    completeness = verdict.get("completeness") or {}
    classification = verdict.get("classification") or {}
    return {
        "id": report.id,
        "project_id": report.project_id,
        "number": report.number,
        "reference": f"#{report.number}",
        "title": report.title,
        "status": report.status,
        "source": report.source,
        "kind": report.kind,
        "category": report.category,
        "categories": [str(c) for c in classification.get("categories") or []],
        "completeness": report.completeness,
        "missing": [str(m) for m in completeness.get("missing") or []],
        "unread_language": str(completeness.get("unread_language") or ""),
        "unread_language_name": language.name(str(completeness.get("unread_language") or "")),
        "unchecked": [str(m) for m in completeness.get("unchecked") or []],
        "created_at": iso(report.created_at),
        "updated_at": iso(report.updated_at),
        "triaged_at": iso(report.triaged_at),
        "checklist": checklist(report),
        "severity": severity(report, override_reason(items, report)),
        "environment": environment(report),
        "console": console(report),
        "network": network(report),
        "metadata": metadata(report),
        "reporter": reporter(s, report),
        "attachments": attachments(s, report),
        "duplicates": duplicates(s, report),
        "similar": similar(s, report),
        "deliveries": deliveries(s, report),
        "tickets": tickets(s, report),
        "timeline": items,
    }


async def media_links(store: MediaStore, view: dict[str, Any], ttl: int) -> list[str]:
    """Presigned, short-lived download links for the stored files (in place); returns them."""
    urls = []
    for a in view["attachments"]:
        key = a.pop("key", None)
        if key:
            a["url"] = await store.download_url(
                key, filename=a["filename"], content_type=a["content_type"] or "", expires_in=ttl
            )
            urls.append(a["url"])
    return urls
