"""``bugline triage --in FILE.jsonl --out FILE.jsonl``: the engine over a file of reports.

One report per input line (``id``, ``title``, ``description`` and optionally the widget's
structured fields, ``context`` and ``reporter``); one verdict per output line, in the same
order. A line that is not a JSON object gets an ``error`` line instead of a verdict and the
command exits with status 1 after finishing the file, so one bad line never costs the rest.
"""

from __future__ import annotations

import contextlib
import json
import sys
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from bugline.triage.engine import triage
from bugline.triage.errors import RulesError
from bugline.triage.report import GroupStats, TriageInput
from bugline.triage.result import EVAL_FACTS, TriageResult
from bugline.triage.rules import TriageRules, load_rules


def verdict(report_id: Any, result: TriageResult) -> dict[str, Any]:
    """The output line for one report: the evaluation fields first, then the explanations."""
    c, s, k = result.completeness, result.severity, result.classification
    unread = [f for f in c.unchecked if f in EVAL_FACTS]
    return {
        "id": report_id,
        "completeness": {
            "score": c.score,
            "missing": [f for f in c.missing if f in EVAL_FACTS],
            "questions": {f: q for f, q in c.questions.items() if f in EVAL_FACTS},
            # Written in a language the rules do not read: these facts were not checked.
            **({"unread_language": c.unread_language, "unchecked": unread} if c.unread_language else {}),
        },
        "severity": {"level": s.level, "score": round(s.score, 1), "reasons": list(s.reasons)},
        "kind": k.kind,
        "categories": list(k.categories),
    }


def group_of(data: Mapping[str, Any]) -> GroupStats | None:
    """An optional ``group`` object ({reports, reporters, accounts}) on an input line."""
    g = data.get("group")
    if not isinstance(g, Mapping):
        return None

    def count(key: str) -> int:
        v = g.get(key)
        return v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else 1

    return GroupStats(reports=count("reports"), reporters=count("reporters"), accounts=count("accounts"))


def run(lines: Iterable[str], rules: TriageRules) -> Iterator[tuple[dict[str, Any], bool]]:
    """(output line, ok) for each non-blank input line."""
    for number, line in enumerate(lines, 1):
        if number == 1:
            # A byte-order mark opens files saved by Windows tools (PowerShell's Out-File,
            # Notepad's "UTF-8 with BOM"); RFC 8259 lets a parser ignore it, so this one does.
            line = line.removeprefix("\ufeff")
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError as exc:
            yield {"line": number, "error": f"not JSON: {exc}"}, False
            continue
        if not isinstance(data, dict):
            yield (
                {"line": number, "error": "each line must be a JSON object with id, title, description"},
                False,
            )
            continue
        report = TriageInput.from_mapping(data)
        yield verdict(data.get("id"), triage(report, rules, group_of(data))), True


def read_rules(path: str | None) -> TriageRules:
    if path is None:
        return load_rules(None)
    with open(path, "rb") as f:
        return load_rules(tomllib.load(f))


def main(in_path: str, out_path: str, rules_path: str | None) -> int:
    try:
        rules = read_rules(rules_path)
    except (OSError, tomllib.TOMLDecodeError, RulesError) as exc:
        print(f"bugline triage: rules: {exc}", file=sys.stderr)
        return 2
    try:
        with contextlib.ExitStack() as stack:
            source: IO[str] = (
                sys.stdin
                if in_path == "-"
                else stack.enter_context(open(in_path, encoding="utf-8", errors="replace"))
            )
            sink: IO[str] = (
                sys.stdout if out_path == "-" else stack.enter_context(open(out_path, "w", encoding="utf-8"))
            )
            return write_all(source, sink, rules)
    except OSError as exc:
        print(f"bugline triage: {exc}", file=sys.stderr)
        return 2


def write_all(source: IO[str], sink: IO[str], rules: TriageRules) -> int:
    failed = 0
    for out, ok in run(source, rules):
        if not ok:
            failed += 1
            print(f"bugline triage: line {out['line']}: {out['error']}", file=sys.stderr)
        sink.write(json.dumps(out, ensure_ascii=False) + "\n")
    return 1 if failed else 0


def default_out(in_path: str) -> str:
    return "-" if in_path == "-" else str(Path(in_path).with_suffix(".triage.jsonl"))
