"""Completeness: which facts of the SOP's capture checklist a report holds (pure, no I/O).

The checklist (support SOP, Step 3): what the customer was trying to do, what they expected,
what actually happened with the exact error text, steps to reproduce, browser/OS/device/URL,
every time or intermittent, how many people are affected; plus evidence (screenshot,
recording, logs). A report either fills the widget's boxes or puts everything in one free
text (email, API, imported tickets), so each fact is looked for in three places, in order:
the structured field (judged for quality: "it doesn't work" is not an actual behaviour),
what the widget captured on its own (browser, console, attachments), then the free text,
where hand-written discourse patterns find labelled sections ("Expected results:"), lists of
steps, imperative sequences, "when I ... then ...", commands and code, and expectation
phrases ("should", "instead of", "it would be nice if").
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

from bugline.triage import language, questions
from bugline.triage.defaultfile import read_defaults
from bugline.triage.errors import RulesError
from bugline.triage.language import Language
from bugline.triage.report import TriageInput
from bugline.triage.result import FACTS, Completeness, Fact, Finding
from bugline.triage.text import (
    Segment,
    command_line,
    inline_commands,
    normalise,
    segment,
    sentences,
    until_heading,
    wiki_to_markdown,
    without_guidance,
    words,
)

LABELLED: tuple[Fact, ...] = ("steps_to_reproduce", "expected", "actual")
PATTERN_KEYS = (
    "expected",
    "not_expected",
    "actual",
    "step_action",
    "step_intro",
    "step_narrative",
    "step_condition",
    "step_sample",
    "step_command",
    "step_request",
    "no_steps",
    "step_placeholder",
    "error_text",
    "environment",
    "frequency",
    "affected",
    "trying_to_do",
    "evidence",
)
# Word lists under [patterns] (compared word for word, not as regular expressions).
_WORD_LISTS = ("step_verbs", "step_verbs_past", "step_verbs_final")
# Kinds of evidence that free text holds steps; their points live in the TOML's [steps].
STEP_SIGNS = (
    "list",
    "action",
    "command",
    "example",
    "items",
    "instruction",
    "instructions",
    "narrative",
    "condition",
    "code",
    "sample",
)
# Template guidance ("<!-- Tell us what should happen -->") is not the reporter's answer; an
# unclosed comment runs to the end, so one pass over the text removes every comment.
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.S)
# Clauses of one sentence, and the reporter before them ("I write a post, add a photo, then tap").
_CLAUSE = re.compile(r",\s*(?:and\s+|then\s+|and then\s+)?|\s+(?:and then|then|and)\s+")
_FIRST_PERSON = re.compile(r"^(?:i|we)\s+(?:then\s+|first\s+)?")
_SET_UP = frozenset({"use", "using", "run", "running"})  # "we use X and run Y": how they work
# A call statement or a query in pasted code: the reporter ran it.
_CALL = re.compile(
    r"\.\w+\([^\n]*\)\s*;|^\s*(?:select|from|update|delete)\b[^\n]*\b(?:from|where|set)\b", re.I | re.M
)
_PROSE_KINDS = frozenset({"prose", "item", "quote", "heading"})
_MACHINE_KINDS = frozenset({"code", "command", "trace", "log"})
_TRIM = " \t\n.!?,;:'\"()[]*_-"
_LEADING_FILLER = re.compile(
    r"^(?:(?:then|and|now|next|first|firstly|second|finally|last|lastly|also|please|just|simply|step \d+|"
    r"dann|danach|anschließend|zuerst|zunächst|jetzt|und|schritt \d+|puis|ensuite|enfin|et|d'abord|étape \d+)"
    r"\b[\s,:.)-]*)+",
    re.I,
)
# Words after a step verb that show it is a noun or a statement, not an order ("Update is slow");
# "Try to stop it" is still an order, and so are phrasal verbs whose particle is also in the list
# ("Go to Settings", "Log in as admin", "Search for a term").
_NOT_IMPERATIVE = re.compile(
    r"^(?!(?:try|attempt) to\b)"
    r"(?!(?:go|goto|navigate|browse|switch|scroll|move|change) to\b)"
    r"(?!(?:log|sign|type|click|check|plug|zoom|fill) (?:in|on|out|into)\b)"
    r"(?!(?:search|wait|look|check) for\b)"
    r"\S+\s+(?:is|are|was|were|has|have|had|does|did|doesn't|don't|isn't|aren't|wasn't|can|could|will|would|"
    r"should|may|might|must|of|in|for|from|fails|failed|works|worked|to)\b",
    re.I,
)
# A step verb used as a noun in a subject that a verb follows two or three words in: "Print
# preview shows the wrong margins", "Upload limit is too low", "Export button not rendered".
# Words only, no punctuation between them, so "Click Save, it shows an error" stays an order.
_NOUN_SUBJECT = re.compile(
    r"^\S+ [\w'-]+ (?:[\w'-]+ )?(?:shows|allows|gives|returns|causes|makes|takes|crashes|fails|works|hangs|"
    r"appears|seems|contains|displays|throws|breaks|does|doesn't|has|is|are|was|were|not \w+ed)\b",
    re.I,
)
# The same for a phrasal verb's subject, which runs longer: "Sign in with Google fails with
# error 400", "Switch to dark mode is broken" state a symptom; "Log in as admin" stays an order.
_PHRASAL_SUBJECT = re.compile(
    r"^(?:go|goto|navigate|browse|switch|scroll|move|change|log|sign|type|click|check|plug|zoom|search|"
    r"wait|look|try|attempt) (?:to|in|on|out|into|for)(?: [\w'-]+){0,4} (?:fails|failed|is|are|was|were|"
    r"does|doesn't|did|didn't|won't|isn't|shows|works|crashes|hangs|breaks|returns|gives|throws|takes|"
    r"seems|never|not \w+ed)\b",
    re.I,
)
# A German sentence ending in an infinitive is an order only without a subject or a modal:
# "Ich kann nicht speichern" and "Es lässt sich nicht öffnen" are symptoms.
_SUBJECT_OR_MODAL = re.compile(
    r"\b(?:ich|wir|man|er|sie|es|du|ihr|kann|kannst|können|konnte|konnten|nicht|kein\w*|nie|lässt|muss|"
    r"musste|soll|sollte|will|wollte|möchte|darf|geht|wird)\b",
    re.I,
)

# A sentence opening with a one- or two-word field name and a colon ("Build id: ...").
_LABEL_START = re.compile(r"^\s*\S+(?:\s\S+)?:(?:\s|$)")


@dataclass(frozen=True, slots=True)
class CompletenessRules:
    weights: Mapping[Fact, int]
    threshold: int  # a bug report scoring below this goes back to the customer for facts
    max_chars: int
    max_title_chars: int
    max_prose_chars: int
    title_states_expected: bool  # whether "X should Y" in the title counts as the expected behaviour
    min_steps: int
    min_step_words: int
    min_single_step_words: int
    min_answer_words: int
    vague: frozenset[str]
    vague_actual: frozenset[str]
    vague_expected: frozenset[str]
    label: re.Pattern[str]  # one pattern; the named group that matched says which label
    step_verbs: frozenset[str]
    step_verbs_past: frozenset[str]  # irregular past tenses ("ran", "chose"); "-ed" forms are derived
    step_verbs_final: frozenset[str]  # verbs that end an order, as German puts them ("Warenkorb öffnen")
    step_points: Mapping[str, int]
    steps_enough: int
    patterns: Mapping[str, re.Pattern[str]] = field(default_factory=dict)  # read in the report's language
    # The pattern lists as read for each language a report can be in (language.by_language):
    # [patterns.de] and [patterns.fr] extend the English lists for reports in those languages.
    by_language: Mapping[Language, Mapping[str, re.Pattern[str]]] = field(default_factory=dict)

    def in_language(self, lang: Language) -> CompletenessRules:
        chosen = self.by_language.get(lang)
        return (
            self if chosen is None or chosen is self.patterns else dataclasses.replace(self, patterns=chosen)
        )

    @classmethod
    def default(cls) -> Self:
        return cls.from_mapping(read_defaults("completeness"))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Self:
        score = _table(data, "score")
        raw_weights = _table(score, "weights", "score.weights")
        weights: dict[Fact, int] = {}
        for fact in FACTS:
            value = raw_weights.get(fact, 0)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise RulesError(f"completeness.score.weights.{fact} must be a whole number of points >= 0")
            weights[fact] = value
        for key in raw_weights:
            if key not in FACTS:
                raise RulesError(f"completeness.score.weights.{key} is not a fact: use {', '.join(FACTS)}")
        if sum(weights.values()) <= 0:
            raise RulesError("completeness.score.weights must give at least one fact some points")
        text = _table(data, "text")
        quality = _table(data, "quality")
        steps = _table(data, "steps")
        raw_points = _table(steps, "points", "steps.points")
        for key in raw_points:
            if key not in STEP_SIGNS:
                raise RulesError(f"completeness.steps.points.{key} is unknown: use {', '.join(STEP_SIGNS)}")
        points: dict[str, int] = {}
        for key in STEP_SIGNS:
            value = raw_points.get(key, 0)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise RulesError(f"completeness.steps.points.{key} must be a whole number >= 0")
            points[key] = value
        labels = _table(data, "labels")
        patterns = _table(data, "patterns")
        for key in labels:
            if key not in (*LABELLED, "other"):
                raise RulesError(f"completeness.labels.{key} is unknown: use {', '.join(LABELLED)} or other")
        for key in patterns:
            if key not in (*PATTERN_KEYS, *_WORD_LISTS, *language.EXTRA):
                raise RulesError(f"completeness.patterns.{key} is not a known pattern list")
        extra = {
            lang: _table(patterns, lang, f"patterns.{lang}") for lang in language.EXTRA if lang in patterns
        }
        for lang, table in extra.items():
            for key in table:
                if key not in PATTERN_KEYS:
                    raise RulesError(f"completeness.patterns.{lang}.{key} is not a known pattern list")
        by_language: dict[Language, dict[str, re.Pattern[str]]] = {}
        for key in PATTERN_KEYS:
            english = _checked(patterns, key, f"patterns.{key}")
            more = {lang: _checked(table, key, f"patterns.{lang}.{key}") for lang, table in extra.items()}
            for lang, compiled in language.by_language(english, more, _join).items():
                by_language.setdefault(lang, {})[key] = compiled
        return cls(
            weights=weights,
            threshold=_int(score, "threshold", "score.threshold", 0),
            max_chars=_int(text, "max_chars", "text.max_chars", 1),
            max_title_chars=_int(text, "max_title_chars", "text.max_title_chars", 1),
            max_prose_chars=_int(text, "max_prose_chars", "text.max_prose_chars", 1),
            title_states_expected=_bool(text, "title_states_expected", "text.title_states_expected", False),
            min_steps=_int(quality, "min_steps", "quality.min_steps", 1),
            min_step_words=_int(quality, "min_step_words", "quality.min_step_words", 1),
            min_single_step_words=_int(quality, "min_single_step_words", "quality.min_single_step_words", 1),
            min_answer_words=_int(quality, "min_answer_words", "quality.min_answer_words", 1),
            vague=frozenset(_phrase(s) for s in _strings(quality, "vague", "quality.vague")),
            vague_actual=frozenset(
                _phrase(s) for s in _strings(quality, "vague_actual", "quality.vague_actual")
            ),
            vague_expected=frozenset(
                _phrase(s) for s in _strings(quality, "vague_expected", "quality.vague_expected")
            ),
            label=_label_pattern(labels),
            step_verbs=frozenset(s.lower() for s in _strings(patterns, "step_verbs", "patterns.step_verbs")),
            step_verbs_past=frozenset(
                s.lower() for s in _strings(patterns, "step_verbs_past", "patterns.step_verbs_past")
            ),
            step_verbs_final=frozenset(
                s.lower() for s in _strings(patterns, "step_verbs_final", "patterns.step_verbs_final")
            ),
            step_points=points,
            steps_enough=_int(steps, "enough", "steps.enough", 1),
            patterns=by_language[""],
            by_language=by_language,
        )


def assess(report: TriageInput, rules: CompletenessRules, written: Language | None = None) -> Completeness:
    """The report's checklist: a finding per fact, a 0-100 score and a question per gap.
    ``written``: the language the report is in, when the caller has told it already."""
    if written is None:
        written = language.for_rules(report.texts(), report.locale)
    rules = rules.in_language(written)
    read = _read(report, rules)
    findings = (
        _trying_to_do(report, read, rules),
        _expected(report, read, rules),
        _actual(report, read, rules),
        _error_text(report, read, rules),
        _steps(report, read, rules),
        _environment(report, read, rules),
        _frequency(report, read, rules),
        _affected(report, read, rules),
        _evidence(report, read, rules),
    )
    total = sum(rules.weights.values())
    earned = sum(rules.weights[f.fact] for f in findings if f.present)
    score = round(100 * earned / total)
    if written == "other":
        # The rules' words are English, German and French: in Spanish or Arabic they find only
        # lists, traces, quotes and what was captured. What they did not find may well be
        # there, so it is not asked for (in a language the customer may not read, either);
        # the score stays what could be confirmed, and the agent is told why.
        unread = language.code(report.texts(), report.locale) or "other"
        note = f"not read: written in {language.name(unread)}"
        told = tuple(f if f.present else Finding(f.fact, False, "unread", note) for f in findings)
        unchecked = tuple(f.fact for f in told if not f.present)
        return Completeness(score, told, (), {}, unread_language=unread, unchecked=unchecked)
    missing = tuple(f.fact for f in findings if not f.present)
    return Completeness(
        score=score,
        findings=findings,
        missing=missing,
        questions=questions.ask(missing, report),
    )


# --- reading the free text -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Read:
    """The report's free text, cut once and shared by every fact's check."""

    title: str
    sections: Mapping[Fact, tuple[str, ...]]  # labelled answers ("Expected results: ...")
    segments: tuple[Segment, ...]  # everything, labels removed
    prose: tuple[str, ...]  # sentences and list items people wrote (title first)
    lowered: tuple[str, ...]  # the same, lower-cased: what the phrase patterns read
    joined: str  # all of them, one per line, so a pattern that finds nothing costs one scan


def _read(report: TriageInput, rules: CompletenessRules) -> _Read:
    title = normalise(report.title, rules.max_title_chars)
    description = without_guidance(
        wiki_to_markdown(_without_comments(normalise(report.description, rules.max_chars)))
    )
    sections: dict[Fact, list[str]] = {}
    parts: list[str] = []
    cursor = 0
    current: Fact | None = None
    # Labels are searched in lower case (no re.I: several times faster), in a copy whose
    # positions match the original ("İ".lower() is two characters, so such letters stay).
    searchable = description.lower()
    if len(searchable) != len(description):
        searchable = "".join(c if len(c.lower()) != 1 else c.lower() for c in description)
    for m in rules.label.finditer(searchable):
        if not _is_label(description, m):  # judged on the original: capitals matter
            continue
        parts.append(description[cursor : m.start()])
        if current is not None:
            sections.setdefault(current, []).append(_answer_text(description[cursor : m.start()]))
        group = m.lastgroup or ""
        current = group.rsplit("_", 1)[0] if group.startswith(LABELLED) else None  # type: ignore[assignment]
        cursor = m.end()
        parts.append("\n\n")
    parts.append(description[cursor:])
    if current is not None:
        sections.setdefault(current, []).append(_answer_text(description[cursor:]))
    segments = segment("".join(parts))
    prose: list[str] = [title] if title else []
    budget = rules.max_prose_chars
    for s in segments:
        if budget <= 0:
            break
        if s.kind in _PROSE_KINDS:
            for sentence in sentences(s.text[:budget]) if s.kind in ("prose", "quote") else [s.text[:budget]]:
                prose.append(sentence)
                budget -= len(sentence) + 1
    lowered = tuple(p.lower() for p in prose)
    return _Read(
        title, {k: tuple(v) for k, v in sections.items()}, segments, tuple(prose), lowered, "\n".join(lowered)
    )


def _without_comments(text: str) -> str:
    """The text without its closed <!-- comments -->: an issue template's guidance ("<!--
    Describe how one can reproduce the issue -->"), which a reporter leaves in place. One pass,
    linear however many there are. An unclosed "<!--" stays here: only the readers of an
    expected answer and of an expectation sentence treat what follows it as the comment."""
    if "<!--" not in text:
        return text
    kept: list[str] = []
    at = 0
    while (start := text.find("<!--", at)) >= 0 and (end := text.find("-->", start + 4)) >= 0:
        kept.append(text[at:start])
        kept.append(" ")
        at = end + 3
    kept.append(text[at:])
    return "".join(kept)


def _answer_text(section: str) -> str:
    """What follows a label, up to the template's next heading."""
    return until_heading(section).strip()


