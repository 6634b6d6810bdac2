"""The triage engine: completeness, severity, kind and category, duplicate signatures.

Everything in this package is pure: no I/O, no database, no clock. It takes a
:class:`~bugline.triage.report.TriageInput` and project rules and returns
:class:`~bugline.triage.result.TriageResult`; the backend's wiring
(``bugline.intake.triage``) feeds it reports and stores what it says.
"""
