"""Kind and routing categories on invented customer messages labelled blind.

No shared data set labels kind (every report in them is a bug) or the routing categories,
yet both decide where a message goes: a feature request or a question is not sent to
engineering as a bug (the SOP: "A customer who wants a feature that does not exist -> not a
bug"), and the categories are the tags routing rules match. ``tests/eval/probes/classify/``
holds customer messages (widget boxes, e-mails, API submissions; English, German, French)
in four sets, each written and labelled by its own helper session that had read only the SOPs
and the seven categories' one-line definitions, never the rules nor another set (``first``:
invoicing, CRM, clinic, payroll, learning products; ``second``: ticketing, restaurants,
property, fleet, recruiting and more; ``third``: gyms, travel, legal, vets, freight, podcasts
and more; ``fourth``: banking, hotels, farms, EV charging and more, written to blur the kinds):
a kind each, and the set of teams that
must act (a category word that is not the topic does not count: "the font on the billing
page is tiny" is ui only). About a third are hard cases on purpose (wishes in failure
words, questions about payments, bugs asked as questions, "I can't find X").

What each helper was told is in ``probes/classify/BRIEF.md``: a new set written from it and scored
once is the honest measure of the next change.

It is a probe, not a benchmark: the labels are one labeller's per set, and the rules of
2026-11-25 were written from all four sets' misses, so the engine's rows are in-sample. Each
of the second, third and fourth sets was scored once before its misses were read; those held-out
readings are in BENCHMARKS.md beside the table. Two baselines run in the same pass, on the
same text and page URL the engine reads: a keyword list per kind and category (the obvious
words, in English, German and French), and TF-IDF + logistic regression trained by 5-fold
cross-validation on the probe's own labels (it sees four fifths of the same messages' style,
which the engine's rules saw only as misses to read).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.eval.completeness import metrics

PROBES = Path(__file__).with_name("probes") / "classify"
KINDS = ("bug", "feature_request", "question")
ENGINE = "engine (`bugline triage`), rules written from these misses"
CATEGORIES = ("billing", "security", "performance", "data", "ui", "integration", "account")

# The keyword baseline: the first words anyone would write down, in the probe's three languages.
_KW_KIND = (
    (
        "feature_request",
        re.compile(
            r"\b(feature|please add|would be (nice|great)|wish|suggest|wäre (schön|toll)|bitte .*hinzufügen|"
            r"wunsch|serait (bien|top|génial)|pourriez-vous ajouter|suggestion)",
            re.I,
        ),
    ),
    (
        "question",
        re.compile(
            r"\b(how (do|can) i|is (it|there) (possible|a way)|where (is|can i)|wie (kann|können)|"
            r"gibt es eine möglichkeit|wo finde ich|comment|est-il possible|où (trouver|est))\b",
            re.I,
        ),
    ),
)
_KW_CATEGORY = {
    "billing": r"bill|invoice|payment|charge|refund|subscription|rechnung|zahlung|abo|factur|paiement|abonnement",
    "security": r"security|hack|vulnerab|leak|unauthori[sz]ed|sicherheit|datenschutz|sécurité",
    "performance": r"slow|performance|timeout|timed out|hang|freez|langsam|lent",
    "data": r"data|lost|missing|export|import|duplicate|daten|verloren|données|perdu",
    "ui": r"layout|button|display|\bui\b|font|colou?r|schaltfläche|anzeige|bouton|affichage",
    "integration": r"\bapi\b|integration|webhook|slack|zapier|stripe|schnittstelle|intégration",
    "account": r"log ?in|password|account|sign ?(in|up)|2fa|anmeld|passwort|konto|connexion|mot de passe|compte",
}


SET_ORDER = ("first", "second", "third", "fourth")  # the order they were written in


def _ordered(sets: set[str]) -> list[str]:
    return sorted(sets, key=lambda s: (SET_ORDER.index(s) if s in SET_ORDER else len(SET_ORDER), s))


def rows() -> list[dict[str, Any]]:
    out = []
    for path in sorted(PROBES.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append({**json.loads(line), "set": path.stem})
    return out


def build_inputs(shared: Path) -> list[dict[str, Any]]:
    return [
        {"id": r["id"], "title": r["title"], "description": r["description"], "context": r.get("context", {})}
        for r in rows()
    ]


def _text(r: dict[str, Any]) -> str:
    """What the baselines read: the words and the page URL, as the engine does."""
    return f"{r['title']}\n{r['description']}\n{(r.get('context') or {}).get('url', '')}"


def keyword_baseline(r: dict[str, Any]) -> tuple[str, set[str]]:
    text = _text(r)
    kind = next((k for k, p in _KW_KIND if p.search(text)), "bug")
    return kind, {c for c, p in _KW_CATEGORY.items() if re.search(p, text, re.I)}


def tfidf_baseline(data: list[dict[str, Any]]) -> list[tuple[str, set[str]]]:
    """Out-of-fold predictions of a model trained on the probe's own labels (5 folds)."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
    from sklearn.model_selection import StratifiedKFold  # type: ignore[import-untyped]
    from sklearn.pipeline import make_pipeline  # type: ignore[import-untyped]

    def model() -> Any:
        return make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
            LogisticRegression(class_weight="balanced"),
        )

    texts = [_text(r) for r in data]
    kinds = [r["label"]["kind"] for r in data]
    out: list[tuple[str, set[str]]] = [("bug", set()) for _ in data]
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(texts, kinds):
        kind_model = model()
        kind_model.fit([texts[i] for i in train], [kinds[i] for i in train])
        predicted = kind_model.predict([texts[i] for i in test])
        for i, k in zip(test, predicted, strict=True):
            out[i] = (str(k), set())
        for cat in CATEGORIES:
            ys = [cat in data[i]["label"]["categories"] for i in train]
            if len(set(ys)) < 2:
                continue
            cat_model = model()
            cat_model.fit([texts[i] for i in train], ys)
            for i, yes in zip(test, cat_model.predict([texts[i] for i in test]), strict=True):
                if yes:
                    out[i][1].add(cat)
    return out