def _is_label(text: str, m: re.Match[str]) -> bool:
    """A label either opens a line (colon optional) or sits in a line, capitalised, with a colon."""
    line_start = text.rfind("\n", 0, m.start()) + 1
    at_line_start = not text[line_start : m.start()].strip(" \t#*_>-")
    has_colon = ":" in m.group(0)
    found = text[m.start() : m.end()]
    if at_line_start:
        end = text.find("\n", m.end())
        return has_colon or not text[m.end() : end if end >= 0 else len(text)].strip(" \t*_")
    first = found.lstrip(" \t#*_")[:1]
    return has_colon and first.isupper()


# --- one check per fact -----------------------------------------------------------------


def _trying_to_do(report: TriageInput, read: _Read, rules: CompletenessRules) -> Finding:
    if _answer(report.trying_to_do, rules, rules.vague):
        return Finding("trying_to_do", True, "field")
    if _any((read.joined,), rules.patterns["trying_to_do"]):
        return Finding("trying_to_do", True, "text")
    return Finding("trying_to_do", False, "none", _vague_note(report.trying_to_do))


def _expected(report: TriageInput, read: _Read, rules: CompletenessRules) -> Finding:
    note = ""
    if report.expected.strip():
        if _phrase(report.expected) == _phrase(report.actual):
            note = "expected is the same as actual"
        elif _answer(report.expected, rules, rules.vague | rules.vague_expected):
            return Finding("expected", True, "field")
        else:
            note = "too vague"
    observed = {_stems(_first_paragraph(s)) for s in read.sections.get("actual", ())}
    for section in read.sections.get("expected", ()):
        answer = _template_answer(section)
        if _answer(answer, rules, rules.vague | rules.vague_expected) and _stems(answer) not in observed:
            return Finding("expected", True, "text", "labelled")
    said = read.lowered if rules.title_states_expected or not read.title else read.lowered[1:]
    # A sentence that repeats the title (reporters often open with it) says no more than the title.
    title = _phrase(read.title) if not rules.title_states_expected else ""
    for sentence in said if rules.patterns["expected"].search(read.joined) else ():
        if "<!--" in sentence or "-->" in sentence:
            sentence = _HTML_COMMENT.sub(" ", sentence.split("-->")[-1])
        phrase = _phrase(sentence)
        if phrase in rules.vague_expected or phrase in rules.vague or (title and phrase == title):
            continue  # "It should work", "Please fix!!", the title again: no behaviour named
        if _bare_label(sentence, rules):
            continue
        cue = rules.patterns["expected"].search(sentence)
        if cue and not rules.patterns["not_expected"].search(sentence):
            return Finding("expected", True, "text", f'says "{cue.group(0)}"')
    return Finding("expected", False, "none", note)


