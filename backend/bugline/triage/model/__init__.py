"""A small linear text model for severity, shipped as JSON weights (pure once loaded).

The only learned part of the triage engine. Its weights are a multinomial logistic
regression over the TF-IDF of the words and word pairs of a report's title and description
and over which keyword families of the severity rules fired, trained on
the Apache Hadoop JIRA bugs of GitBugs (CC BY 4.0; see NOTICE in this folder) by
``tests/eval/train_severity.py``. Training and scoring share :func:`features`, so the
model sees the same tokens in both. Its decision is the tier with the highest
log-probability plus a per-tier offset chosen in training (see ``Verdict.tier``).

Loading reads a package file, like the defaults' TOML, once per file name; scoring a report
is a dictionary lookup per token.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

TITLE_CHARS = 500
BODY_CHARS = 8_000  # the first 8k characters: beyond that is pasted logs, and it keeps scoring fast
LEVEL_ORDER = ("low", "medium", "high", "critical")  # the model's classes, least severe first

# Words too common to explain anything in a reason (they still count in the score).
_QUIET = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "from",
        "that",
        "this",
        "not",
        "but",
        "are",
        "was",
        "were",
        "has",
        "have",
        "had",
        "when",
        "then",
        "into",
        "its",
        "can",
        "should",
        "would",
        "could",
        "will",
        "all",
        "any",
        "via",
        "out",
        "our",
        "you",
        "your",
        "his",
        "her",
        "they",
        "them",
        "there",
        "what",
        "which",
    ]
)
# Bounded token length: a 1 MB run of letters is one capped token, not a slow match.
_TOKEN = re.compile(r"[a-z][a-z0-9_]{0,39}")


def term_counts(title: str, description: str) -> dict[str, int]:
    """Words and adjacent word pairs of the text, plus the title's words marked ``t:``, counted."""
    body = _TOKEN.findall(f"{title[:TITLE_CHARS]}\n{description[:BODY_CHARS]}".lower())
    counts: dict[str, int] = {}
    for term in itertools.chain(body, (f"{a} {b}" for a, b in itertools.pairwise(body))):
        counts[term] = counts.get(term, 0) + 1
    for t in _TOKEN.findall(title[:TITLE_CHARS].lower()):
        counts["t:" + t] = counts.get("t:" + t, 0) + 1
    return counts


def features(
    title: str,
    description: str,
    idf: dict[str, float],
    families: Iterable[str] = (),
    family_value: float = 0.0,
) -> dict[str, float]:
    """TF-IDF of the model's terms (sublinear counts, unit length) plus ``kw:`` marks.

    Terms outside ``idf`` (the model's vocabulary) are ignored, in training and scoring
    alike. Each keyword family that fired adds ``kw:<name>`` at ``family_value``: the model
    learns how much a hand-written family says in its own units, next to the words.
    """
    out: dict[str, float] = {}
    for term, n in term_counts(title, description).items():
        weight = idf.get(term)
        if weight is not None:
            out[term] = (1.0 + math.log(n)) * weight
    norm = math.sqrt(sum(v * v for v in out.values()))
    if norm > 0:
        out = {k: v / norm for k, v in out.items()}
    for name in families:
        out["kw:" + name] = family_value
    return out


@dataclass(frozen=True, slots=True)
class Verdict:
    expected: float  # expected tier on the scale low=0 .. critical=3
    probabilities: tuple[float, float, float, float]  # in LEVEL_ORDER
    tier: int  # the decision: argmax of log-probability + the model's offset, low=0 .. critical=3
    runner_up: int  # the tier that came second in that decision
    margin: float  # how far ahead the decision is (adjusted log-probabilities, >= 0)
    terms: tuple[tuple[str, float], ...]  # the terms that pushed most, with their push on ``expected``