def _kind_scores(
    gold: Sequence[str], said: Sequence[str]
) -> tuple[float, float, dict[str, tuple[float, float]]]:
    """Accuracy, macro-F1, and per kind precision / recall (each kind one-against-the-rest)."""
    per = {k: metrics([g == k for g in gold], [s == k for s in said]) for k in KINDS}
    accuracy = sum(g == s for g, s in zip(gold, said, strict=True)) / len(gold)
    return (
        accuracy,
        sum(m["f1"] for m in per.values()) / len(per),
        {k: (m["p"], m["r"]) for k, m in per.items()},
    )


def _category_scores(
    gold: Sequence[set[str]], said: Sequence[set[str]]
) -> tuple[float, float, float, dict[str, tuple[float, float, float]]]:
    """Micro-F1 (over every message and category), macro-F1, exact-set share, and per
    category precision / recall / F1."""
    per = {c: metrics([c in g for g in gold], [c in s for s in said]) for c in CATEGORIES}
    micro = metrics([c in g for g in gold for c in CATEGORIES], [c in s for s in said for c in CATEGORIES])
    exact = sum(g == s for g, s in zip(gold, said, strict=True)) / len(gold)
    return (
        micro["f1"],
        sum(m["f1"] for m in per.values()) / len(per),
        exact,
        {c: (m["p"], m["r"], m["f1"]) for c, m in per.items()},
    )