def _actual(report: TriageInput, read: _Read, rules: CompletenessRules) -> Finding:
    if _answer(report.actual, rules, rules.vague | rules.vague_actual):
        return Finding("actual", True, "field")
    if _answer(report.error_text, rules, rules.vague):
        return Finding("actual", True, "field", "from the error text")
    for section in read.sections.get("actual", ()):
        if _answer(_first_paragraph(section), rules, rules.vague | rules.vague_actual):
            return Finding("actual", True, "text", "labelled")
    for sentence in read.lowered if rules.patterns["actual"].search(read.joined) else ():
        if _phrase(sentence) in rules.vague_actual or _phrase(sentence) in rules.vague:
            continue
        if rules.patterns["actual"].search(sentence):
            return Finding("actual", True, "text")
    if any(s.kind in ("trace", "log") for s in read.segments):
        return Finding("actual", True, "text", "from a pasted trace or log")
    return Finding("actual", False, "none", _vague_note(report.actual))


def _error_text(report: TriageInput, read: _Read, rules: CompletenessRules) -> Finding:
    if _answer(report.error_text, rules, rules.vague, min_words=1):
        return Finding("error_text", True, "field")
    if any(c.level in ("error", "warn") and c.message.strip() for c in report.console):
        return Finding("error_text", True, "captured", "console error")
    if any(s.kind in ("trace", "log") for s in read.segments):
        return Finding("error_text", True, "text", "pasted trace or log")
    pattern = rules.patterns["error_text"]
    if _any((read.joined,), pattern) or _any((report.actual[: rules.max_prose_chars].lower(),), pattern):
        return Finding("error_text", True, "text")
    # A quoted message of two sentences ("it says 'Something went wrong. Try again.'") is cut
    # in two by the sentence split: its paragraphs, whole, are read once more.
    paragraphs = "\n".join(s.text for s in read.segments if s.kind in ("prose", "quote"))
    if ". " in paragraphs and _any((paragraphs[: rules.max_prose_chars].lower(),), pattern):
        return Finding("error_text", True, "text")
    return Finding("error_text", False, "none")


