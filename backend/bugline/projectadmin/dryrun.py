"""The dry-run form: either a stored report's number or made-up facts (severity, kind,
categories, completeness, plan, account, page), read into what ``routing.Facts.from_json``
takes. Facts are checked by routing itself; this only turns form text into JSON values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bugline.projectadmin.problems import Problems, one

MAX_TEXT = 200


@dataclass(frozen=True, slots=True)
class DryRunInput:
    number: int | None  # a stored report, by its number in the project
    facts: dict[str, Any] | None  # or a made-up one


def read_dry_run(form: Mapping[str, str]) -> DryRunInput:
    raw_number = (form.get("report") or "").strip().lstrip("#")
    if raw_number:
        if not raw_number.isdigit() or len(raw_number) > 9:
            raise one("report", "a report number like 42 (or leave it empty and describe a report)")
        return DryRunInput(int(raw_number), None)
    problems: list[tuple[str, str]] = []
    facts: dict[str, Any] = {
        "severity": (form.get("severity") or "").strip(),
        "kind": (form.get("kind") or "bug").strip(),
    }
    categories = [c.strip() for c in (form.get("categories") or "").split(",") if c.strip()]
    facts["categories"] = categories
    completeness = (form.get("completeness") or "100").strip()
    if not completeness.isdigit() or not 0 <= int(completeness) <= 100:
        problems.append(("completeness", "a whole number from 0 to 100"))
    else:
        facts["completeness"] = int(completeness)
    for name in ("plan", "account", "page_url"):
        value = (form.get(name) or "").strip()
        if len(value) > MAX_TEXT:
            problems.append((name, f"at most {MAX_TEXT} characters"))
        elif value:
            facts[name] = value
    if problems:
        raise Problems(problems)
    return DryRunInput(None, facts)
