"""Kind and categories: bug, feature request or question, and the routing tags (pure).

The SOP's definition decides the kind: "A bug is any behaviour in your product that does
not match the intended behaviour ... A customer who wants a feature that does not exist ->
not a bug." A report is therefore a bug unless its wording asks for something new or asks
how to do something, and failure wording keeps it a bug. Categories are the SOP's
"predefined tags and categories" (billing, security, performance, data, ui, integration,
account): every one whose words or page match, so a report can go to two teams.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any, Self

from bugline.triage import language
from bugline.triage.defaultfile import read_defaults
from bugline.triage.errors import RulesError
from bugline.triage.language import Language
from bugline.triage.report import TriageInput
from bugline.triage.result import Classification, Kind

KINDS: tuple[Kind, ...] = ("bug", "feature_request", "question")
_BODY_FIELDS = ("description", "trying_to_do", "expected", "actual", "error_text", "steps")


MAX_HITS = 5  # distinct phrases counted per kind: a long paste cannot outvote a clear title


@dataclass(frozen=True, slots=True)
class Family:
    weight: float
    by_language: Mapping[Language, re.Pattern[str]]  # see language.by_language

    def points(self, text: str, lang: Language) -> tuple[float, list[str]]:
        """``weight`` per distinct phrase found, up to ``MAX_HITS`` phrases; one pass over the text."""
        found: list[str] = []
        for m in self.by_language[lang].finditer(text):
            if m.group(0) not in found:
                found.append(m.group(0))
                if len(found) == MAX_HITS:
                    break
        return self.weight * len(found), found


@dataclass(frozen=True, slots=True)
class Asking:
    """Sentences that ask something: a question mark and an opener that asks for an answer
    ("How do I ...?", "Is there an app?", "Does the API support ...?"), not one that asks for a
    change ("Can you fix ...?") or complains ("Why is my invoice wrong?"). Customers ask in
    their own words far more often than in any fixed phrase, and most of their questions are
    sentences like these."""

    weight: float
    lead: int  # how many of the body's first sentences are read
    openers: Mapping[Language, re.Pattern[str]]  # matched at a sentence's start, after a lead-in
    # Openers that ask even in a title without a question mark ("how to export invoices"); any
    # other opener needs the mark ("Could not connect to Xero" is no question).
    unmarked: Mapping[Language, re.Pattern[str]]

    def points(
        self, text: str, lang: Language, title: bool, asked: re.Pattern[str] | None = None
    ) -> tuple[float, list[str]]:
        """``asked``: the question family's phrases; a sentence they already counted is not
        counted again (one "How do I ...?" is one question, not two)."""
        found: list[str] = []
        sentences = (_CONDITION.sub("", _LEAD_IN.sub("", s.strip())) for s in _SENTENCE_END.split(text))
        for sentence in islice((s for s in sentences if s and not _GREETING.fullmatch(s)), self.lead):
            marked = sentence.endswith("?")
            if not (marked or title) or (asked is not None and asked.search(sentence)):
                continue
            m = (self.openers if marked else self.unmarked)[lang].match(sentence)
            if m and m.group(0) not in found:
                found.append(m.group(0))
                if len(found) == MAX_HITS:
                    break
        return self.weight * len(found), found


# A sentence ends at . ! ? (one or more) followed by space, or at a line break; not after a
# date's day and month ("kündigen zum 31.12. und ...", "am 1.6. ab").
_SENTENCE_END = re.compile(r"(?<=[.!?])(?<!\d\d\.\d\d\.)(?<!\d\.\d\d\.)(?<!\d\d\.\d\.)(?<!\d\.\d\.)\s+|\n+")
# A line that only greets ("Hello,", "Dear support team,", "Sehr geehrte Damen und Herren,"):
# a greeting word and at most three more, not "Good morning, the export is broken."
_GREETING = re.compile(
    r"(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|hallo|guten (?:tag|morgen)|sehr geehrte|liebe|"
    r"bonjour|bonsoir|salut|madame|monsieur)\b(?:[ ,]+[\w.'&-]+){0,3}\s*[,.!:]?"
)
# A condition before the question ("If I downgrade, will I lose my data?", "Before we buy: is
# there a trial?"): the question is what follows it.
_CONDITION = re.compile(r"^(?:if|before|once|wenn|falls|bevor|si|avant)\b[^,:?]{0,80}[,:]\s*")
# What customers put before the question itself ("Hi, quick question - how do I ...").
_LEAD_IN = re.compile(
    r"^(?:(?:hi|hello|hey|so|ok|okay|also|and|but|btw|by the way|quick question|quick one|one more question|"
    r"question|hallo|kurze frage|frage|aber|und|bonjour|salut|petite question|question rapide|"
    r"d['\u2019]accord|mais|et)\b[\s,:;!.\u2013\u2014-]*)+"
)


@dataclass(frozen=True, slots=True)
class Category:
    name: str
    text: Mapping[Language, re.Pattern[str] | None]  # see language.by_language
    page: re.Pattern[str] | None


@dataclass(frozen=True, slots=True)
class ClassificationRules:
    max_chars: int
    threshold: float
    title_factor: float
    captured_errors: float
    kinds: Mapping[Kind, Family]
    asking: Asking
    # Phrases that deny a failure ("nothing seems broken", "everything else looks normal"):
    # cut out before the failure words are counted, so they do not count for a bug.
    not_failure: Mapping[Language, re.Pattern[str] | None]
    categories: tuple[Category, ...]

    @classmethod
    def default(cls) -> Self:
        return cls.from_mapping(read_defaults("classification"))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Self:
        text, kind = _table(data, "text", "text"), _table(data, "kind", "kind")
        kinds: dict[Kind, Family] = {}
        for name in KINDS:
            entry = _table(kind, name, f"kind.{name}")
            patterns = _strings(entry.get("patterns"), f"kind.{name}.patterns", allow_empty=False)
            kinds[name] = Family(
                _number(entry, "weight", f"kind.{name}"),
                language.by_language(
                    patterns, language.extras(entry, f"classification.kind.{name}"), _words(f"kind.{name}")
                ),
            )
        asking = _table(kind, "asking", "kind.asking")
        openers = _strings(asking.get("openers"), "kind.asking.openers", allow_empty=False)
        unmarked = _table(asking, "unmarked", "kind.asking.unmarked")
        denials = _table(kind, "not_failure", "kind.not_failure")
        # These tables hold only lists, so the settings merge cannot tell a typo from a new key:
        # checked here, so "pattern = [...]" is an error and not silently ignored.
        _known(asking, ("weight", "lead", "openers", "unmarked", *language.EXTRA), "kind.asking")
        _known(unmarked, ("patterns", *language.EXTRA), "kind.asking.unmarked")
        _known(denials, ("patterns", *language.EXTRA), "kind.not_failure")
        settings = ("asking", "not_failure", "threshold", "title_factor", "captured_errors")
        _known(kind, (*KINDS, *settings), "kind")
        categories: list[Category] = []
        for cat_name, entry in _table(data, "categories", "categories").items():
            where = f"categories.{cat_name}"
            if not isinstance(entry, Mapping):
                raise RulesError(f"classification.{where} must be a table with patterns and pages")
            words = _strings(entry.get("patterns", []), f"{where}.patterns", allow_empty=True)
            pages = _strings(entry.get("pages", []), f"{where}.pages", allow_empty=True)
            categories.append(
                Category(
                    str(cat_name),
                    language.by_language(
                        words, language.extras(entry, f"classification.{where}"), _maybe_words(where)
                    ),
                    _compile(pages, f"{where}.pages", word=False) if pages else None,
                )
            )
        lead = asking.get("lead")
        if isinstance(lead, bool) or not isinstance(lead, int) or not 1 <= lead <= 100:
            raise RulesError("classification.kind.asking.lead must be a whole number from 1 to 100")
        max_chars = _number(text, "max_chars", "text")
        if max_chars < 1:
            raise RulesError("classification.text.max_chars must be at least 1")
        return cls(
            max_chars=int(max_chars),
            threshold=_number(kind, "threshold", "kind"),
            title_factor=_number(kind, "title_factor", "kind"),
            captured_errors=_number(kind, "captured_errors", "kind"),
            kinds=kinds,
            asking=Asking(
                _number(asking, "weight", "kind.asking"),
                lead,
                language.by_language(
                    openers,
                    language.extras(asking, "classification.kind.asking"),
                    _words("kind.asking", "openers"),
                ),
                language.by_language(
                    _strings(unmarked.get("patterns"), "kind.asking.unmarked.patterns", allow_empty=False),
                    language.extras(unmarked, "classification.kind.asking.unmarked"),
                    _words("kind.asking.unmarked"),
                ),
            ),
            not_failure=language.by_language(
                _strings(denials.get("patterns", []), "kind.not_failure.patterns", allow_empty=True),
                language.extras(denials, "classification.kind.not_failure"),
                _maybe_words("kind.not_failure"),
            ),
            categories=tuple(categories),
        )


def classify(
    report: TriageInput, rules: ClassificationRules, written: Language | None = None
) -> Classification:
    """The report's kind and categories. ``written``: its language, when the caller knows it."""
    cap = rules.max_chars
    title = report.title[:cap].lower()
    fields = {f: getattr(report, f)[:cap].lower() for f in _BODY_FIELDS}
    body = "\n".join(fields.values())
    lang = language.for_rules(report.texts(), report.locale) if written is None else written
    points: dict[Kind, float] = {}
    found: dict[Kind, list[str]] = {}
    # What denies a failure ("nothing is broken") or asks ("I can't find the option") is cut
    # out before failure words are counted: it is not a failure either.
    asked = rules.kinds["question"].by_language[lang]
    denial = rules.not_failure[lang]

    def cut(text: str) -> str:
        for phrases in (asked, denial):
            if phrases is not None:
                text = phrases.sub(" ", text)
        return text

    # In one sentence a failure outweighs a wish: "Would love it if the app didn't log me out",
    # "any plans to fix the crash?" complain. A wish in a sentence of its own still counts.
    failure = rules.kinds["bug"].by_language[lang]
    wish = rules.kinds["feature_request"].by_language[lang]
    told = (cut(title), cut(body))  # what the failure words are counted in
    wished = (title, body)
    if wish.search(title) or wish.search(body):  # most reports wish nothing: no sentence to read
        wished = (
            title if not failure.search(told[0]) else "",
            "\n".join(
                s for s in _SENTENCE_END.split(body) if not (wish.search(s) and failure.search(cut(s)))
            ),
        )
    # A title that asks ("Payment error?", "Is the server down?") doubts what it names: the body
    # decides, and its question opener does not count either when it names a failure.
    doubt = title.rstrip().endswith("?")
    doubted = doubt and bool(failure.search(told[0]))
    for name, family in rules.kinds.items():
        t, b = {"bug": told, "feature_request": wished}.get(name, (title, body))
        in_title, words_t = family.points(t, lang)
        in_body, words_b = family.points(b, lang)
        skip = (name == "bug" and doubt) or (name == "question" and doubted)
        points[name] = in_title * (0 if skip else rules.title_factor) + in_body
        found[name] = list(dict.fromkeys(([] if skip else words_t) + words_b))
    # Questions are read in the customer's own words, not in the error text they pasted
    # ("Export could not be completed. Do you want to try again?").
    own = "\n".join(text for f, text in fields.items() if f != "error_text")
    asked_t, asks_t = (0.0, []) if doubted else rules.asking.points(title, lang, title=True, asked=asked)
    asked_b, asks_b = rules.asking.points(own, lang, title=False, asked=asked)
    points["question"] += asked_t + asked_b
    found["question"] = list(dict.fromkeys(found["question"] + asks_t + asks_b))
    # Captured console errors and failed requests are behaviour, never a wish.
    if any(c.level.lower() == "error" for c in report.console) or any(
        r.status == 0 or r.status >= 500 for r in report.network
    ):
        points["bug"] += rules.captured_errors
        found["bug"].append("captured errors")
    reasons: list[str] = []
    kind: Kind = "bug"
    wishes: tuple[Kind, Kind] = ("feature_request", "question")
    best = max(wishes, key=lambda k: points[k])
    if points[best] >= rules.threshold and points[best] > points["bug"]:
        kind = best
        reasons.append(f"{_KIND_WORDS[best]}: {_quote(found[best])}")
    elif points["bug"]:
        reasons.append(f"describes a failure: {_quote(found['bug'])}")

    text = f"{title}\n{body}"
    url = (report.page_url or "")[:2000].lower()
    categories: list[str] = []
    for cat in rules.categories:
        pattern = cat.text[lang]
        m = pattern.search(text) if pattern else None
        page = cat.page.search(url) if cat.page and url else None
        if m or page:
            categories.append(cat.name)
            reasons.append(f"{cat.name}: " + (f"mentions '{m.group(0)}'" if m else "on a matching page"))
    return Classification(kind=kind, categories=tuple(categories), reasons=tuple(reasons))