def _steps(report: TriageInput, read: _Read, rules: CompletenessRules) -> Finding:
    note = ""
    if report.steps.strip():
        if _good_steps(segment(normalise(report.steps, rules.max_chars)), rules):
            return Finding("steps_to_reproduce", True, "field")
        note = "only one step" if len(words(report.steps)) < rules.min_single_step_words else "too vague"
    for answer in read.sections.get("steps_to_reproduce", ()):
        if rules.patterns["no_steps"].search(answer[: rules.max_prose_chars].lower()):
            return Finding("steps_to_reproduce", False, "none", "the reporter cannot reproduce it")
        if _good_steps(segment(answer), rules):
            return Finding("steps_to_reproduce", True, "text", "labelled")
    why = _steps_in_text(read, rules)
    if why:
        return Finding("steps_to_reproduce", True, "text", why)
    return Finding("steps_to_reproduce", False, "none", note)


def _good_steps(segments: Sequence[Segment], rules: CompletenessRules) -> bool:
    """Enough steps, each saying something: two real steps, or one that says it all."""
    if any(s.kind in ("command", "code") for s in segments):
        return True
    steps: list[str] = []
    for s in segments:
        if s.kind in _PROSE_KINDS:
            steps.extend(sentences(s.text) if s.kind == "prose" else [s.text])
    steps = [s for s in steps if _phrase(s) not in rules.vague and not _placeholder(s, rules)]
    real = [s for s in steps if len(words(s)) >= rules.min_step_words]
    if len(real) >= rules.min_steps:
        return True
    return any(len(words(s)) >= rules.min_single_step_words for s in steps)


