"""What a report looks like on the wire: validated, normalised, and documented (pure, no I/O).

Unknown keys are refused rather than dropped, so a typo in an integration shows up
as an error the developer sees instead of a field silently lost. Every string and
list has a cap so one hostile report cannot fill the database.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from bugline.db.models import AttachmentKind

Text = Annotated[str, StringConstraints(max_length=20_000)]
Short = Annotated[str, StringConstraints(max_length=300)]
Url = Annotated[str, StringConstraints(max_length=4_000)]
# Free text from API and email clients: a whole ticket body, logs and stack traces included.
LongText = Annotated[str, StringConstraints(max_length=100_000)]

_EMAIL = re.compile(r"^[^@\s<>\"]{1,64}@[^@\s<>\"]{1,255}\.[^@\s<>\"]{1,63}$")


class Frequency(StrEnum):
    ALWAYS = "always"
    SOMETIMES = "sometimes"
    ONCE = "once"
    UNKNOWN = "unknown"


class PeopleAffected(StrEnum):
    JUST_ME = "just_me"
    SOME = "some"
    EVERYONE = "everyone"
    UNKNOWN = "unknown"


def join_steps(v: str | list[str]) -> str:
    """Steps as one numbered text, whether they came as text or as a list."""
    if isinstance(v, list):
        steps = [s.strip() for s in v if s.strip()]
        if len(steps) > 50:
            raise ValueError("has more than 50 steps")
        return "\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1))
    return v


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ReporterIn(Strict):
    """The customer. ``id`` is the host app's own user id, when it identified the user."""

    id: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    email: Annotated[str, StringConstraints(max_length=320)] | None = None
    name: Annotated[str, StringConstraints(max_length=200)] | None = None
    account: Annotated[str, StringConstraints(max_length=200)] | None = None
    plan: Annotated[str, StringConstraints(max_length=100)] | None = None
    locale: Annotated[str, StringConstraints(max_length=35)] | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v in (None, ""):
            return None
        assert v is not None
        if not _EMAIL.match(v):
            raise ValueError("is not an email address like name@example.com")
        return v.lower()


class Size(Strict):
    width: int = Field(ge=0, le=100_000)
    height: int = Field(ge=0, le=100_000)
    pixel_ratio: float | None = Field(default=None, ge=0, le=20)


class ConsoleEntry(Strict):
    level: Literal["debug", "log", "info", "warn", "error"]
    message: Annotated[str, StringConstraints(max_length=10_000)]
    stack: Annotated[str, StringConstraints(max_length=20_000)] | None = None
    source: Url | None = None
    at: datetime | float | None = None  # ISO time or epoch milliseconds
    count: int = Field(default=1, ge=1, le=1_000_000)  # repeats folded into one entry


class NetworkEntry(Strict):
    method: Annotated[str, StringConstraints(max_length=16, pattern=r"^[A-Za-z]+$")]
    url: Url
    status: int = Field(ge=0, le=999)  # 0: the request never got a response
    duration_ms: float | None = Field(default=None, ge=0)
    error: Annotated[str, StringConstraints(max_length=1_000)] | None = None
    at: datetime | float | None = None


HintText = Annotated[str, StringConstraints(max_length=100)]


class Brand(BaseModel):
    model_config = ConfigDict(extra="ignore")
    brand: HintText
    version: HintText


class ClientHints(BaseModel):
    """navigator.userAgentData.getHighEntropyValues(): flat and typed, so it cannot nest or grow.

    Unknown hints are dropped rather than refused: browsers add hints over time and an
    old server should not turn a new browser's report away.
    https://wicg.github.io/ua-client-hints/#interface
    """

    model_config = ConfigDict(extra="ignore")
    brands: list[Brand] = Field(default_factory=list, max_length=20)
    fullVersionList: list[Brand] = Field(default_factory=list, max_length=20)
    mobile: bool | None = None
    platform: HintText | None = None
    platformVersion: HintText | None = None
    model: HintText | None = None
    architecture: HintText | None = None
    bitness: HintText | None = None
    wow64: bool | None = None
    formFactors: list[HintText] = Field(default_factory=list, max_length=10)


