"""`make eval` for severity: the SOP's four tiers on the Hadoop JIRA and NASA PITS dev sets.

    .venv/bin/python -m tests.eval.run --only severity     (through the real `bugline triage`)
    .venv/bin/python -m tests.eval.severity                 (in-process, same numbers)
    .venv/bin/python -m tests.eval.severity --tune          (reruns the search behind the defaults)

What is measured, and why each number is honest:

* **Hadoop, 5-fold cross-validation** (stratified; reports with the same title kept in one
  fold). The engine's text model is retrained by ``train_severity.train`` on the 4/5 and
  the tier thresholds are chosen on out-of-fold scores *within* the 4/5, then the 1/5 is
  scored: the shipped model (trained on all of Hadoop) never scores a report it saw. The
  baselines are fitted on the same 4/5.
* **Hadoop, shipped thresholds**: the same folds and per-fold models, but the default
  thresholds and keyword weights of defaults/severity.toml. Those were chosen on Hadoop's
  out-of-fold scores and PITS together (mean macro-F1 of the two, critical recall >= 0.5 on
  Hadoop), so this row is what the shipped rules do, slightly optimistic.
* **Tuned per fold (pooled CV)**: that choice itself cross-validated. Fold k reruns the
  whole search (``--tune``: model points, the weights of the families it tunes and the
  thresholds) on the other four folds of Hadoop and of PITS together and scores both k-th
  folds; its PITS row sits in the "CV within PITS" table (same PITS folds). Hadoop's model
  push is the out-of-fold one of the other rows, so the models behind the four training
  folds' pushes saw fold k: slightly optimistic, the text model itself is not refitted.
* **NASA PITS, cross-system**: no model learned on PITS (the rules' weights and
  thresholds were tuned on Hadoop and PITS together, see above). The shipped engine (what
  ``bugline triage`` says) against baselines trained on all of Hadoop.
* **NASA PITS, thresholds calibrated per project**: the only per-project knob a deployment
  would set from its own history, fitted on the other PITS projects (leave one project out)
  or on 4/5 of PITS; the TF-IDF baselines are trained on the same data, so they see far more.

Macro-F1 averages the four tiers' F1 (a tier never predicted and never present scores 0;
PITS has a single critical report, so its critical F1 is 0 or 1 for everyone).
"""

from __future__ import annotations

import dataclasses
import json
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.pipeline import make_pipeline

from bugline.triage import model as text_model
from bugline.triage.classify import ClassificationRules, classify
from bugline.triage.report import TriageInput
from bugline.triage.result import LEVELS
from bugline.triage.severity import SeverityRules, assess, prose
from tests.eval import train_severity

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SHARED = ROOT.parent / "shared"
FILES = {"hadoop": "severity_hadoop_jira.jsonl", "pits": "severity_nasa_pits.jsonl"}
IDX = {lv: i for i, lv in enumerate(LEVELS)}  # critical=0 .. low=3, the order tables print in
FOLDS = 5
SEED = 0
MIN_CRITICAL_RECALL = 0.5

# The keyword baseline: what a support lead would write in ten minutes.
KW_CRITICAL = re.compile(
    r"crash|data loss|corrupt|security|vulnerab|outage|blocker|deadlock|hang|down\b", re.I
)
KW_LOW = re.compile(r"typo|cosmetic|spelling|documentation|\bdocs?\b|comment", re.I)
KW_MEDIUM = re.compile(r"minor|workaround|improve|cleanup|refactor", re.I)


# ---------------------------------------------------------------------------- data


def load(shared: Path) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for name, file in FILES.items():
        with (shared / "datasets" / file).open(encoding="utf-8") as f:
            out[name] = [json.loads(line) for line in f if line.strip()]
    return out


def build_inputs(shared: Path) -> list[dict[str, Any]]:
    """Title and description only: the data sets hold no page, plan or group to pass."""
    data = load(shared)
    return [
        {"id": r["id"], "title": r["title"] or "", "description": r["description"] or ""}
        for rows in data.values()
        for r in rows
    ]


def text_of(r: dict[str, Any]) -> str:
    return f"{r['title'] or ''}\n{r['description'] or ''}"


def gold(rows: Sequence[dict[str, Any]]) -> np.ndarray:
    return np.array([IDX[r["severity4"]] for r in rows])


# ---------------------------------------------------------------------------- metrics


