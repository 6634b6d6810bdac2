"""Trains the severity text model on the Apache Hadoop JIRA bugs (CC BY 4.0) and writes its JSON.

    .venv/bin/python -m tests.eval.train_severity [--shared DIR] [--out FILE] [--check]

Reads ``../shared/datasets/severity_hadoop_jira.jsonl``; only the learned weights are
written (words and word pairs with four numbers each), never the reports. Trained on the
Hadoop set alone: that is the one set whose licence lets a model derived from it ship.
``--check`` retrains and fails if the shipped file differs (the file is reproducible).

scikit-learn is used here and in the evaluation only; the engine reads the JSON with
:mod:`bugline.triage.model`, whose :func:`features` this script uses so both see the same
tokens.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression

from bugline.triage.model import LEVEL_ORDER, features

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SHARED = ROOT.parent / "shared"
OUT = ROOT / "backend" / "bugline" / "triage" / "model" / "hadoop_severity.json"
SOURCE = (
    "Trained on Apache Hadoop JIRA bug reports 2020-2022 as collected by GitBugs, licensed "
    "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/); priority mapped to tiers "
    "Blocker/Critical=critical, Major=high, Minor=medium, Trivial=low."
)
C = 1.0  # inverse regularisation; 1.0 was best of 0.3/1/3/10 in 5-fold CV on macro-F1
MIN_DF = 2  # a term must occur in two reports: one-off words (issue numbers) only memorise
MAX_TERMS = 6000  # the strongest terms kept: the file stays small and the score barely moves
DECIMALS = 3


def load_rows(shared: Path) -> list[dict[str, Any]]:
    path = shared / "datasets" / "severity_hadoop_jira.jsonl"
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def train(rows: Sequence[dict[str, Any]], c: float = C, max_terms: int = MAX_TERMS) -> dict[str, Any]:
    """The model JSON for these rows (each with title, description, severity4)."""
    feats = [features(r["title"] or "", r["description"] or "") for r in rows]
    vec = DictVectorizer()
    x = vec.fit_transform(feats)
    df = np.asarray((x > 0).sum(axis=0)).ravel()
    keep = np.flatnonzero(df >= MIN_DF)
    x = x[:, keep]
    names = np.array(vec.get_feature_names_out())[keep]
    y = np.array([LEVEL_ORDER.index(r["severity4"]) for r in rows])
    # Balanced: a rare tier (critical, low) counts as much as the default "Major"; without it
    # the model says "high" for everything, which is what Jira's default priority looks like.
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000)
    model.fit(x, y)
    coef = np.zeros((4, x.shape[1]))
    coef[model.classes_] = model.coef_  # classes_ is 0..3 when every tier is in the rows
    bias = np.zeros(4)
    bias[model.classes_] = model.intercept_
    # Softmax is unchanged by a per-term shift, so centre each term's four weights: the
    # strongest terms are then the ones that separate tiers, not the ones that are frequent.
    coef -= coef.mean(axis=0, keepdims=True)
    strength = np.abs(coef).max(axis=0)
    order = np.argsort(-strength, kind="stable")[:max_terms]
    weights = {
        str(names[i]): [round(float(v), DECIMALS) for v in coef[:, i]]
        for i in sorted(order, key=lambda j: names[j])
    }
    return {
        "classes": list(LEVEL_ORDER),
        "bias": [round(float(b - bias.mean()), DECIMALS) for b in bias],
        "prior": round(float(y.mean()), DECIMALS),
        "weights": weights,
        "trained_on": len(rows),
        "settings": {"C": c, "min_df": MIN_DF, "max_terms": max_terms, "class_weight": "balanced"},
        "source": SOURCE,
    }


def dump(model: dict[str, Any]) -> str:
    return json.dumps(model, sort_keys=True, separators=(",", ":")) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true", help="fail if the shipped model is not reproduced")
    args = parser.parse_args(argv)
    text = dump(train(load_rows(args.shared)))
    if args.check:
        same = args.out.read_text(encoding="utf-8") == text
        print("shipped model reproduced" if same else f"{args.out} differs from a fresh training run")
        return 0 if same else 1
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({len(text) / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