_KIND_WORDS: dict[Kind, str] = {
    "bug": "describes a failure",
    "feature_request": "asks for something the product does not do",
    "question": "asks a question",
}


def _quote(words: list[str]) -> str:
    return ", ".join(f"'{w}'" for w in words[:3])


def _table(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise RulesError(f"classification.{where} must be a table")
    return value


def _known(table: Mapping[str, Any], keys: tuple[str, ...], where: str) -> None:
    for key in table:
        if key not in keys:
            raise RulesError(f"classification.{where}.{key} is not a setting: use {', '.join(keys)}")


def _number(table: Mapping[str, Any], key: str, where: str) -> float:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RulesError(f"classification.{where}.{key} must be a number")
    return float(value)


def _strings(value: Any, where: str, *, allow_empty: bool) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise RulesError(f"classification.{where} must be a list of strings")
    if not value and not allow_empty:
        raise RulesError(f"classification.{where} must not be empty")
    return value


def _words(where: str, key: str = "patterns") -> Callable[[list[str]], re.Pattern[str]]:
    return lambda alternatives: _compile(alternatives, f"{where}.{key}", word=True)


def _maybe_words(where: str) -> Callable[[list[str]], re.Pattern[str] | None]:
    """For a category, whose words may be none at all (it goes by its pages)."""
    words = _words(where)
    return lambda alternatives: words(alternatives) if alternatives else None


def _compile(patterns: list[str], where: str, *, word: bool) -> re.Pattern[str]:
    body = "|".join(f"(?:{p})" for p in patterns)
    try:
        return re.compile(rf"(?<![\w-])(?=[\w\u2018\u2019\"'])(?:{body})(?![\w])" if word else body)
    except re.error as e:
        raise RulesError(f"classification.{where} has an invalid pattern: {e}") from e
