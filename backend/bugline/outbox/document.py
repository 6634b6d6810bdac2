"""A stored report, read back as the ``ReportDocument`` every connector renders.

One read per delivery: the report, its project and reporter, its stored media (each with a
presigned link that outlives the ticket's first readers, and a reader for connectors that
upload the bytes), and the duplicate group's counts as they are *now*, not as they were at
triage time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bugline.connectors.document import (
    ConsoleEntry,
    Duplicates,
    Environment,
    Fact,
    FailedRequest,
    Level,
    Media,
    ReportDocument,
    Reporter,
)
from bugline.db.models import Attachment, AttachmentState, DuplicateGroup, Project, Report
from bugline.db.models import Reporter as ReporterRow
from bugline.storage.base import MediaStore
from bugline.triage import language
from bugline.triage.result import LEVELS

# The SOP checklist in its own order, with the labels people read in the ticket.
FACTS: tuple[tuple[str, str, str], ...] = (
    ("trying_to_do", "trying_to_do", "What they were trying to do"),
    ("expected", "expected", "Expected behaviour"),
    ("actual", "actual", "Actual behaviour"),
    ("error_text", "error_text", "Error message"),
    ("steps_to_reproduce", "steps", "Steps to reproduce"),
    ("frequency", "frequency", "How often"),
    ("affected", "people_affected", "People affected"),
)
_CHOICES = {
    "always": "Every time",
    "sometimes": "Sometimes",
    "once": "Once",
    "just_me": "Just me",
    "some": "Some people",
    "everyone": "Everyone",
    "unknown": "",
}
CONSOLE_LIMIT = 20
NETWORK_LIMIT = 20


class Loaded:
    """What one read of the database gives: rows, not yet turned into a document (links
    need the media store, which is async)."""

    def __init__(
        self,
        report: Report,
        project: Project,
        reporter: ReporterRow | None,
        attachments: list[Attachment],
        group: DuplicateGroup | None,
    ) -> None:
        self.report = report
        self.project = project
        self.reporter = reporter
        self.attachments = attachments
        self.group = group


def load(session: Session, report_id: str) -> Loaded | None:
    row = session.execute(
        select(Report, Project, ReporterRow)
        .join(Project, Project.id == Report.project_id)
        .outerjoin(ReporterRow, ReporterRow.id == Report.reporter_id)
        .where(Report.id == report_id)
    ).one_or_none()
    if row is None:
        return None
    report, project, reporter = row
    attachments = list(
        session.execute(
            select(Attachment)
            .where(Attachment.report_id == report_id, Attachment.state == AttachmentState.STORED)
            .order_by(Attachment.created_at)
        ).scalars()
    )
    group = session.get(DuplicateGroup, report.duplicate_group_id) if report.duplicate_group_id else None
    return Loaded(report, project, reporter, attachments, group)


async def build(loaded: Loaded, store: MediaStore, *, public_url: str, link_ttl: int) -> ReportDocument:
    r = loaded.report
    verdict: Mapping[str, Any] = r.triage or {}
    completeness = verdict.get("completeness") or {}
    severity = verdict.get("severity") or {}
    classification = verdict.get("classification") or {}
    missing = tuple(str(m) for m in completeness.get("missing") or ())
    media = []
    for a in loaded.attachments:
        content_type = a.content_type or "application/octet-stream"
        url = await store.download_url(
            a.storage_key, filename=a.filename, content_type=content_type, expires_in=link_ttl
        )
        media.append(
            Media(
                name=a.filename,
                content_type=content_type,
                size=a.size or 0,
                kind=a.kind,
                url=url,
                read=_reader(store, a.storage_key),
            )
        )
    g = loaded.group
    who = loaded.reporter
    return ReportDocument(
        report_id=r.id,
        number=r.number,
        project=loaded.project.name,
        title=r.title or "(no title)",
        description=r.description or "",
        facts=tuple(
            Fact(key, label, _fact_value(getattr(r, column)), key in missing) for key, column, label in FACTS
        ),
        severity=_level(severity.get("level") or r.severity),
        severity_score=float(severity.get("score") or 0.0),
        severity_reasons=tuple(str(x) for x in severity.get("reasons") or ()),
        completeness=int(r.completeness or 0),
        missing=missing,
        kind=r.kind or "bug",
        categories=tuple(str(x) for x in classification.get("categories") or ()),
        environment=_environment(r),
        console=tuple(_console(r.console or []))[:CONSOLE_LIMIT],
        failed_requests=tuple(_failed(r.network or []))[:NETWORK_LIMIT],
        duplicates=Duplicates(
            group_id=g.id, reports=g.report_count, people=g.reporter_count, accounts=g.account_count
        )
        if g is not None
        else Duplicates(),
        media=tuple(media),
        reporter=Reporter(
            name=who.name or "", email=who.email or "", account=who.account or "", plan=who.plan or ""
        )
        if who is not None
        else Reporter(),
        link=f"{public_url}/reports/{r.id}",
        created_at=r.created_at,
        metadata={str(k): str(v) for k, v in (r.metadata_ or {}).items()},
        unread_language=language.name(str(completeness.get("unread_language") or "")),
    )


def _level(value: Any) -> Level:
    for level in LEVELS:
        if value == level:
            return level
    return "medium"


def _reader(store: MediaStore, key: str) -> Callable[[], AsyncIterator[bytes]]:
    return lambda: store.iter_bytes(key)


def _fact_value(value: str | None) -> str:
    text = (value or "").strip()
    return _CHOICES.get(text, text)


def _environment(r: Report) -> Environment:
    env: Mapping[str, Any] = r.environment or {}
    viewport = env.get("viewport") or {}
    size = ""
    if isinstance(viewport, Mapping) and viewport.get("width") and viewport.get("height"):
        size = f"{viewport['width']}x{viewport['height']}"
    device = " ".join(x for x in (r.device_type, r.device_vendor, r.device_model) if x)
    return Environment(
        browser=" ".join(x for x in (r.browser_name, r.browser_version) if x),
        os=" ".join(x for x in (r.os_name, r.os_version) if x),
        device=device,
        url=r.page_url or "",
        viewport=size,
        locale=str(env.get("locale") or ""),
        user_agent=r.user_agent or "",
    )


def _console(entries: list[Any]) -> list[ConsoleEntry]:
    out = []
    for c in entries:
        if isinstance(c, Mapping) and str(c.get("level") or "") in ("error", "warn", "warning"):
            message = str(c.get("message") or "")
            if c.get("stack"):
                message = f"{message}\n{c['stack']}"
            out.append(ConsoleEntry(str(c.get("level")), message, str(c.get("source") or "")))
    return out


def _failed(entries: list[Any]) -> list[FailedRequest]:
    out = []
    for n in entries:
        if not isinstance(n, Mapping):
            continue
        status = n.get("status")
        code = status if isinstance(status, int) and not isinstance(status, bool) else None
        if code is not None and 0 < code < 400:
            continue
        duration = n.get("duration_ms")
        out.append(
            FailedRequest(
                method=str(n.get("method") or "GET"),
                url=str(n.get("url") or ""),
                status=code or None,
                duration_ms=float(duration) if isinstance(duration, int | float) else None,
            )
        )
    return out
