"""The triage engine's one entry point: a report and its project's rules in, a verdict out.

Pure and total: any input, however hostile, gets a result in bounded time. Text fields are
capped before any rule sees them (the longest text a rule reads is ``TEXT_CAP`` characters),
which is what keeps a 1 MB paste as fast as a short report.
"""

from __future__ import annotations

import dataclasses

from bugline.triage import classify, completeness, language, severity
from bugline.triage.report import TEXT_FIELDS, GroupStats, TriageInput
from bugline.triage.result import TriageResult
from bugline.triage.rules import TriageRules

TEXT_CAP = 20_000  # characters per field; the first 20k hold the facts in every report we measured


def bounded(report: TriageInput) -> TriageInput:
    """The report with every free-text field cut to ``TEXT_CAP`` characters and NULs removed."""
    changes: dict[str, str] = {}
    for name in TEXT_FIELDS:
        value: str = getattr(report, name)
        clean = value[:TEXT_CAP].replace("\x00", "")
        if clean is not value and clean != value:
            changes[name] = clean
    return dataclasses.replace(report, **changes) if changes else report  # type: ignore[arg-type]


def triage(report: TriageInput, rules: TriageRules, group: GroupStats | None = None) -> TriageResult:
    report = bounded(report)
    # Told once: severity reads the words of the report's language (and its English text
    # model only English ones), kind and category too.
    written = language.for_rules(report.texts(), report.locale)
    return TriageResult(
        completeness=completeness.assess(report, rules.completeness, written),
        severity=severity.assess(report, rules.severity, group, written),
        classification=classify.classify(report, rules.classification, written),
    )