def _steps_in_text(read: _Read, rules: CompletenessRules) -> str:
    """Why the free text holds steps to reproduce, or "" when its signs do not add up."""
    signs = _step_signs(read, rules)
    if sum(rules.step_points[s] for s in signs) >= rules.steps_enough:
        return "signs: " + ", ".join(s for s in STEP_SIGNS if s in signs)
    return ""


def _step_signs(read: _Read, rules: CompletenessRules) -> set[str]:
    """The kinds of step evidence (STEP_SIGNS) the free text shows, each found once."""
    signs: set[str] = set()
    items = [s for s in read.segments if s.kind == "item" and not _placeholder(s.text, rules)]
    if items:
        signs.add("items")
    if any(_imperative(i.text.lower(), rules) or _done_step(i.text.lower(), rules) for i in items):
        signs.add("list")  # "1. Open the file" or, told afterwards, "1. Opened the file"
    kinds = {s.kind for s in read.segments}
    if "command" in kinds:
        signs.add("command")
    if "code" in kinds:
        signs.add("code")
        if any(command_line(s.text.split("\n", 1)[0]) for s in read.segments if s.kind == "code"):
            signs.add("command")  # an unprompted command line: docker run -it web
    if "command" not in signs and any(_bare_command(s.text) for s in read.segments if s.kind == "prose"):
        signs.add("command")  # a command line pasted as a paragraph of its own, unfenced
    body = read.lowered[1:] if read.title else read.lowered
    if "command" not in signs and any(inline_commands(sentence) for sentence in body):
        signs.add("command")  # "I start it with `docker run -it web`"
    if "command" not in signs and any(rules.patterns["step_command"].search(sentence) for sentence in body):
        signs.add("command")  # "I ran rsync -a --delete src/ dst/", unquoted
    if "example" not in signs and "code" in kinds and _ran_and_failed(read.segments, rules):
        signs.add("example")  # the reporter's own code, then what it did
    orders = 0
    for sentence in body:
        if _placeholder(sentence, rules):
            continue  # a template's "1. Go to '...' 2. Click on '....'" flattened into prose
        if "instructions" not in signs and _order(sentence, rules):
            signs.add("instruction")
            orders += 1
            if orders >= 2:
                signs.add("instructions")  # "Open the settings. Switch to Dark." : a sequence
        if "instructions" not in signs and _orders_in_one(sentence, rules):
            signs.update(("instruction", "instructions"))  # "I write a post, add a photo, tap Publish"
        if "narrative" not in signs and _gerund_step(sentence, rules):
            signs.add("narrative")  # "Pressing Enter in the dialog closes it"
        for sign, key in (
            ("action", "step_action"),
            ("narrative", "step_narrative"),
            ("condition", "step_condition"),
            ("sample", "step_sample"),
        ):
            if sign not in signs and rules.patterns[key].search(sentence):
                signs.add(sign)
        if (
            "example" not in signs
            and kinds & {"code", "command"}
            and rules.patterns["step_intro"].search(sentence)
        ):
            signs.add("example")  # "With the following snippet:" and the snippet
    return signs


