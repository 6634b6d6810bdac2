"""The data model for the whole mission, typed with SQLAlchemy 2.

Tenancy: every row that belongs to a customer's project carries ``project_id`` and
every query filters on it, so one project's key can never reach another's data.
Columns reserved for later work (triage scores, duplicate groups, deliveries,
notifications) exist now as nullable fields so those features add behaviour, not
table rewrites.
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

# Stable constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; use bugline.db.models.utcnow()")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class ReportStatus(enum.StrEnum):
    """Where a report is in its life. Stored as text so new states need no migration."""

    AWAITING_MEDIA = "awaiting_media"  # created; attachments declared but not yet verified
    RECEIVED = "received"
    NEEDS_INFO = "needs_info"
    ESCALATED = "escalated"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CANNOT_REPRODUCE = "cannot_reproduce"
    CLOSED = "closed"
    REOPENED = "reopened"


class AttachmentKind(enum.StrEnum):
    SCREENSHOT = "screenshot"
    RECORDING = "recording"
    FILE = "file"
    LOG = "log"


class AttachmentState(enum.StrEnum):
    PENDING = "pending"  # slot handed out, bytes not verified
    UPLOADED = "uploaded"  # multipart upload completed, bytes not verified yet
    STORED = "stored"  # verified: exists, size, checksum, content type allowed
    REJECTED = "rejected"  # verification failed; object deleted; the slot can be replaced
    DELETING = "deleting"  # marked for removal; the object may still exist until the store confirms
    DELETED = "deleted"  # removed by the retention policy or an erasure request (the row stays)


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    public_key: Mapped[str] = mapped_column(String(64), unique=True)
    allowed_origins: Mapped[list[Any]] = mapped_column(default=list)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    report_seq: Mapped[int] = mapped_column(Integer, default=0)  # last report number handed out
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    """An agent or admin who signs in to the dashboard."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(300))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Membership(Base):
    __tablename__ = "memberships"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), default="agent")  # agent | lead | admin


class Reporter(Base):
    """The customer who reported: identified by the host app, or by the email they typed."""

    __tablename__ = "reporters"
    __table_args__ = (
        UniqueConstraint("project_id", "external_id", name="uq_reporters_project_external"),
        Index("ix_reporters_project_email", "project_id", "email"),
        Index("ix_reporters_project_account", "project_id", "account"),  # the inbox's account filter (0009)
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    external_id: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(200))
    account: Mapped[str | None] = mapped_column(String(200))
    plan: Mapped[str | None] = mapped_column(String(100))
    locale: Mapped[str | None] = mapped_column(String(35))
    unsubscribed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (
        # The idempotency guarantee lives in the database, not in a check-then-insert race.
        UniqueConstraint("project_id", "idempotency_key", name="uq_reports_project_idempotency"),
        UniqueConstraint("project_id", "number", name="uq_reports_project_number"),
        # The inbox (0009): each sort walks one of these in order and keyset pages resume
        # inside it, so a deep page costs what the first does (bugline.inbox.query).
        Index("ix_reports_project_created_id", "project_id", "created_at", "id"),
        # The monthly review (0012): reports resolved in a month, without reading older ones.
        Index("ix_reports_project_resolved", "project_id", "resolved_at"),
        Index("ix_reports_project_status_created", "project_id", "status", "created_at", "id"),
        Index("ix_reports_project_severity_created", "project_id", "severity", "created_at", "id"),
        Index("ix_reports_project_complete_created", "project_id", "completeness", "created_at", "id"),
        # The triage backlog: accepted reports without a verdict yet, found without a scan.
        Index("ix_reports_status_triaged", "status", "triaged_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    reporter_id: Mapped[str | None] = mapped_column(ForeignKey("reporters.id", ondelete="SET NULL"))
    number: Mapped[int] = mapped_column(Integer, default=0)  # per-project reference shown to people: "#42"
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_hash: Mapped[str | None] = mapped_column(String(64))  # to refuse a reused key with another body
    status_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(32), default=ReportStatus.RECEIVED)
    source: Mapped[str] = mapped_column(String(20), default="api")  # widget | api | form

    # The SOP's checklist, in the customer's words.
    title: Mapped[str] = mapped_column(String(300), default="")
    trying_to_do: Mapped[str] = mapped_column(Text, default="")
    expected: Mapped[str] = mapped_column(Text, default="")
    actual: Mapped[str] = mapped_column(Text, default="")
    error_text: Mapped[str] = mapped_column(Text, default="")
    steps: Mapped[str] = mapped_column(Text, default="")
    # Free text: API and email clients put everything in one box; triage reads it too.
    description: Mapped[str] = mapped_column(Text, default="")
    frequency: Mapped[str | None] = mapped_column(String(20))  # always | sometimes | once | unknown
    people_affected: Mapped[str | None] = mapped_column(String(20))  # just_me | some | everyone | unknown

    # Captured context.
    page_url: Mapped[str | None] = mapped_column(Text)
    referrer: Mapped[str | None] = mapped_column(Text)
    user_agent: Mapped[str | None] = mapped_column(Text)
    browser_name: Mapped[str | None] = mapped_column(String(100))
    browser_version: Mapped[str | None] = mapped_column(String(50))
    os_name: Mapped[str | None] = mapped_column(String(100))
    os_version: Mapped[str | None] = mapped_column(String(50))
    device_type: Mapped[str | None] = mapped_column(String(20))
    device_vendor: Mapped[str | None] = mapped_column(String(100))
    device_model: Mapped[str | None] = mapped_column(String(100))
    environment: Mapped[dict[str, Any]] = mapped_column(default=dict)  # viewport, screen, locale, hints...
    console: Mapped[list[Any]] = mapped_column(default=list)
    network: Mapped[list[Any]] = mapped_column(default=list)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    client_ip: Mapped[str | None] = mapped_column(String(64))

    # Room for the triage engine, duplicate grouping and delivery (later issues).
    severity: Mapped[str | None] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(50))
    triage: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # scores with their reasons
    # Copied out of ``triage`` so the inbox can filter and sort on them with an index.
    kind: Mapped[str | None] = mapped_column(String(20))  # bug | feature_request | question
    completeness: Mapped[int | None] = mapped_column(Integer)  # 0..100
    triaged_at: Mapped[datetime | None] = mapped_column()
    duplicate_group_id: Mapped[str | None] = mapped_column(String(32), index=True)
    # --- report page actions (issue 7, migration 0010) ---
    # An agent's severity: kept over any later automatic verdict (a re-triage, a grown
    # duplicate group) until an agent hands it back to triage. The reason is on the
    # ``severity_changed`` event that set it.
    severity_override: Mapped[str | None] = mapped_column(String(20))
    severity_override_by: Mapped[str | None] = mapped_column(String(320))
    severity_override_at: Mapped[datetime | None] = mapped_column()
    # --- end report page actions ---

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column()
    # The life after triage (issue 6): when the status last changed, first reached the team,
    # and was resolved; the SLA timers and the monthly review read these.
    status_changed_at: Mapped[datetime | None] = mapped_column()
    escalated_at: Mapped[datetime | None] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()
    # Set while one finalize verifies the media, so concurrent ones don't repeat the work.
    finalizing_until: Mapped[datetime | None] = mapped_column()

    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="report", order_by="Attachment.created_at", lazy="raise"
    )