class ContextIn(Strict):
    """What the widget captured about the page and the browser."""

    url: Url | None = None
    route: Url | None = None
    referrer: Url | None = None
    user_agent: Annotated[str, StringConstraints(max_length=2_000)] | None = None
    client_hints: ClientHints | None = None
    viewport: Size | None = None
    screen: Size | None = None
    locale: Annotated[str, StringConstraints(max_length=35)] | None = None
    languages: list[Annotated[str, StringConstraints(max_length=35)]] = Field(
        default_factory=list, max_length=20
    )
    timezone: Annotated[str, StringConstraints(max_length=64)] | None = None
    connection: Annotated[str, StringConstraints(max_length=20)] | None = None
    console: list[ConsoleEntry] = Field(default_factory=list, max_length=200)
    network: list[NetworkEntry] = Field(default_factory=list, max_length=200)


MetaValue = Annotated[str, StringConstraints(max_length=1_000)] | int | float | bool | None


class AttachmentIn(Strict):
    """A file the client will upload straight to storage after the report is created."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    type: Annotated[str, StringConstraints(min_length=3, max_length=100, pattern=r"^[\w.+-]+/[\w.+-]+")]
    size: int = Field(gt=0, description="Bytes; for a recording still in progress, the most it may reach.")
    kind: AttachmentKind = AttachmentKind.FILE
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = None


class ReportIn(Strict):
    """A bug report in the customer's words, with what was captured around it."""

    title: Short = ""
    description: LongText = Field(
        default="",
        description="Free text, for clients that have one box (email, API, imported tickets): the "
        "triage engine finds steps, expected and actual behaviour inside it.",
    )
    trying_to_do: Text = Field(default="", description="What were you trying to do?")
    expected: Text = Field(default="", description="What did you expect to happen?")
    actual: Text = Field(default="", description="What happened instead?")
    error_text: Text = Field(default="", description="The exact error message, if any.")
    steps: Text | list[Annotated[str, StringConstraints(max_length=2_000)]] = Field(
        default="", description="Steps to reproduce: text, or a list of steps."
    )
    frequency: Frequency | None = None
    people_affected: PeopleAffected | None = None
    reporter: ReporterIn | None = None
    context: ContextIn = Field(default_factory=ContextIn)
    metadata: dict[Annotated[str, StringConstraints(max_length=100)], MetaValue] = Field(
        default_factory=dict, max_length=50
    )
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=50)

    @field_validator("steps")
    @classmethod
    def _steps(cls, v: str | list[str]) -> str:
        return join_steps(v)

    def has_description(self) -> bool:
        return any(
            (
                self.title,
                self.description,
                self.trying_to_do,
                self.expected,
                self.actual,
                self.error_text,
                self.steps,
            )
        )


class ReportPatch(Strict):
    """Changes to a report still awaiting its media (the customer kept typing while uploading)."""

    title: Short | None = None
    description: LongText | None = None
    trying_to_do: Text | None = None
    expected: Text | None = None
    actual: Text | None = None
    error_text: Text | None = None
    steps: Text | list[Annotated[str, StringConstraints(max_length=2_000)]] | None = None
    frequency: Frequency | None = None
    people_affected: PeopleAffected | None = None

    @field_validator("steps")
    @classmethod
    def _steps(cls, v: str | list[str] | None) -> str | None:
        return None if v is None else join_steps(v)


class PartRequest(Strict):
    part_number: int = Field(ge=1, le=10_000)
    size: int | None = Field(
        default=None,
        gt=0,
        description="Bytes in this part; only the last part may be shorter than part_size.",
    )


class PartsIn(Strict):
    """Signed URLs for parts: each URL accepts a body of exactly the part's size (S3 checks it)."""

    parts: list[PartRequest] = Field(min_length=1, max_length=1000)


class PartDone(Strict):
    part_number: int = Field(ge=1, le=10_000)
    etag: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class CompleteIn(Strict):
    parts: list[PartDone] = Field(min_length=1, max_length=10_000)


class AttachmentsIn(Strict):
    attachments: list[AttachmentIn] = Field(min_length=1, max_length=50)


class FinalizeIn(Strict):
    skip_rejected: bool = Field(
        default=False, description="Accept the report without attachments that failed verification."
    )


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    """Pydantic's errors as ``[{field: "context.viewport.width", message: "..."}]``."""
    out = []
    for err in exc.errors(include_url=False):
        path = ".".join(str(p) for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "is not a known field; check its spelling against /openapi.json"
        elif err["type"] == "missing":
            msg = "is required"
        out.append({"field": path or "(body)", "message": msg})
    return out
