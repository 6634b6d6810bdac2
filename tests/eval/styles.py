"""Completeness on reports written the way the data sets' trackers never write them.

The labelled data sets hold seven trackers; Chaparro et al.'s study, which most of their
labels come from, had nine (Hibernate's Jira and WordPress-Android's GitHub issues are the
two missing), and customers' trackers come in more styles still. ``tests/eval/probes/`` holds
invented reports in those styles (Jira wiki markup, GitHub and GitLab issue templates filled,
half filled or left as they came, Trac, Launchpad, mailing lists, logcat pastes, test cases
and code as the reproducer) and customers' own emails and widget texts (labelled for every
fact: how often, who else, the message, the device, which no data set labels), written for
this project, with labels we gave them following the
coding the data sets' annotators used. They are probes, not a benchmark: the labels are ours,
and the rules were changed after reading the engine's misses on them (commits of 2026-11-24).
What they are good for is catching a change that breaks a style no data set has.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

PROBES = Path(__file__).with_name("probes")
FACTS = (("has_eb", "expected", "expected behaviour"), ("has_s2r", "steps_to_reproduce", "steps to reproduce"))


def _rows() -> list[dict[str, Any]]:
    rows = []
    for path in sorted(PROBES.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            row["id"] = f"{path.stem}:{row['id']}"
            rows.append(row)
    return rows


def build_inputs(shared: Path) -> list[dict[str, Any]]:
    return [{"id": r["id"], "title": r["title"], "description": r["description"]} for r in _rows()]


def _every_fact(rows: list[dict[str, Any]], verdicts: dict[str, dict[str, Any]]) -> list[str]:
    """Reports labelled for every fact `bugline triage` lists (the customers' probe)."""
    if not rows:
        return []
    facts = [f for f in rows[0]["labels"] if f != "trying_to_do"]  # the command lists the others
    lines = [
        "",
        f"Customers' own words ({len(rows)} reports labelled for every fact): agreement per fact, "
        "and which way the engine errs.",
        "",
        "| fact | labelled present | agree | found missing, was there | found, was not there |",
        "|---|---:|---:|---:|---:|",
    ]
    for fact in facts:
        there = [bool(r["labels"][fact]) for r in rows]
        found = [fact not in verdicts[r["id"]]["completeness"]["missing"] for r in rows]
        pairs = list(zip(there, found, strict=True))
        lines.append(
            f"| {fact} | {sum(there)} | {sum(t == f for t, f in pairs)} | "
            f"{sum(t and not f for t, f in pairs)} | {sum(f and not t for t, f in pairs)} |"
        )
    return lines


def report(shared: Path, verdicts: dict[str, dict[str, Any]]) -> str:
    rows = _rows()
    by_style: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_style[r["style"]].append(r)
    lines = [
        "## Completeness on invented reports in trackers' styles the data sets lack",
        "",
        f"{len(rows)} reports in `tests/eval/probes/`, labelled by us, not by the data sets' "
        "annotators: a regression probe, not a benchmark (see `tests/eval/styles.py`). "
        "Agreement = the engine's verdict on the fact equals our label.",
        "",
        "| style | n | expected behaviour agree | steps to reproduce agree |",
        "|---|---:|---:|---:|",
    ]
    totals = [0, 0]
    for style in sorted(by_style):
        group = by_style[style]
        agree = [0, 0]
        for r in group:
            missing = set(verdicts[r["id"]]["completeness"]["missing"])
            for i, (label, fact, _) in enumerate(FACTS):
                agree[i] += (fact not in missing) == bool(r[label])
        totals[0] += agree[0]
        totals[1] += agree[1]
        lines.append(f"| {style} | {len(group)} | {agree[0]} | {agree[1]} |")
    lines.append(f"| **all** | {len(rows)} | {totals[0]} | {totals[1]} |")
    lines += _every_fact([r for r in rows if "labels" in r], verdicts)
    text = "\n".join(lines) + "\n"
    print(text)
    return text
