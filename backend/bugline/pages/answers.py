"""The customer answers the triage engine's questions: which field each question fills, the
checks on what they typed, and the one transaction that stores the answers.

Each question stands for a checklist fact (``triage.result.FACTS``) and fills the report's
own column for it (steps go to ``steps``, expected to ``expected`` ...), so the engine reads
the answers exactly as if the report had said so in the first place; browser and device, and
"anything else", are added to the free-text ``description`` (the engine reads it for every
fact). An answer to a field that already holds text is added after it, never over it.

What happens next depends on why the report waited:

- ``needs_info`` (triage sent it back): the status moves back to ``received`` through
  ``lifecycle.change`` (a public timeline entry; the SLA clock starts from the answers) and
  ``triaged_at`` is cleared in the same transaction, so the triage backlog claims it again
  (``intake.triage.claim`` takes only untriaged ``received`` reports). The new verdict
  regroups it (``grouping.assign`` detaches it from its old group first) and, complete
  now, routes it like any report; still incomplete, it goes back to ``needs_info``.
- ``cannot_reproduce`` (the team asked for more): the report was forwarded already, so a new
  verdict would route it to deliveries that exist and strand it in ``received``. Instead it
  is reopened (``lifecycle.change`` tells the group's tickets) and the answers themselves go
  to every ticket of its group as a comment (``outbox.plan.tell_tickets``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, insert, update

from bugline.db.models import Report, ReportEvent, ReportStatus
from bugline.intake.schema import Frequency, PeopleAffected
from bugline.intake.triage import input_of, public_view
from bugline.lifecycle import status as lifecycle
from bugline.outbox import plan
from bugline.pages.formbody import clean
from bugline.pages.language import ENGLISH, Words
from bugline.triage.questions import ask

REPORTS = cast(Table, Report.__table__)
EVENTS = cast(Table, ReportEvent.__table__)

# The caps of the wire format (intake/schema.py): Text for the checklist fields, LongText for
# the free text. An answer may not make a field longer than intake would have accepted.
TEXT_CAP = 20_000
DESCRIPTION_CAP = 100_000
COLUMN_CAPS = {"description": DESCRIPTION_CAP}
ENVIRONMENT_CAP = 2_000
OPEN_TO_ANSWERS = (ReportStatus.NEEDS_INFO, ReportStatus.CANNOT_REPRODUCE)
# Asked when the team could not reproduce a report whose verdict has no question left.
REPRODUCE_FACTS = ("steps_to_reproduce", "environment", "frequency", "error_text")

# The customer's choices and the answers' names as the team reads them (English): the same
# sentences as the customer's pages, from pages/words/en.toml.
FREQUENCY_WORDS: dict[str, str] = {v: ENGLISH(f"choice_{v}") for v in Frequency}
AFFECTED_WORDS: dict[str, str] = {v: ENGLISH(f"choice_{v}") for v in PeopleAffected}


@dataclass(frozen=True, slots=True)
class Field:
    """A form field: the fact it answers, the report column it fills, how it is shown."""

    name: str  # the form field, and the key in the ``answered`` event
    fact: str  # the checklist fact (triage.result.FACTS); "" for "anything else"
    label: str  # how the status page names the answer
    column: str  # the report column it goes into
    choices: Mapping[str, str] = field(default_factory=dict)  # value -> words, for a choice
    multiline: bool = True
    cap: int = TEXT_CAP
    prefix: str = ""  # written before the answer when it joins the free text

    def words(self, value: str) -> str:
        """The answer as the customer chose it: "Every time", not "always"."""
        return self.choices.get(value, value)


FIELDS: tuple[Field, ...] = (
    Field("trying_to_do", "trying_to_do", ENGLISH("field_trying_to_do"), "trying_to_do"),
    Field("expected", "expected", ENGLISH("field_expected"), "expected"),
    Field("actual", "actual", ENGLISH("field_actual"), "actual"),
    Field("error_text", "error_text", ENGLISH("field_error_text"), "error_text"),
    Field("steps", "steps_to_reproduce", ENGLISH("field_steps"), "steps"),
    Field(
        "environment",
        "environment",
        ENGLISH("field_environment"),
        "description",
        multiline=False,
        cap=ENVIRONMENT_CAP,
        prefix=ENGLISH("field_environment") + ": ",
    ),
    Field("frequency", "frequency", ENGLISH("field_frequency"), "frequency", choices=FREQUENCY_WORDS),
    Field(
        "people_affected",
        "affected",
        ENGLISH("field_people_affected"),
        "people_affected",
        choices=AFFECTED_WORDS,
    ),
)
MORE = Field("more", "", ENGLISH("field_more"), "description", cap=TEXT_CAP)
BY_FACT = {f.fact: f for f in FIELDS}
BY_NAME = {f.name: f for f in (*FIELDS, MORE)}


@dataclass(frozen=True, slots=True)
class Question:
    field: Field
    text: str  # the engine's plain-words question


def questions(report: Report, t: Words = ENGLISH) -> list[Question]:
    """The questions the form asks, in the engine's order and ``t``'s language. Facts without
    a text answer (a screenshot) are left out: this page takes words, the widget takes files."""
    view = public_view(report) or {}
    asked = [
        Question(BY_FACT[q["fact"]], t.question(q["fact"], q["question"]))
        for q in view.get("questions", [])
        if q.get("fact") in BY_FACT and isinstance(q.get("question"), str)
    ]
    if not asked and report.status == ReportStatus.CANNOT_REPRODUCE:
        texts = ask(REPRODUCE_FACTS, input_of(report, account=None, plan=None, attachment_kinds=()))
        asked = [Question(BY_FACT[fact], t.question(fact, text)) for fact, text in texts.items()]
    return asked


@dataclass(slots=True)
class Answers:
    """What the customer sent: the answers to store, or the messages per field."""

    values: dict[str, str]  # field name -> answer (non-empty only)
    typed: dict[str, str]  # field name -> what was typed, to show the form again
    errors: dict[str, str]  # field name -> message; "" names the form as a whole
    columns: dict[str, Any]  # the report's columns after the answers


def read(form: Mapping[str, str], asked: Sequence[Question], report: Report, t: Words = ENGLISH) -> Answers:
    """Checks the answers like intake checks a report (intake/schema.py caps); the messages
    in ``t``'s language."""
    fields = [q.field for q in asked] + [MORE]
    typed: dict[str, str] = {}
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for f in fields:
        value = clean(form.get(f.name, ""))
        typed[f.name] = value
        if not value:
            continue
        if f.choices:
            if value not in f.choices:
                errors[f.name] = t("choose_option")
                continue
        elif len(value) > f.cap:
            errors[f.name] = t("answer_too_long", length=len(value), cap=f.cap)
            continue
        values[f.name] = value
    columns = merged(report, values)
    for column, text in columns.items():
        cap = COLUMN_CAPS.get(column, TEXT_CAP)
        if isinstance(text, str) and len(text) > cap:
            over = len(text) - cap
            for f in fields:
                if f.column == column and f.name in values:
                    errors[f.name] = t("together_too_long", over=over)
    if not values and not errors:
        errors[""] = t("answer_one")
    kept = {k: v for k, v in values.items() if k not in errors}
    return Answers(values=kept, typed=typed, errors=errors, columns=merged(report, kept))