def _orders_in_one(sentence: str, rules: CompletenessRules) -> bool:
    """One sentence of two or more orders in a row, told as orders or in the first person:
    "Share a link from Chrome, choose Add as new post" or "I write a post, add 3 photos, tap
    Publish". It must open with one, so "We use X and it fails" is not."""
    if "," not in sentence and " and " not in sentence and " then " not in sentence:
        return False
    # "I tried it myself in Chrome: fill in name and email, press Sign up": the orders are what
    # the colon introduces.
    _, colon, after = sentence.rpartition(": ")
    if colon and after.strip():
        sentence = after
    clauses = [c for c in _CLAUSE.split(sentence) if c.strip()]
    if len(clauses) < 2:
        return False
    clauses[0] = _FIRST_PERSON.sub("", clauses[0], count=1)
    if not _clause_order(clauses[0], rules):
        return False
    return any(_clause_order(c, rules) for c in clauses[1:])


def _clause_order(clause: str, rules: CompletenessRules) -> bool:
    """An order with something to act on, not a verb alone ("Open, save and close buttons do
    not work"), a failure ("sign out both fail") or the set-up ("use Hibernate")."""
    verb = clause.split(None, 1)[0] if clause.strip() else ""
    return (
        len(words(clause)) >= 2
        and verb not in _SET_UP
        and _imperative(clause, rules)
        and not rules.patterns["actual"].search(clause)
    )