@dataclass(frozen=True, slots=True)
class TextModel:
    name: str
    bias: tuple[float, float, float, float]
    weights: dict[str, tuple[float, float, float, float]]
    idf: dict[str, float]
    offsets: tuple[float, float, float, float]  # per tier, added to log-probabilities before argmax
    family_value: float  # the value of a fired keyword family's ``kw:`` feature
    prior: float  # the training set's mean tier: the model's "no opinion" point
    source: str  # attribution, shown in reasons' documentation and the NOTICE

    @classmethod
    def from_json(cls, name: str, text: str) -> TextModel:
        data = json.loads(text)
        if data.get("classes") != list(LEVEL_ORDER):
            raise ValueError(f"model {name}: classes must be {list(LEVEL_ORDER)}")
        weights = {str(k): _four(v) for k, v in data["weights"].items()}
        idf = {str(k): float(v) for k, v in data["idf"].items()}
        return cls(
            name,
            _four(data["bias"]),
            weights,
            idf,
            _four(data.get("offsets", [0, 0, 0, 0])),
            float(data.get("family_value", 0.0)),
            float(data["prior"]),
            str(data.get("source", "")),
        )

    def predict(self, title: str, description: str, families: Iterable[str] = (), top: int = 3) -> Verdict:
        feats = features(title, description, self.idf, families, self.family_value)
        logits = list(self.bias)
        hits: list[tuple[str, tuple[float, float, float, float], float]] = []
        for term, value in feats.items():
            w = self.weights.get(term)
            if w is None:
                continue
            hits.append((term, w, value))
            for k in range(4):
                logits[k] += w[k] * value
        probs = _softmax(logits)
        expected = sum(k * p for k, p in enumerate(probs))
        # The decision: log-probabilities shifted per tier (chosen in training so at least half
        # of the critical reports are called critical at the least cost to the other tiers).
        top_logit = max(logits)
        log_norm = top_logit + math.log(sum(math.exp(x - top_logit) for x in logits))
        adjusted = [x - log_norm + o for x, o in zip(logits, self.offsets, strict=True)]
        ranked = sorted(range(4), key=lambda k: -adjusted[k])
        tier, runner_up = ranked[0], ranked[1]
        margin = adjusted[tier] - adjusted[runner_up]
        # A term's push: how the expected tier moves along the gradient of that term, which
        # ranks terms the way they matter for this report (exact for small weights).
        pushes = []
        for term, w, value in hits:
            if term.startswith("kw:"):
                continue  # keyword families give their own reasons
            mean_w = sum(p * wk for p, wk in zip(probs, w, strict=True))
            push = sum(p * (wk - mean_w) * k for k, (p, wk) in enumerate(zip(probs, w, strict=True))) * value
            pushes.append((term.removeprefix("t:"), push))
        pushes.sort(key=lambda tp: -abs(tp[1]))
        chosen: list[tuple[str, float]] = []
        for term, push in pushes:
            if len(chosen) == top:
                break
            # Reasons name words a person can read: no "in" or "the", and "typo in" adds
            # nothing once "typo" is there.
            parts = term.split()
            if any(p in _QUIET or len(p) < 3 for p in parts):
                continue
            if any(c == term or c in parts or term in c.split() for c, _ in chosen):
                continue
            chosen.append((term, push))
        return Verdict(
            expected, (probs[0], probs[1], probs[2], probs[3]), tier, runner_up, margin, tuple(chosen)
        )


def _four(v: object) -> tuple[float, float, float, float]:
    if not isinstance(v, list) or len(v) != 4:
        raise ValueError("model weights must be lists of four numbers")
    a, b, c, d = (float(x) for x in v)
    return (a, b, c, d)


def _softmax(logits: list[float]) -> list[float]:
    top = max(logits)
    exps = [math.exp(x - top) for x in logits]
    total = sum(exps)
    return [e / total for e in exps]


@cache
def load(file: str) -> TextModel:
    """A model shipped in this folder, by file name; parsed once per process."""
    if not re.fullmatch(r"[\w.-]+\.json", file):
        raise ValueError(f"model file {file!r} must be a plain .json file name in bugline/triage/model")
    text = resources.files("bugline.triage.model").joinpath(file).read_text("utf-8")
    return TextModel.from_json(file, text)
