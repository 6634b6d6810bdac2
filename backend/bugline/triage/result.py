"""What the triage engine says about a report (pure data, JSON-ready)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

# The checklist facts, in the SOP's order. The first seven are the names the evaluation
# command's ``missing`` list uses; the last two are reported but never block a report alone.
Fact = Literal[
    "steps_to_reproduce",
    "expected",
    "actual",
    "error_text",
    "environment",
    "frequency",
    "affected",
    "trying_to_do",
    "evidence",
]
FACTS: tuple[Fact, ...] = (
    "trying_to_do",
    "expected",
    "actual",
    "error_text",
    "steps_to_reproduce",
    "environment",
    "frequency",
    "affected",
    "evidence",
)
EVAL_FACTS: frozenset[str] = frozenset(
    {"steps_to_reproduce", "expected", "actual", "error_text", "environment", "frequency", "affected"}
)

Level = Literal["critical", "high", "medium", "low"]
LEVELS: tuple[Level, ...] = ("critical", "high", "medium", "low")
Kind = Literal["bug", "feature_request", "question"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One checklist fact: present or not, where it was found, and why."""

    fact: Fact
    present: bool
    source: str = ""  # field | text | captured | none
    note: str = ""  # "expected equals actual", "only one step", ...


@dataclass(frozen=True, slots=True)
class Completeness:
    score: int  # 0..100
    findings: tuple[Finding, ...]
    missing: tuple[Fact, ...]
    questions: dict[str, str] = field(default_factory=dict)  # fact -> plain-words question
    # Written in a language the rules do not read ("es", "ar", ...): the facts not found are
    # unchecked, not missing, and the report is never sent back for them.
    unread_language: str = ""
    unchecked: tuple[Fact, ...] = ()


@dataclass(frozen=True, slots=True)
class Severity:
    level: Level
    score: float  # 0..100, higher is worse
    reasons: tuple[str, ...]  # "+ mentions payment failure"


@dataclass(frozen=True, slots=True)
class Classification:
    kind: Kind
    categories: tuple[str, ...]  # billing, security, performance, data, ui, integration, account
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TriageResult:
    completeness: Completeness
    severity: Severity
    classification: Classification
    version: str = "1"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