def confusion(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    return np.bincount(y * 4 + p, minlength=16).reshape(4, 4)


def per_tier(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    tp = np.diag(cm).astype(float)
    pred, true = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(tp, pred, out=np.zeros(4), where=pred > 0)
    recall = np.divide(tp, true, out=np.zeros(4), where=true > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(4), where=denom > 0)
    return precision, recall, f1


def macro_f1(y: np.ndarray, p: np.ndarray) -> float:
    return float(per_tier(confusion(y, p))[2].mean())


def levels_of(scores: np.ndarray, th: tuple[float, float, float]) -> np.ndarray:
    """Scores to tier indices with (critical, high, medium) lower bounds."""
    c, h, m = th
    return np.where(scores >= c, 0, np.where(scores >= h, 1, np.where(scores >= m, 2, 3)))


def fit_thresholds(
    scores: np.ndarray, y: np.ndarray, fixed_critical: float | None = None
) -> tuple[float, float, float]:
    """The (critical, high, medium) bounds with the best macro-F1 on these scores among those
    that call at least half of the critical reports critical; ``fixed_critical`` keeps the
    critical bound (for data with too few critical reports to place it)."""
    grid = np.unique(np.quantile(scores, np.linspace(0.01, 0.99, 45)))
    crits = [fixed_critical] if fixed_critical is not None else list(grid)
    n_crit = int((y == 0).sum())
    best, best_th = -1.0, (float(grid[-1]), float(grid[len(grid) // 2]), float(grid[0]))
    for c in crits:
        if fixed_critical is None and ((scores >= c) & (y == 0)).sum() < MIN_CRITICAL_RECALL * n_crit:
            continue
        for h in grid[grid <= c]:
            for m in grid[grid <= h]:
                f = macro_f1(y, levels_of(scores, (float(c), float(h), float(m))))
                if f > best:
                    best, best_th = f, (float(c), float(h), float(m))
    return best_th


# ---------------------------------------------------------------------------- predictors


def engine_scores(rows: Sequence[dict[str, Any]], rules: SeverityRules) -> np.ndarray:
    return np.array(
        [
            assess(TriageInput(title=r["title"] or "", description=r["description"] or ""), rules).score
            for r in rows
        ]
    )


def with_model(rules: SeverityRules, trained: dict[str, Any] | None) -> SeverityRules:
    if trained is None:
        return dataclasses.replace(rules, model=None)
    return dataclasses.replace(rules, model=text_model.TextModel.from_json("fold", json.dumps(trained)))


def engine_fold(
    train: Sequence[dict[str, Any]],
    test: Sequence[dict[str, Any]],
    rules: SeverityRules,
    *,
    use_model: bool,
    shipped_thresholds: bool = False,
) -> np.ndarray:
    """Engine levels on ``test`` with the model and thresholds learned on ``train`` only."""
    y = gold(train)
    inner = np.zeros(len(train))
    if use_model and shipped_thresholds:
        final = with_model(rules, train_severity.train(train))
    elif use_model:
        for a, b in StratifiedKFold(4, shuffle=True, random_state=SEED + 1).split(train, y):
            fold_rules = with_model(rules, train_severity.train([train[i] for i in a]))
            inner[b] = engine_scores([train[i] for i in b], fold_rules)
        final = with_model(rules, train_severity.train(train))
    else:
        final = with_model(rules, None)
        inner = engine_scores(train, final)
    if shipped_thresholds:
        return levels_of(engine_scores(test, final), (rules.critical, rules.high, rules.medium))
    fixed = rules.critical if (y == 0).sum() < 5 else None
    th = fit_thresholds(inner, y, fixed)
    return levels_of(engine_scores(test, final), th)


def tfidf(balanced: bool) -> Callable[[Sequence[dict[str, Any]], Sequence[dict[str, Any]]], np.ndarray]:
    def run(train: Sequence[dict[str, Any]], test: Sequence[dict[str, Any]]) -> np.ndarray:
        pipe = make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2),
            LogisticRegression(max_iter=3000, class_weight="balanced" if balanced else None),
        )
        pipe.fit([text_of(r) for r in train], gold(train))
        return np.asarray(pipe.predict([text_of(r) for r in test]))

    return run


def tfidf_at_critical_recall(train: Sequence[dict[str, Any]], test: Sequence[dict[str, Any]]) -> np.ndarray:
    """The balanced baseline held to the target's other half, critical recall >= 0.5: a report
    is critical when its critical probability reaches the threshold that catches half of the
    training folds' criticals out of fold (inner 5-fold CV, so the threshold never sees the
    test fold), otherwise the likeliest of the other three tiers. Without this the baseline
    and the engine are judged under different rules: the plain baseline calls a quarter of
    the criticals critical, which the target forbids."""

    def fitted(rows: Sequence[dict[str, Any]]) -> Any:
        pipe = make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2),
            LogisticRegression(max_iter=3000, class_weight="balanced"),
        )
        return pipe.fit([text_of(r) for r in rows], gold(rows))

    y = gold(train)
    oof = np.zeros(len(train))
    for tr, te in StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(np.zeros(len(y)), y):
        pipe = fitted([train[i] for i in tr])
        column = list(pipe.classes_).index(IDX["critical"])
        oof[te] = pipe.predict_proba([text_of(train[i]) for i in te])[:, column]
    critical = np.sort(oof[y == IDX["critical"]])[::-1]
    threshold = critical[max(0, int(np.ceil(MIN_CRITICAL_RECALL * len(critical))) - 1)]
    final = fitted(train)
    classes = np.asarray(final.classes_)
    proba = final.predict_proba([text_of(r) for r in test])
    column = list(classes).index(IDX["critical"])
    rest = proba.copy()
    rest[:, column] = -1.0
    return np.where(proba[:, column] >= threshold, IDX["critical"], classes[rest.argmax(axis=1)])


def keywords(train: Sequence[dict[str, Any]], test: Sequence[dict[str, Any]]) -> np.ndarray:
    majority = int(np.bincount(gold(train), minlength=4).argmax())
    out = []
    for r in test:
        t = text_of(r)
        out.append(
            0 if KW_CRITICAL.search(t) else 3 if KW_LOW.search(t) else 2 if KW_MEDIUM.search(t) else majority
        )
    return np.array(out)


# ---------------------------------------------------------------------------- splits


def _group_key(r: dict[str, Any]) -> str:
    return re.sub(r"\W+", " ", (r["title"] or "").lower()).strip()


def kfold(rows: Sequence[dict[str, Any]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds; reports with the same title (Jira copies) stay in one fold."""
    y = gold(rows)
    strata = np.where(np.bincount(y, minlength=4)[y] >= FOLDS, y, 2)  # a lone critical counts as medium
    groups = [_group_key(r) for r in rows]
    return list(StratifiedGroupKFold(FOLDS, shuffle=True, random_state=SEED).split(rows, strata, groups))


def by_project(rows: Sequence[dict[str, Any]]) -> list[tuple[str, np.ndarray, np.ndarray]]:
    names = np.array([r["project"] for r in rows])
    return [(p, np.flatnonzero(names != p), np.flatnonzero(names == p)) for p in sorted(set(names))]


def cross_predict(
    rows: Sequence[dict[str, Any]],
    splits: Sequence[tuple[np.ndarray, np.ndarray]],
    fn: Callable[[Sequence[dict[str, Any]], Sequence[dict[str, Any]]], np.ndarray],
) -> np.ndarray:
    out = np.full(len(rows), -1)
    for tr, te in splits:
        out[te] = fn([rows[i] for i in tr], [rows[i] for i in te])
    return out


# ---------------------------------------------------------------------------- report


def _row(name: str, y: np.ndarray, p: np.ndarray) -> str:
    precision, recall, f1 = per_tier(confusion(y, p))
    tiers = " | ".join(f"{precision[i]:.2f} / {recall[i]:.2f}" for i in range(4))
    return f"| {name} | **{f1.mean():.3f}** | {tiers} |"


def _table(title: str, results: list[tuple[str, np.ndarray]], y: np.ndarray) -> list[str]:
    counts = np.bincount(y, minlength=4)
    head = " | ".join(f"{lv} ({counts[i]}) P / R" for i, lv in enumerate(LEVELS))
    lines = [f"**{title}**", "", f"| predictor | macro-F1 | {head} |", "|---|---|" + "---|" * 4]
    lines += [_row(name, y, p) for name, p in results]
    return [*lines, ""]


def _confusion_md(title: str, y: np.ndarray, p: np.ndarray) -> list[str]:
    cm = confusion(y, p)
    lines = [f"{title} (rows: labelled tier, columns: engine's tier)", "", "| | " + " | ".join(LEVELS) + " |"]
    lines.append("|---|" + "---|" * 4)
    lines += [f"| {lv} | " + " | ".join(str(v) for v in cm[i]) + " |" for i, lv in enumerate(LEVELS)]
    return [*lines, ""]


def _latency(rows: Sequence[dict[str, Any]], rounds: int = 3) -> tuple[float, float]:
    """p50 and p99 in ms, best of ``rounds`` by p99 (as `make bench` does): one pass on a shared
    machine moved p99 by a millisecond from run to run."""
    sev, cls = SeverityRules.default(), ClassificationRules.default()
    reports = [TriageInput(title=r["title"] or "", description=r["description"] or "") for r in rows]
    best: tuple[float, float] | None = None
    for _ in range(rounds):
        times = []
        for report in reports:
            started = time.perf_counter()
            assess(report, sev)
            classify(report, cls)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        measured = (statistics.median(times), times[int(0.99 * (len(times) - 1))])
        if best is None or measured[1] < best[1]:
            best = measured
    assert best is not None
    return best


def report(shared: Path, predictions: dict[str, dict[str, Any]]) -> str:
    data = load(shared)
    rules = SeverityRules.default()
    hadoop, pits = data["hadoop"], data["pits"]
    yh, yp = gold(hadoop), gold(pits)

    def shipped(rows: Sequence[dict[str, Any]]) -> np.ndarray:
        # a missing verdict counts as the wrong tier, never as a free pass
        return np.array(
            [
                IDX.get(
                    ((predictions.get(r["id"]) or {}).get("severity") or {}).get("level"),
                    (IDX[r["severity4"]] + 1) % 4,
                )
                for r in rows
            ]
        )

    lines = ["## Severity", "", (__doc__ or "").split("\n\n", 1)[1].split("Macro-F1")[0].strip(), ""]
    lines += [
        "Macro-F1 averages the four tiers (a tier never predicted scores 0). P / R: precision and recall "
        "per tier. Baselines: **keywords** (crash/security/outage/... critical, typo/docs low, "
        "minor/workaround medium, else the training majority); **TF-IDF + LR** (word 1-2-grams, "
        "scikit-learn defaults) and the same **balanced** (class weights inverse to frequency); the "
        "balanced one also **held to critical recall >= 0.5**, the target's own condition (critical "
        "when its critical probability reaches the threshold that catches half the training folds' "
        "criticals out of fold, else its likeliest other tier).",
        "",
    ]

    # Hadoop: cross-validation
    folds, pfolds = kfold(hadoop), kfold(pits)
    t0 = time.perf_counter()
    _, _, h_parts, p_parts = tuning_data(shared, rules)
    pooled_h, pooled_p, chosen = pooled_cv(h_parts, p_parts, folds, pfolds, rules)
    tune_seconds = time.perf_counter() - t0
    h_results = [
        (
            "engine (rules + text model, CV)",
            cross_predict(hadoop, folds, lambda a, b: engine_fold(a, b, rules, use_model=True)),
        ),
        (
            "engine, shipped thresholds and weights (model retrained per fold)",
            cross_predict(
                hadoop, folds, lambda a, b: engine_fold(a, b, rules, use_model=True, shipped_thresholds=True)
            ),
        ),
        (
            "engine, rules only (no model, CV thresholds)",
            cross_predict(hadoop, folds, lambda a, b: engine_fold(a, b, rules, use_model=False)),
        ),
        ("engine, weights and thresholds tuned per fold (pooled with PITS, see above)", pooled_h),
        ("keywords", cross_predict(hadoop, folds, keywords)),
        ("TF-IDF + LR", cross_predict(hadoop, folds, tfidf(False))),
        ("TF-IDF + LR balanced", cross_predict(hadoop, folds, tfidf(True))),
        (
            "TF-IDF + LR balanced, held to critical recall >= 0.5 (threshold from inner CV)",
            cross_predict(hadoop, folds, tfidf_at_critical_recall),
        ),
    ]
    cv_seconds = time.perf_counter() - t0 - tune_seconds
    lines += _table(
        f"Apache Hadoop JIRA, {len(hadoop)} reports, {FOLDS}-fold CV (grouped by title)", h_results, yh
    )
    lines += _confusion_md("Hadoop CV, engine", yh, h_results[0][1])
    lines += [
        f"Tuned per fold (pooled CV of the search behind the defaults, {tune_seconds:.0f} s): Hadoop "
        f"macro-F1 {macro_f1(yh, pooled_h):.3f} (critical recall {per_tier(confusion(yh, pooled_h))[1][0]:.2f}), "
        f"PITS {macro_f1(yp, pooled_p):.3f}. Per fold it chose model points "
        + ", ".join(f"{t.points:g}" for t in chosen)
        + " and thresholds "
        + ", ".join("/".join(f"{x:.0f}" for x in t.thresholds) for t in chosen)
        + f" (shipped: {rules.model_points:g} and {rules.critical:g}/{rules.high:g}/{rules.medium:g}); "
        "`python -m tests.eval.severity --tune` prints what it picks on all of both sets.",
        "",
    ]
    lines += [
        f"For reference only (not a score: the shipped model was trained on these reports): "
        f"`bugline triage` on Hadoop, macro-F1 {macro_f1(yh, shipped(hadoop)):.3f}.",
        "",
    ]

    # PITS: cross-system
    sp = shipped(pits)
    lines += _table(
        f"NASA PITS, {len(pits)} reports, cross-system (nothing learned on PITS; baselines trained on all Hadoop)",
        [
            ("engine as shipped (`bugline triage`)", sp),
            ("keywords", keywords(hadoop, pits)),
            ("TF-IDF + LR (Hadoop)", tfidf(False)(hadoop, pits)),
            ("TF-IDF + LR balanced (Hadoop)", tfidf(True)(hadoop, pits)),
        ],
        yp,
    )
    lines += _confusion_md("PITS, engine as shipped", yp, sp)
    projects = by_project(pits)
    lines += [
        "Engine as shipped, per PITS project: "
        + ", ".join(f"{name} {macro_f1(yp[te], sp[te]):.3f}" for name, _, te in projects),
        "",
    ]

    # PITS: thresholds calibrated on PITS, against baselines trained on PITS
    lopo = [(tr, te) for _, tr, te in projects]
    for title, splits, extra in (
        ("NASA PITS, leave one project out (fitted on the other five projects)", lopo, []),
        (
            f"NASA PITS, {FOLDS}-fold CV within PITS",
            pfolds,
            [("engine, weights and thresholds tuned per fold (pooled with Hadoop)", pooled_p)],
        ),
    ):
        lines += _table(
            title,
            [
                *extra,
                (
                    "engine, thresholds fitted (model and rules from Hadoop)",
                    cross_predict(
                        pits,
                        splits,
                        lambda a, b: levels_of(
                            engine_scores(b, rules),
                            fit_thresholds(engine_scores(a, rules), gold(a), rules.critical),
                        ),
                    ),
                ),
                ("keywords", cross_predict(pits, splits, keywords)),
                ("TF-IDF + LR", cross_predict(pits, splits, tfidf(False))),
                ("TF-IDF + LR balanced", cross_predict(pits, splits, tfidf(True))),
            ],
            yp,
        )

    # kind and latency
    cls = ClassificationRules.default()
    kinds = {
        name: sum(
            classify(TriageInput(title=r["title"] or "", description=r["description"] or ""), cls).kind
            == "bug"
            for r in rows
        )
        / len(rows)
        for name, rows in data.items()
    }
    p50, p99 = _latency(hadoop + pits)
    lines += [
        f"Kind: every report in both sets is a bug; the engine calls {kinds['hadoop']:.1%} of Hadoop's "
        f"and {kinds['pits']:.1%} of PITS's reports bugs (the rest feature requests or questions).",
        "",
        f"Speed: severity + kind/category per report, in-process, {len(hadoop) + len(pits)} reports: "
        f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, best of 3 rounds. (Cross-validation took {cv_seconds:.0f} s.)",
        "",
        f"Shipped thresholds: critical >= {rules.critical:g}, high >= {rules.high:g}, medium >= {rules.medium:g} "
        "(defaults/severity.toml); the text model: model/hadoop_severity.json, trained on Hadoop JIRA "
        "(CC BY 4.0) by `python -m tests.eval.train_severity`.",
    ]
    text = "\n".join(lines)
    print(text)
    return text


def suggest(shared: Path) -> tuple[float, float, float]:
    """Thresholds for defaults/severity.toml: fitted on out-of-fold scores over all of Hadoop."""
    rows = load(shared)["hadoop"]
    rules = SeverityRules.default()
    scores = np.zeros(len(rows))
    for tr, te in kfold(rows):
        scores[te] = engine_scores(
            [rows[i] for i in te], with_model(rules, train_severity.train([rows[i] for i in tr]))
        )
    return fit_thresholds(scores, gold(rows))


# ---------------------------------------------------------------------------- tuning the defaults
#
# How defaults/severity.toml's thresholds, model points and the weights of the families in
# TUNED were chosen (``--tune`` reruns it and prints the values; it never writes the TOML).
# One score serves two very different systems, so the objective is the mean macro-F1 of
# Hadoop (the model's out-of-fold push, so the model never scores a report it was trained
# on) and all of NASA PITS (the shipped model, which saw no PITS report), with at least half
# of Hadoop's critical reports called critical. Coordinate search: each knob in turn tries
# every value of its grid with the thresholds refitted, and a change is kept only when it
# raises the objective. Every other weight stays as the TOML has it; the search starts from
# the TOML's values.

TUNED = ("consequence", "housekeeping", "document", "error", "cosmetic", "minor")
MODEL_POINTS = (20.0, 40.0, 60.0, 80.0, 100.0)
FAMILY_WEIGHTS = (-30.0, -20.0, -12.0, -6.0, 0.0, 6.0, 12.0, 20.0, 30.0)
TUNE_ROUNDS = 2
TUNE_QUANTILES = 26  # threshold candidates: quantiles of the pooled scores


@dataclasses.dataclass(frozen=True)
class ScoreParts:
    """A data set's engine scores split into what the search moves and what it leaves."""

    fixed: np.ndarray  # base + every keyword family outside TUNED that fires
    push: np.ndarray  # the text model's expected tier minus its prior (points = knob x push / 3)
    fired: np.ndarray  # (reports, len(TUNED)): 1 where the family fires
    y: np.ndarray

    def scores(self, points: float, weights: np.ndarray) -> np.ndarray:
        return np.clip(self.fixed + points * self.push / 3 + self.fired @ weights, 0, 100)

    def take(self, idx: np.ndarray) -> ScoreParts:
        return ScoreParts(self.fixed[idx], self.push[idx], self.fired[idx], self.y[idx])


@dataclasses.dataclass(frozen=True)
class Tuning:
    points: float
    weights: dict[str, float]
    thresholds: tuple[float, float, float]
    objective: float  # mean macro-F1 of the two sources on the data it was fitted on


def score_parts(rows: Sequence[dict[str, Any]], rules: SeverityRules, push: np.ndarray) -> ScoreParts:
    by_name = {s.name: s for s in rules.keywords}
    missing = [n for n in TUNED if n not in by_name]
    if missing:
        raise SystemExit(f"defaults/severity.toml has no keyword families {missing}")
    cap = rules.max_chars
    # the keyword text as assess() builds it for a report with only a title and a description
    texts = [prose(f"{(r['title'] or '')[:cap]}\n{(r['description'] or '')[:cap]}".lower()) for r in rows]
    fired = np.array([[bool(by_name[n].pattern.search(t)) for n in TUNED] for t in texts], dtype=float)
    fixed = np.full(len(rows), rules.base)
    for sig in rules.keywords:
        if sig.name not in TUNED:
            fixed += [sig.weight if sig.pattern.search(t) else 0.0 for t in texts]
    return ScoreParts(fixed, push, fired, gold(rows))


def model_push(rows: Sequence[dict[str, Any]], model: text_model.TextModel, cap: int) -> np.ndarray:
    return np.array(
        [model.predict(r["title"] or "", (r["description"] or "")[:cap]).expected - model.prior for r in rows]
    )


def tuning_data(
    shared: Path, rules: SeverityRules
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], ScoreParts, ScoreParts]:
    """Hadoop (out-of-fold model push, the usual folds) and PITS (the shipped model's push)."""
    if rules.model is None:
        raise SystemExit("tuning needs the text model enabled in defaults/severity.toml")
    data = load(shared)
    hadoop, pits = data["hadoop"], data["pits"]
    push_h = np.zeros(len(hadoop))
    for tr, te in kfold(hadoop):
        fold_model = text_model.TextModel.from_json(
            "fold", json.dumps(train_severity.train([hadoop[i] for i in tr]))
        )
        push_h[te] = model_push([hadoop[i] for i in te], fold_model, rules.max_chars)
    h = score_parts(hadoop, rules, push_h)
    p = score_parts(pits, rules, model_push(pits, rules.model, rules.max_chars))
    # the split must add up to what the engine says (PITS is scored by the shipped model, so
    # it can be compared), or the search would tune something other than the engine
    engine = engine_scores(pits, rules)
    if not np.allclose(np.round(p.scores(rules.model_points, tuned_weights(rules)), 1), engine, atol=0.051):
        raise SystemExit("score_parts no longer adds up to severity.assess; update it")
    return hadoop, pits, h, p


def tuned_weights(rules: SeverityRules) -> np.ndarray:
    by_name = {s.name: s.weight for s in rules.keywords}
    return np.array([by_name[n] for n in TUNED])


def _macro_f1_grid(scores: np.ndarray, y: np.ndarray, grid: np.ndarray, triples: np.ndarray) -> np.ndarray:
    """Macro-F1 of levels_of(scores, (grid[c], grid[h], grid[m])) for every row (c, h, m)."""
    at_least = np.array([[(scores[y == k] >= g).sum() for g in grid] for k in range(4)])  # (4, G)
    true = np.bincount(y, minlength=4).astype(float)
    c, h, m = at_least[:, triples[:, 0]], at_least[:, triples[:, 1]], at_least[:, triples[:, 2]]
    cm = np.stack([c, h - c, m - h, true[:, None] - m], axis=-1).transpose(1, 0, 2).astype(float)
    tp = np.diagonal(cm, axis1=1, axis2=2)
    pred = cm.sum(axis=1)
    precision = np.divide(tp, pred, out=np.zeros_like(tp), where=pred > 0)
    recall = np.divide(tp, true, out=np.zeros_like(tp), where=true > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return f1.mean(axis=1)


def pooled_thresholds(
    sh: np.ndarray, yh: np.ndarray, sp: np.ndarray, yp: np.ndarray
) -> tuple[float, tuple[float, float, float]]:
    """The (critical, high, medium) bounds with the best mean macro-F1 of the two sources among
    those that call at least MIN_CRITICAL_RECALL of Hadoop's critical reports critical."""
    grid = np.unique(np.quantile(np.r_[sh, sp], np.linspace(0.01, 0.99, TUNE_QUANTILES)))
    n_crit = int((yh == 0).sum())
    triples = np.array(
        [
            (c, h, m)
            for c in range(len(grid))
            if n_crit == 0 or ((sh >= grid[c]) & (yh == 0)).sum() >= MIN_CRITICAL_RECALL * n_crit
            for h in range(c + 1)
            for m in range(h + 1)
        ]
    )
    if len(triples) == 0:
        return -1.0, (float(grid[-1]), float(grid[len(grid) // 2]), float(grid[0]))
    f = 0.5 * (_macro_f1_grid(sh, yh, grid, triples) + _macro_f1_grid(sp, yp, grid, triples))
    best = int(np.argmax(f))  # the first best in (critical, high, medium) order
    c, h, m = (float(grid[i]) for i in triples[best])
    return float(f[best]), (c, h, m)


def tune(
    h: ScoreParts, p: ScoreParts, points: float, weights: np.ndarray, rounds: int = TUNE_ROUNDS
) -> Tuning:
    def fit(pts: float, w: np.ndarray) -> tuple[float, tuple[float, float, float]]:
        return pooled_thresholds(h.scores(pts, w), h.y, p.scores(pts, w), p.y)

    w = weights.astype(float).copy()
    best = fit(points, w)
    for _ in range(rounds):
        for knob in ("model", *TUNED):
            for v in MODEL_POINTS if knob == "model" else FAMILY_WEIGHTS:
                pts, w2 = points, w.copy()
                if knob == "model":
                    pts = v
                else:
                    w2[TUNED.index(knob)] = v
                r = fit(pts, w2)
                if r[0] > best[0] + 1e-4:
                    best, points, w = r, pts, w2
    return Tuning(points, dict(zip(TUNED, (float(x) for x in w), strict=True)), best[1], best[0])


def pooled_cv(
    h: ScoreParts,
    p: ScoreParts,
    hfolds: Sequence[tuple[np.ndarray, np.ndarray]],
    pfolds: Sequence[tuple[np.ndarray, np.ndarray]],
    rules: SeverityRules,
) -> tuple[np.ndarray, np.ndarray, list[Tuning]]:
    """Fold k tunes on Hadoop's and PITS's other folds and predicts both k-th folds."""
    ph, pp = np.full(len(h.y), -1), np.full(len(p.y), -1)
    chosen = []
    for (htr, hte), (ptr, pte) in zip(hfolds, pfolds, strict=True):
        t = tune(h.take(htr), p.take(ptr), rules.model_points, tuned_weights(rules))
        w = np.array([t.weights[n] for n in TUNED])
        ph[hte] = levels_of(h.take(hte).scores(t.points, w), t.thresholds)
        pp[pte] = levels_of(p.take(pte).scores(t.points, w), t.thresholds)
        chosen.append(t)
    return ph, pp, chosen


def run_tune(shared: Path) -> None:
    rules = SeverityRules.default()
    started = time.perf_counter()
    hadoop, pits, h, p = tuning_data(shared, rules)
    w0 = tuned_weights(rules)
    th0 = (rules.critical, rules.high, rules.medium)

    def describe(name: str, pts: float, w: np.ndarray, th: tuple[float, float, float]) -> None:
        lh, lp = levels_of(h.scores(pts, w), th), levels_of(p.scores(pts, w), th)
        crit = per_tier(confusion(h.y, lh))[1][0]
        print(
            f"{name}: Hadoop (out-of-fold model) macro-F1 {macro_f1(h.y, lh):.3f}, critical recall "
            f"{crit:.2f}; PITS macro-F1 {macro_f1(p.y, lp):.3f}"
        )

    describe("shipped defaults", rules.model_points, w0, th0)
    # The shipped thresholds were refitted this way after the last pattern change, with the
    # weights the full search had picked on the earlier patterns.
    f0, th_fit = pooled_thresholds(
        h.scores(rules.model_points, w0), h.y, p.scores(rules.model_points, w0), p.y
    )
    print(
        "thresholds refitted with the shipped weights and points: "
        + "/".join(f"{x:.1f}" for x in th_fit)
        + f" (objective {f0:.4f})"
    )
    t = tune(h, p, rules.model_points, w0)
    w = np.array([t.weights[n] for n in TUNED])
    describe("tuned (fitted thresholds)", t.points, w, t.thresholds)
    rounded = tuple(float(round(x)) for x in t.thresholds)
    describe("tuned, thresholds rounded", t.points, w, (rounded[0], rounded[1], rounded[2]))
    print(f"objective (mean macro-F1) {t.objective:.4f}; search took {time.perf_counter() - started:.0f} s")
    print(
        "\nFull search (points, TUNED weights and thresholds, starting from the TOML) suggests, for "
        "backend/bugline/triage/defaults/severity.toml (not written):\n"
    )
    print("[levels]")
    for name, v in zip(("critical", "high", "medium"), t.thresholds, strict=True):
        print(f"{name} = {round(v)}  # fitted {v:.2f}")
    print(f"\n[model]\npoints = {t.points:g}")
    for name in TUNED:
        print(f"\n[keywords.{name}]\nweight = {t.weights[name]:g}")
    print("\nPooled 5-fold CV of this procedure (everything above refitted on 4/5 of both sets):")
    ph, pp, chosen = pooled_cv(h, p, kfold(hadoop), kfold(pits), rules)
    for k, c in enumerate(chosen):
        print(
            f"  fold {k}: points {c.points:g}, {c.weights}, thresholds {np.round(c.thresholds, 1).tolist()}"
        )
    print(
        f"  Hadoop macro-F1 {macro_f1(h.y, ph):.3f} (critical recall {per_tier(confusion(h.y, ph))[1][0]:.2f}), "
        f"PITS macro-F1 {macro_f1(p.y, pp):.3f}; total {time.perf_counter() - started:.0f} s"
    )


def main(argv: list[str]) -> int:
    shared = Path(argv[0]) if argv and not argv[0].startswith("-") else DEFAULT_SHARED
    if "--tune" in argv:
        run_tune(shared)
        return 0
    if "--suggest" in argv:
        print("critical, high, medium =", suggest(shared))
        return 0
    sev, cls = SeverityRules.default(), ClassificationRules.default()
    preds: dict[str, dict[str, Any]] = {}
    for line in build_inputs(shared):
        report_in = TriageInput(title=line["title"], description=line["description"])
        s = assess(report_in, sev)
        preds[line["id"]] = {
            "id": line["id"],
            "severity": {"level": s.level, "score": s.score},
            "kind": classify(report_in, cls).kind,
        }
    report(shared, preds)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