class Attachment(Base):
    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_report", "report_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(255))
    declared_type: Mapped[str] = mapped_column(String(100))
    content_type: Mapped[str | None] = mapped_column(String(100))  # as sniffed from the bytes
    declared_size: Mapped[int] = mapped_column(BigInteger)
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    declared_sha256: Mapped[str | None] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(300), unique=True)
    upload_id: Mapped[str | None] = mapped_column(String(300))  # multipart uploads
    state: Mapped[str] = mapped_column(String(20), default=AttachmentState.PENDING)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    verified_at: Mapped[datetime | None] = mapped_column()

    report: Mapped[Report] = relationship(back_populates="attachments", lazy="raise")


class ReportEvent(Base):
    """Append-only timeline: every state change of a report, and who or what made it."""

    __tablename__ = "report_events"
    __table_args__ = (
        Index("ix_report_events_report_at", "report_id", "id"),
        # The monthly review (0012): one kind of event in a project and month (severity
        # changes, status changes, replies) without reading the project's whole timeline.
        Index("ix_report_events_project_kind_at", "project_id", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(50))  # created, media_verified, status_changed, ...
    actor_type: Mapped[str] = mapped_column(String(20))  # reporter | agent | system | connector
    actor: Mapped[str | None] = mapped_column(String(200))
    public: Mapped[bool] = mapped_column(Boolean, default=False)  # shown on the reporter's status page
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class DuplicateGroup(Base):
    """Reports that are the same problem (issue 4). Counts are kept on the row so severity
    reads them in one lookup; ``bugline.grouping`` keeps them right as members come and go."""

    __tablename__ = "duplicate_groups"
    __table_args__ = (Index("ix_duplicate_groups_project_status", "project_id", "status", "updated_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    # The first report, shown as the group's title; the next oldest takes over if it leaves.
    primary_report_id: Mapped[str | None] = mapped_column(ForeignKey("reports.id", ondelete="SET NULL"))
    report_count: Mapped[int] = mapped_column(Integer, default=0)
    reporter_count: Mapped[int] = mapped_column(Integer, default=0)  # distinct people
    account_count: Mapped[int] = mapped_column(Integer, default=0)  # distinct customer accounts
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | closed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DuplicateMember(Base):
    """A report's place in its group: its signature (to compare the next report against),
    who reported it, and why it joined."""

    __tablename__ = "duplicate_members"
    __table_args__ = (
        # "Is this person / account already in the group?" is one index probe, so counts
        # stay exact without recounting the whole group on every join.
        Index("ix_duplicate_members_group_reporter", "group_id", "reporter_key"),
        Index("ix_duplicate_members_group_account", "group_id", "account_key"),
        # The newest open members of a group, read backwards and stopped at the limit: a group
        # of thousands must not be sorted on every join.
        Index("ix_duplicate_members_group_created", "group_id", "created_at"),
    )

    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    group_id: Mapped[str] = mapped_column(ForeignKey("duplicate_groups.id", ondelete="CASCADE"))
    reporter_key: Mapped[str] = mapped_column(String(64))  # reporter id, or the report's own for anonymous
    account_key: Mapped[str] = mapped_column(String(250))  # the reporter's account, else the reporter
    matched_report_id: Mapped[str | None] = mapped_column(String(32))  # the report it was matched to
    score: Mapped[float | None] = mapped_column(Float)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    signature: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DuplicateKey(Base):
    """The lookup index of duplicate matching: one row per signature key of a report.

    Finding candidates for a new report is one equality lookup per key on
    (project_id, key), newest first and capped, so its cost does not grow with the store.
    """

    __tablename__ = "duplicate_keys"
    __table_args__ = (Index("ix_duplicate_keys_project_key", "project_id", "key", "created_at"),)

    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    group_id: Mapped[str] = mapped_column(ForeignKey("duplicate_groups.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConnectorConfig(Base):
    """A destination a project forwards reports to: one helpdesk, tracker, channel or inbox.

    ``config`` holds the settings the connector validated (secrets included; they are
    masked whenever shown, see ``connectors.base.mask``). ``roles`` are what routing rules
    address ("helpdesk", "alerts", "finance", "product"), so rules survive renaming."""

    __tablename__ = "connectors"
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_connectors_project_name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    roles: Mapped[list[Any]] = mapped_column(default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DeliveryState(enum.StrEnum):
    PENDING = "pending"  # waiting for its time (available_at) or for a worker
    DONE = "done"  # the ticket exists (created, or updated for a duplicate)
    FAILED = "failed"  # gave up: a permanent error, or out of attempts; a person must act


class Delivery(Base):
    """The outbox: one row per (report, connector, action), written in the transaction that
    decided it, so nothing decided is lost and nothing is decided twice. Workers lease rows
    (``leased_until``) and record the outcome only while they still hold the lease."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("report_id", "connector_id", "action", name="uq_deliveries_report_connector_action"),
        # What is due: the only query a worker runs while idle.
        Index("ix_deliveries_state_available", "state", "available_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    connector_id: Mapped[str] = mapped_column(ForeignKey("connectors.id", ondelete="CASCADE"))
    # create (the report's ticket, or a comment on its group's), or a later word on the group's
    # ticket that must be said once: escalate:<timer key>, reopen:<event id>
    action: Mapped[str] = mapped_column(String(64), default="create")
    state: Mapped[str] = mapped_column(String(20), default=DeliveryState.PENDING)
    target: Mapped[dict[str, Any]] = mapped_column(default=dict)  # options and tags routing chose
    rules: Mapped[list[Any]] = mapped_column(default=list)  # the routing rules that chose it
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime] = mapped_column(default=utcnow)
    leased_until: Mapped[datetime | None] = mapped_column()
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_status: Mapped[int | None] = mapped_column(Integer)
    ticket_id: Mapped[str | None] = mapped_column(String(32))
    outcome: Mapped[str | None] = mapped_column(String(20))  # created | updated (a duplicate's comment)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column()


class Ticket(Base):
    """A ticket a connector created, per duplicate group: the first report of a group
    creates it, later duplicates comment on it. ``state`` is ``creating`` from the moment a
    delivery reserves the group until the vendor's answer is recorded, so two workers never
    create two tickets for one group."""

    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("connector_id", "group_key", name="uq_tickets_connector_group"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    connector_id: Mapped[str] = mapped_column(ForeignKey("connectors.id", ondelete="CASCADE"))
    group_key: Mapped[str] = mapped_column(String(32))  # duplicate group id, or the report id alone
    report_id: Mapped[str | None] = mapped_column(ForeignKey("reports.id", ondelete="SET NULL"))
    delivery_id: Mapped[str | None] = mapped_column(String(32))  # the delivery creating it
    state: Mapped[str] = mapped_column(String(20), default="creating")  # creating | created
    remote_id: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    """A personal API token for the agent API. Only its SHA-256 is stored; the token is
    shown once, when created."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()


class Notification(Base):
    """A message to a reporter, written in the transaction that caused it (a status change,
    a triage verdict) and sent by the workers like a delivery: leased, retried, recorded.
    The unique (report, kind, key) makes "none sent twice" a database rule."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("report_id", "kind", "key", name="uq_notifications_report_kind_key"),
        Index("ix_notifications_state_available", "state", "available_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    reporter_id: Mapped[str | None] = mapped_column(ForeignKey("reporters.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(30))  # received | needs_info | escalated | resolved | ...
    key: Mapped[str] = mapped_column(String(64), default="")  # what makes it distinct (the event id)
    state: Mapped[str] = mapped_column(String(20), default="pending")  # pending | sent | failed | skipped
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the public note, the timeframe, ...
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime] = mapped_column(default=utcnow)
    leased_until: Mapped[datetime | None] = mapped_column()
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()


class HookDelivery(Base):
    """An inbound webhook delivery already processed: vendors retry and replay, and the same
    delivery must change nothing the second time."""

    __tablename__ = "hook_deliveries"
    __table_args__ = (
        UniqueConstraint("connector_id", "delivery_key", name="uq_hook_deliveries_connector_key"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    connector_id: Mapped[str] = mapped_column(ForeignKey("connectors.id", ondelete="CASCADE"))
    delivery_key: Mapped[str] = mapped_column(String(200))  # the vendor's delivery id, or the body's hash
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class Timer(Base):
    """A moment something must happen to a report unless the report moves on first: an SLA
    escalation, a 48-hour follow-up, the 14-day cannot-reproduce closure. Fired once: the
    worker claims it with a conditional update, so restarts and several workers never fire
    one twice."""

    __tablename__ = "timers"
    __table_args__ = (
        UniqueConstraint("report_id", "key", name="uq_timers_report_key"),
        Index("ix_timers_state_due", "state", "due_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(
        String(30)
    )  # first_response | escalation | resolution | follow_up | close
    key: Mapped[str] = mapped_column(String(64))  # kind plus what makes it distinct ("follow_up:3")
    due_at: Mapped[datetime] = mapped_column()
    state: Mapped[str] = mapped_column(String(20), default="pending")  # pending | fired | cancelled
    fired_at: Mapped[datetime | None] = mapped_column()
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgentSession(Base):
    """A signed-in dashboard session. The cookie holds a random value; only its SHA-256 is
    the row's id, so a copy of the database cannot be replayed as cookies. Each session has
    its own CSRF secret, which every form and unsafe request must echo."""

    __tablename__ = "agent_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the cookie value
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()  # absolute end, whatever the activity
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    revoked_at: Mapped[datetime | None] = mapped_column()


class SavedView(Base):
    """An agent's named inbox filter: the inbox's query string, replayed as is."""

    __tablename__ = "saved_views"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_saved_views_user_name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    query: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Erasure(Base):
    """A record that personal data was erased: on a reporter's request or by the retention
    policy. It keeps only the SHA-256 of the address asked about, never the address itself,
    so the record proves the erasure without undoing it."""

    __tablename__ = "erasures"
    __table_args__ = (Index("ix_erasures_project_at", "project_id", "at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(20))  # request | retention
    subject_hash: Mapped[str | None] = mapped_column(String(64))  # SHA-256 of the lower-cased email or id
    requested_by: Mapped[str | None] = mapped_column(String(320))  # the agent or "bugline erase" operator
    reports: Mapped[int] = mapped_column(Integer, default=0)
    files: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class RateBucket(Base):
    """One identity's rate-limit bucket shared by every server process (``bugline.sharedlimits``):
    each process takes the hits it let through from ``tokens`` about once a second. The
    identity is a keyed hash of the client IP, project key or email, never the value itself."""

    __tablename__ = "rate_buckets"
    __table_args__ = (Index("ix_rate_buckets_updated", "updated"),)

    scope: Mapped[str] = mapped_column(String(20), primary_key=True)  # "ip", "key", "login_email", ...
    identity: Mapped[str] = mapped_column(String(64), primary_key=True)  # HMAC-SHA256, hex
    tokens: Mapped[float] = mapped_column(Float)  # below 1: refused until refilled
    capacity: Mapped[float] = mapped_column(Float)
    rate: Mapped[float] = mapped_column(Float)  # tokens per second
    updated: Mapped[float] = mapped_column(Float)  # seconds since the epoch of the last share
