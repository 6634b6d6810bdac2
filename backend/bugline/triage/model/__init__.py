"""A small linear text model for severity, shipped as JSON weights (pure once loaded).

The only learned part of the triage engine. Its weights are a multinomial logistic
regression over the words and word pairs of a report's title and description, trained on
the Apache Hadoop JIRA bugs of GitBugs (CC BY 4.0; see NOTICE in this folder) by
``tests/eval/train_severity.py``. Training and scoring share :func:`features`, so the
model sees the same tokens in both.

Loading reads a package file, like the defaults' TOML, once per file name; scoring a report
is a dictionary lookup per token.
"""

from __future__ import annotations

import itertools
import json
import math
import re
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


def features(title: str, description: str) -> dict[str, float]:
    """Words and adjacent word pairs of the text, plus the title's words marked ``t:``.

    Binary, scaled to unit length so a long report does not outvote a short one.
    """
    body = _TOKEN.findall(f"{title[:TITLE_CHARS]}\n{description[:BODY_CHARS]}".lower())
    seen: set[str] = set(body)
    seen.update(f"{a} {b}" for a, b in itertools.pairwise(body))
    seen.update("t:" + t for t in _TOKEN.findall(title[:TITLE_CHARS].lower()))
    if not seen:
        return {}
    value = 1.0 / math.sqrt(len(seen))
    return dict.fromkeys(seen, value)


@dataclass(frozen=True, slots=True)
class Verdict:
    expected: float  # expected tier on the scale low=0 .. critical=3
    probabilities: tuple[float, float, float, float]  # in LEVEL_ORDER
    terms: tuple[tuple[str, float], ...]  # the terms that pushed most, with their push on ``expected``


@dataclass(frozen=True, slots=True)
class TextModel:
    name: str
    bias: tuple[float, float, float, float]
    weights: dict[str, tuple[float, float, float, float]]
    prior: float  # the training set's mean tier: the model's "no opinion" point
    source: str  # attribution, shown in reasons' documentation and the NOTICE
    language: str = "en"  # what its training reports were written in (triage.language codes)

    @classmethod
    def from_json(cls, name: str, text: str) -> TextModel:
        data = json.loads(text)
        if data.get("classes") != list(LEVEL_ORDER):
            raise ValueError(f"model {name}: classes must be {list(LEVEL_ORDER)}")
        weights = {str(k): _four(v) for k, v in data["weights"].items()}
        return cls(
            name,
            _four(data["bias"]),
            weights,
            float(data["prior"]),
            str(data.get("source", "")),
            str(data.get("language", "en")),
        )

    def predict(self, title: str, description: str, top: int = 3) -> Verdict:
        feats = features(title, description)
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
        # A term's push: how the expected tier moves along the gradient of that term, which
        # ranks terms the way they matter for this report (exact for small weights).
        pushes = []
        for term, w, value in hits:
            mean_w = sum(p * wk for p, wk in zip(probs, w, strict=True))
            push = sum(p * (wk - mean_w) * k for k, (p, wk) in enumerate(zip(probs, w, strict=True))) * value
            pushes.append((term.removeprefix("t:"), push))
        # Strongest first; equal pushes by term. The features come from a set, so without the
        # tie-break (and the rounding, which hides float summation order) two processes could
        # name different words for the same report.
        pushes.sort(key=lambda tp: (-round(abs(tp[1]), 9), tp[0]))
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
        return Verdict(expected, (probs[0], probs[1], probs[2], probs[3]), tuple(chosen))


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