def merged(report: Report, values: Mapping[str, str]) -> dict[str, Any]:
    """The columns the answers change: choices set, text added after what is there."""
    out: dict[str, Any] = {}
    for f in (*FIELDS, MORE):
        value = values.get(f.name)
        if not value:
            continue
        if f.choices:
            out[f.column] = value
            continue
        current = str(out.get(f.column, getattr(report, f.column) or ""))
        text = f.prefix + value
        out[f.column] = f"{current}\n\n{text}" if current.strip() else text
    return out


@dataclass(frozen=True, slots=True)
class Stored:
    status: str  # the report's status after the answers
    retriage: bool  # the triage backlog has it again: poke it
    tell: bool  # the outbox has words for the team's tickets: poke it


def store(
    conn: Connection,
    *,
    report_id: str,
    project_id: str,
    reporter_id: str | None,
    before: str,
    answers: Answers,
    now: datetime,
) -> Stored | None:
    """In one transaction: the report's fields, the public ``answered`` event, and the status
    that sends it on (see the module's docstring). None when the report is no longer in
    ``before`` (answered twice at once, or the team moved it meanwhile): nothing changes."""
    if before not in OPEN_TO_ANSWERS:
        return None
    moved = conn.execute(
        update(REPORTS)
        .where(REPORTS.c.id == report_id, REPORTS.c.status == before)
        .values(**answers.columns, updated_at=now)
    ).rowcount
    if not moved:
        return None
    event_id = conn.execute(
        insert(EVENTS)
        .values(
            project_id=project_id,
            report_id=report_id,
            at=now,
            kind="answered",
            actor_type="reporter",
            actor=reporter_id,
            public=True,
            data={"answers": dict(answers.values)},
        )
        .returning(EVENTS.c.id)
    ).scalar_one()
    if before == ReportStatus.NEEDS_INFO:
        lifecycle.change(
            conn,
            [report_id],
            ReportStatus.RECEIVED,
            source=lifecycle.Source("reporter", None, via="answers"),
            now=now,
            only_from=(ReportStatus.NEEDS_INFO,),
        )
        # Back into the triage backlog, in the same transaction as the status.
        conn.execute(update(REPORTS).where(REPORTS.c.id == report_id).values(triaged_at=None))
        return Stored(ReportStatus.RECEIVED, retriage=True, tell=False)
    lifecycle.change(
        conn,
        [report_id],
        ReportStatus.REOPENED,
        source=lifecycle.Source("reporter", None, via="answers to the team's questions"),
        now=now,
        only_from=(ReportStatus.CANNOT_REPRODUCE,),
    )
    plan.tell_tickets(
        conn,
        project_id=project_id,
        report_id=report_id,
        action=f"answers:{event_id}",
        note=ticket_note(answers.values),
        now=now,
    )
    return Stored(ReportStatus.REOPENED, retriage=False, tell=True)


def ticket_note(values: Mapping[str, str]) -> str:
    """The answers as the team's tool shows them (the renderers escape it for each format)."""
    lines = ["The customer answered the team's questions:"]
    for name, value in values.items():
        f = BY_NAME.get(name)
        if f is not None:
            lines.append(f"{f.label}: {f.words(value)}")
    return "\n\n".join(lines)