def report(shared: Path, verdicts: dict[str, dict[str, Any]]) -> str:
    data = rows()
    gold_kind = [r["label"]["kind"] for r in data]
    gold_cats = [set(r["label"]["categories"]) for r in data]
    predictors: dict[str, list[tuple[str, set[str]]]] = {
        ENGINE: [(verdicts[r["id"]]["kind"], set(verdicts[r["id"]].get("categories", []))) for r in data],
        "bug, no category (majority)": [("bug", set()) for _ in data],
        "keywords": [keyword_baseline(r) for r in data],
        "TF-IDF + LR, 5-fold CV on the probe's own labels": tfidf_baseline(data),
    }
    kinds = Counter(gold_kind)
    langs = Counter(r.get("lang", "en") for r in data)
    lines = [
        "## Kind and routing categories on invented customer messages",
        "",
        f"{len(data)} messages in `tests/eval/probes/classify/` ({len({r['set'] for r in data})} sets; "
        + ", ".join(f"{n} {k}" for k, n in kinds.most_common())
        + "; "
        + ", ".join(f"{n} {lang}" for lang, n in langs.most_common())
        + f"; {sum(bool(r['label'].get('hard')) for r in data)} hard cases), each set written and labelled "
        "by a helper that never read the rules (see `tests/eval/classify.py`): a probe, not a benchmark. "
        "The engine's rules were written from these sets' misses (in-sample; the held-out readings, each "
        "set scored once before it was read, are below the table). The TF-IDF baseline is trained on "
        "four fifths of these very messages (5-fold CV over all sets).",
        "",
        "**Kind**",
        "",
        "| predictor | accuracy | macro-F1 | " + " | ".join(f"{k} ({kinds[k]}) P / R" for k in KINDS) + " |",
        "|---|---:|---:|" + "---|" * len(KINDS),
    ]
    for name, said in predictors.items():
        acc, macro, per = _kind_scores(gold_kind, [k for k, _ in said])
        lines.append(
            f"| {name} | {acc:.2f} | **{macro:.3f}** | "
            + " | ".join(f"{per[k][0]:.2f} / {per[k][1]:.2f}" for k in KINDS)
            + " |"
        )
    engine = predictors[ENGINE]
    lines += ["", "Engine's kinds (rows: labelled, columns: engine)", ""]
    lines += ["| | " + " | ".join(KINDS) + " |", "|---|" + "---:|" * len(KINDS)]
    for g in KINDS:
        row = [sum(gk == g and s == k for gk, (s, _) in zip(gold_kind, engine, strict=True)) for k in KINDS]
        lines.append(f"| {g} | " + " | ".join(map(str, row)) + " |")
    counts = Counter(c for cats in gold_cats for c in cats)
    lines += [
        "",
        "**Categories** (a message may have several or none: "
        f"{sum(not c for c in gold_cats)} have none, {sum(len(c) > 1 for c in gold_cats)} several)",
        "",
        "| predictor | micro-F1 | macro-F1 | exact set | "
        + " | ".join(f"{c} ({counts[c]}) P / R" for c in CATEGORIES)
        + " |",
        "|---|---:|---:|---:|" + "---|" * len(CATEGORIES),
    ]
    for name, said in predictors.items():
        micro, macro, exact, per_cat = _category_scores(gold_cats, [c for _, c in said])
        lines.append(
            f"| {name} | **{micro:.3f}** | {macro:.3f} | {exact:.2f} | "
            + " | ".join(f"{per_cat[c][0]:.2f} / {per_cat[c][1]:.2f}" for c in CATEGORIES)
            + " |"
        )
    lines += ["", "Per set (kind macro-F1 / category micro-F1):", ""]
    lines += ["| predictor | " + " | ".join(_ordered({r["set"] for r in data})) + " |"]
    lines += ["|---|" + "---:|" * len({r["set"] for r in data})]
    for name, said in predictors.items():
        cells = []
        for which in _ordered({r["set"] for r in data}):
            idx = [i for i, r in enumerate(data) if r["set"] == which]
            k = _kind_scores([gold_kind[i] for i in idx], [said[i][0] for i in idx])[1]
            c = _category_scores([gold_cats[i] for i in idx], [said[i][1] for i in idx])[0]
            cells.append(f"{k:.3f} / {c:.3f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    extra = sum(len(s - g) for g, (_, s) in zip(gold_cats, engine, strict=True))
    missed = sum(len(g - s) for g, (_, s) in zip(gold_cats, engine, strict=True))
    lines += [
        "",
        f"Engine: {extra} tags given that the labeller did not (a team sees a message it need not act "
        f"on), {missed} tags missed (a team is not told).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    return text


def misses(verdicts: dict[str, dict[str, Any]]) -> None:
    """Prints the engine's disagreements, for reading (``python -m tests.eval.classify``)."""
    for r in rows():
        v = verdicts[r["id"]]
        gold, said = set(r["label"]["categories"]), set(v.get("categories", []))
        if v["kind"] != r["label"]["kind"] or gold != said:
            print(f"--- {r['id']} [{r.get('lang', 'en')}] {r['title'][:90]}")
            print(f"    {r['description'][:300]!r}")
            if v["kind"] != r["label"]["kind"]:
                print(f"    kind: labelled {r['label']['kind']}, engine {v['kind']}")
            if gold != said:
                print(f"    categories: missed {sorted(gold - said)}, extra {sorted(said - gold)}")
            print(f"    why: {r['label'].get('why', '')}")


if __name__ == "__main__":
    import tempfile

    from tests.eval.run import triage_cli

    with tempfile.TemporaryDirectory() as tmp:
        found, _ = triage_cli(build_inputs(Path()), Path(tmp), "classify")
    misses(found)
