"""The variables a notification template sees: only what the customer may read.

Built from a ``Facts`` (the rows a notification needs, loaded by ``bugline.notify.store``)
as plain strings, numbers, lists and dicts, never database objects, so a template (a
project's, in the sandbox) can reach nothing else. What goes in is public by construction:
the report's reference, title and status, the customer's own name, the notification's
``note`` (the public note given with a status change; internal notes are separate timeline
events and never reach a notification) and the triage engine's plain-words questions.

    kind            "resolved" (one of bugline.notify.queue.KINDS)
    locale          "de"
    project.name    "Acme"
    report          reference "#42", number 42, title, status, severity, created_at (ISO 8601)
    reporter        name ("" when unknown), email
    links           status, answer, reopen, unsubscribe (bugline.notify.links)
    questions       ["What did you expect to happen?", ...] (received / needs_info)
    note            the team's public note with the change ("" when none)
    team            who the report went to: the project's team for the report's category,
                    its team, else "our engineering team" in the mail's language
    timeframe       the resolution target for the report's severity as a promise:
                    "within 4 hours" / "innerhalb von 4 Stunden"
    close_days      days a report that cannot be reproduced stays open (14)
    previous_status the status before the change ("cannot_reproduce" for the 14-day closure)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bugline.notify import links as public_links
from bugline.notify.locales import Phrases, phrases
from bugline.render import common
from bugline.sla.targets import targets_or_defaults

TITLE_LIMIT = 200
NOTE_LIMIT = 5_000
QUESTION_LIMIT = 300
MAX_QUESTIONS = 12
NAME_LIMIT = 100


@dataclass(frozen=True, slots=True)
class Facts:
    """What one notification is about."""

    kind: str
    project_name: str
    project_settings: Mapping[str, Any]
    report_id: str
    number: int
    title: str
    status: str
    severity: str | None
    category: str | None
    created_at: datetime
    reporter_id: str | None
    reporter_name: str = ""
    reporter_email: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)  # the notification's own data


def notifications_settings(project_settings: Mapping[str, Any]) -> Mapping[str, Any]:
    value = project_settings.get("notifications")
    return value if isinstance(value, Mapping) else {}


def variables(
    facts: Facts,
    locale: str,
    *,
    public_url: str,
    secret_key: str,
    links: public_links.Links | None = None,
) -> dict[str, Any]:
    words = phrases(locale)
    targets = targets_or_defaults(facts.project_settings)
    severity = facts.data.get("severity") if isinstance(facts.data.get("severity"), str) else None
    severity = severity or facts.severity
    made = links or public_links.links_for(public_url, secret_key, facts.report_id, facts.reporter_id)
    return {
        "kind": facts.kind,
        "locale": locale,
        "project": {"name": common.one_line(facts.project_name, NAME_LIMIT)},
        "report": {
            "reference": f"#{facts.number}",
            "number": facts.number,
            "title": common.one_line(facts.title, TITLE_LIMIT),
            "status": facts.status,
            "severity": severity or "",
            "created_at": facts.created_at.astimezone(UTC).isoformat(),
        },
        "reporter": {
            "name": common.one_line(facts.reporter_name, NAME_LIMIT),
            "email": facts.reporter_email,
        },
        "links": {
            "status": made.status,
            "answer": made.answer,
            "reopen": made.reopen,
            "unsubscribe": made.unsubscribe,
        },
        "questions": questions(facts.data, words),
        "note": note(facts.data),
        "team": team(facts, locale, words.get("team")),
        "timeframe": words.within(targets.resolution(severity)),
        "close_days": max(1, round(targets.cannot_reproduce_close.total_seconds() / 86400)),
        "previous_status": str(facts.data.get("from") or ""),
    }


def questions(data: Mapping[str, Any], words: Phrases) -> list[str]:
    """The engine's questions (``{fact: question}``), each in the mail's language when the
    translation has it; a bare list (older notifications) is shown as it was stored."""
    raw = data.get("questions")
    values: list[Any] = (
        [words.question(str(fact), q) for fact, q in raw.items() if isinstance(q, str)]
        if isinstance(raw, Mapping)
        else raw
        if isinstance(raw, list)
        else []
    )
    out = [common.one_line(q, QUESTION_LIMIT) for q in values if isinstance(q, str) and q.strip()]
    return out[:MAX_QUESTIONS]


def note(data: Mapping[str, Any]) -> str:
    value = data.get("note")
    return common.block_text(value, NOTE_LIMIT) if isinstance(value, str) else ""


def team(facts: Facts, locale: str, default: str) -> str:
    """``notifications.teams[category]``, else ``notifications.team``, else the translation's
    default. Each may be a string or ``{locale: string}``."""
    settings = notifications_settings(facts.project_settings)
    teams = settings.get("teams")
    candidates = []
    if isinstance(teams, Mapping) and facts.category:
        candidates.append(teams.get(facts.category))
    candidates.append(settings.get("team"))
    for candidate in candidates:
        if isinstance(candidate, Mapping):
            candidate = candidate.get(locale) or candidate.get(locale.split("-", 1)[0])
        if isinstance(candidate, str) and candidate.strip():
            return common.one_line(candidate, NAME_LIMIT)
    return default


# ---- samples, for previews and for checking a project's templates -----------------------------

SAMPLE_QUESTIONS = {
    "steps_to_reproduce": "Which steps lead to the problem, one by one?",
    "expected": "What did you expect to happen?",
}
SAMPLE_NOTE = "We found the cause, a timeout in the export service. The fix is live since 14:05."


def sample(kind: str, project_name: str, project_settings: Mapping[str, Any]) -> Facts:
    """A made-up report, realistic enough to judge a template by."""
    data: dict[str, Any] = {"severity": "high"}
    if kind in ("received", "needs_info"):
        data["questions"] = dict(SAMPLE_QUESTIONS)
    if kind in ("escalated", "resolved", "cannot_reproduce", "closed", "reopened", "reply"):
        data["note"] = SAMPLE_NOTE
        data["from"] = {"closed": "cannot_reproduce", "reopened": "resolved"}.get(kind, "escalated")
    return Facts(
        kind=kind,
        project_name=project_name,
        project_settings=project_settings,
        report_id="sample-report",
        number=42,
        title="The Export button does nothing",
        status=kind,
        severity="high",
        category="billing",
        created_at=datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
        reporter_id="sample-reporter",
        reporter_name="Ana Silva",
        reporter_email="ana@example.com",
        data=data,
    )


def preview_links(public_url: str) -> public_links.Links:
    """Links that look like the real ones but open nothing: a preview must not hand an agent a
    customer's status or unsubscribe capability."""
    status = f"{public_url.rstrip('/')}/s/PREVIEW-STATUS-TOKEN"
    return public_links.Links(
        status=status,
        answer=status + "/answer",
        reopen=status + "/reopen",
        unsubscribe=f"{public_url.rstrip('/')}/u/PREVIEW-UNSUBSCRIBE-TOKEN",
    )