def _ran_and_failed(segments: Sequence[Segment], rules: CompletenessRules) -> bool:
    """Pasted code that calls something (``session.merge(order);``, ``select ... from``) followed
    at once by what it did: a trace, a log, or a sentence telling the failure."""
    for code, then in itertools.pairwise(segments):
        if code.kind != "code" or not _CALL.search(code.text):
            continue
        if then.kind in ("trace", "log"):
            return True
        if then.kind == "prose" and rules.patterns["actual"].search(then.text.lower()):
            return True
    return False


def _bare_command(paragraph: str) -> bool:
    """A paragraph that is one command line: lower-case program, options, no sentence end."""
    return (
        paragraph[:1].islower()
        and not paragraph.rstrip().endswith((".", "!", "?", ":"))
        and ": " not in paragraph  # "in 2.4 you write: [ -z ... ]" is prose quoting code
        and command_line(paragraph)
    )


def _placeholder(step: str, rules: CompletenessRules) -> bool:
    """A template's step left as it came: "Go to '...'" (checked only where dots are)."""
    if ".." not in step and "\u2026" not in step and "[" not in step:
        return False
    return bool(rules.patterns["step_placeholder"].search(step))


def _done_step(item: str, rules: CompletenessRules) -> bool:
    """A list item that opens with a step verb in the past tense: "Created a project", "Ran make"."""
    first = _LEADING_FILLER.sub("", item.strip()).lstrip(" \t-*\"'(").split(None, 1)[:1]
    if not first:
        return False
    word = first[0].strip(",.:;")
    if word in rules.step_verbs_past:
        return True
    if not word.endswith("ed") or len(word) < 5:
        return False
    stem = word[:-2]
    return (
        stem in rules.step_verbs  # opened, clicked
        or stem + "e" in rules.step_verbs  # created, typed
        or (stem[-1:] == stem[-2:-1] and stem[:-1] in rules.step_verbs)  # dragged, dropped
        or (stem.endswith("i") and stem[:-1] + "y" in rules.step_verbs)  # copied, applied
    )


def _gerund_step(sentence: str, rules: CompletenessRules) -> bool:
    first = sentence.lstrip(" \t-*\"'(").split(None, 1)[:1]
    if not first or not first[0].endswith("ing") or len(first[0]) < 6:
        return False
    stem = first[0][:-3]
    return stem in rules.step_verbs or stem + "e" in rules.step_verbs or stem[:-1] in rules.step_verbs


def _order(sentence: str, rules: CompletenessRules) -> bool:
    """A prose sentence that tells the reader to do something, not one that asks or labels."""
    # After a field name ("Example: run two containers", not "Build id: 2024-05") the order
    # is what follows the colon.
    sentence = _LABEL_START.sub("", sentence, count=1)
    return _imperative(sentence, rules) and not rules.patterns["step_request"].search(sentence)


def _imperative(sentence: str, rules: CompletenessRules) -> bool:
    s = _LEADING_FILLER.sub("", sentence.strip()).strip(" \t-*\"'(")
    if not s or s.endswith("?"):
        return False
    first = s.split(None, 1)[0].lower().strip(",.:;")
    if first not in rules.step_verbs:
        # German puts the verb of an order last: "Auf Bezahlen klicken", "Warenkorb öffnen."
        last = s.rsplit(None, 1)[-1].lower().strip(",.:;!\"')")
        return last in rules.step_verbs_final and len(s.split()) >= 2 and not _SUBJECT_OR_MODAL.search(s)
    return not _NOT_IMPERATIVE.match(s) and not _NOUN_SUBJECT.match(s) and not _PHRASAL_SUBJECT.match(s)


def _environment(report: TriageInput, read: _Read, rules: CompletenessRules) -> Finding:
    if report.browser or report.os or report.page_url or report.device:
        return Finding("environment", True, "captured")
    if _any((read.joined,), rules.patterns["environment"]):
        return Finding("environment", True, "text")
    return Finding("environment", False, "none")


def _frequency(report: TriageInput, read: _Read, rules: CompletenessRules) -> Finding:
    if report.frequency and report.frequency != "unknown":
        return Finding("frequency", True, "field")
    if _any((read.joined,), rules.patterns["frequency"]):
        return Finding("frequency", True, "text")
    return Finding("frequency", False, "none")


def _affected(report: TriageInput, read: _Read, rules: CompletenessRules) -> Finding:
    if report.people_affected and report.people_affected != "unknown":
        return Finding("affected", True, "field")
    pattern = rules.patterns["affected"]
    said = (s for s in read.lowered if not s.rstrip().endswith("?"))  # "Just me or everyone?" asks
    if pattern.search(read.joined) and any(pattern.search(s) for s in said):
        return Finding("affected", True, "text")
    return Finding("affected", False, "none")


def _evidence(report: TriageInput, read: _Read, rules: CompletenessRules) -> Finding:
    if report.attachments:
        return Finding("evidence", True, "captured", ", ".join(sorted(set(report.attachments))))
    if report.console or report.network:
        return Finding("evidence", True, "captured", "console or network log")
    if any(s.kind in ("trace", "log") for s in read.segments):
        return Finding("evidence", True, "text", "pasted trace or log")
    if _any((read.joined,), rules.patterns["evidence"]):
        return Finding("evidence", True, "text")
    return Finding("evidence", False, "none")


# --- helpers ---------------------------------------------------------------------------


def _answer(value: str, rules: CompletenessRules, vague: frozenset[str], min_words: int = 0) -> bool:
    """A structured answer that says something: enough words and not a known empty phrase."""
    text = normalise(value, rules.max_chars)
    if not text or _phrase(text) in vague:
        return False
    return len(words(text)) >= (min_words or rules.min_answer_words)


def _first_paragraph(section: str) -> str:
    """A labelled answer ends at the first blank line; what follows is the reporter's commentary."""
    return section.strip().split("\n\n", 1)[0]


def _template_answer(section: str) -> str:
    """What a reporter wrote under an expected-behaviour label: its first paragraph, without
    the template's <!-- guidance --> (the section already stops at the template's next heading)."""
    return _first_paragraph(_HTML_COMMENT.sub(" ", section)).strip()


def _bare_label(sentence: str, rules: CompletenessRules) -> bool:
    """A label line the section cutter did not take (JIRA's "*Expected result:*", a label
    inside a sentence) with no answer after it: its own "expected" states nothing."""
    bare = sentence.strip(_TRIM + "#[]{}|")
    m = rules.label.match(bare)
    return m is not None and m.end() >= len(bare)


def _stems(text: str) -> frozenset[str]:
    """The words of an answer cut to their first five letters: "firefox closes" and
    "Firefox closed." are the same answer, so an "Expected results:" box that repeats the
    "Actual results:" box (reporters swap or copy them) states no expectation."""
    return frozenset(w.lower()[:5] for w in words(text[:2000]))


def _vague_note(value: str) -> str:
    return "too vague" if value.strip() else ""


def _phrase(text: str) -> str:
    return " ".join(text.lower().split()).strip(_TRIM)


def _any(texts: Iterable[str], pattern: re.Pattern[str]) -> bool:
    return any(pattern.search(t) for t in texts if t)


def _label_pattern(labels: Mapping[str, Any]) -> re.Pattern[str]:
    groups: list[str] = []
    for key in (*LABELLED, "other"):
        alternatives = _strings(labels, key, f"labels.{key}")
        for i, alternative in enumerate(alternatives):
            _compile(alternative, f"labels.{key}[{i}]")
        if alternatives:
            groups.append(f"(?P<{key}_{len(groups)}>{'|'.join(f'(?:{a})' for a in alternatives)})")
    if not groups:
        return re.compile(r"(?!x)x")
    # A label, maybe in markdown bold or a heading, then a colon or the end of its line.
    body = "|".join(groups)
    return re.compile(
        rf"(?:^|(?<=[\s.;!?)]))[ \t]*(?:#{{1,6}}[ \t]*|[*_]{{2}}[ \t]*)?(?:{body})[ \t]*(?:[*_]{{2}})?"
        rf"[ \t]*(?::[ \t]*(?:[*_]{{2}})?|(?=[ \t]*$))",
        re.M,
    )


def _checked(table: Mapping[str, Any], key: str, where: str) -> list[str]:
    """A pattern list, each alternative compiled once on its own so an error names its place."""
    alternatives = _strings(table, key, where)
    for i, alternative in enumerate(alternatives):
        _compile(alternative, f"{where}[{i}]")
    return alternatives


def _join(alternatives: list[str]) -> re.Pattern[str]:
    if not alternatives:
        return re.compile(r"(?!x)x")  # an empty list matches nothing
    # No re.I: the text is lower-cased once instead, which makes every search several times faster.
    return re.compile("|".join(f"(?:{a})" for a in alternatives))


def _compile(pattern: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as e:
        raise RulesError(f"completeness.{where} is not a valid pattern: {e}") from e


def _table(data: Mapping[str, Any], key: str, where: str | None = None) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise RulesError(f"completeness.{where or key} must be a table")
    return value


def _int(table: Mapping[str, Any], key: str, where: str, least: int) -> int:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise RulesError(f"completeness.{where} must be a whole number >= {least}")
    return value


def _bool(table: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise RulesError(f"completeness.{where} must be true or false")
    return value


def _strings(table: Mapping[str, Any], key: str, where: str) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RulesError(f"completeness.{where} must be a list of strings")
    return value
