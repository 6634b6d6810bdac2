"""Severity: the support SOP's four tiers as a level, a score and the reasons (pure).

The score starts at a base, moves with the optional text model (trained on Apache Hadoop
JIRA bugs, see :mod:`bugline.triage.model`) and with every signal that fires: keyword
families in the text, the page, the reporter's plan, how often it happens, how many people
it affects, captured console and server errors, and the size of the report's duplicate
group. Each signal adds one reason, so an agent can see why a report is critical and a
project can change any weight in its settings. The level is the highest tier whose
threshold the score reaches.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

from bugline.triage import duplicates, language, site
from bugline.triage import model as text_model
from bugline.triage.defaultfile import read_defaults
from bugline.triage.errors import RulesError
from bugline.triage.report import TEXT_FIELDS, FailedRequest, GroupStats, TriageInput
from bugline.triage.result import Level, Severity


@dataclass(frozen=True, slots=True)
class Signal:
    """A named rule that adds ``weight`` points and ``reason`` when its pattern matches."""

    name: str
    reason: str
    weight: float
    by_language: Mapping[language.Language, re.Pattern[str]]  # see language.by_language

    @property
    def pattern(self) -> re.Pattern[str]:
        """Every language's alternatives: what a report of unknown language is read with."""
        return self.by_language[""]

    def for_language(self, lang: language.Language) -> re.Pattern[str]:
        return self.by_language[lang]


@dataclass(frozen=True, slots=True)
class Plan:
    name: str
    reason: str
    weight: float
    names: frozenset[str]


@dataclass(frozen=True, slots=True)
class SeverityRules:
    base: float
    critical: float  # lowest score of each tier; below ``medium`` is low
    high: float
    medium: float
    critical_from_circumstances: bool  # page, plan, captured errors alone may make it critical
    max_chars: int
    keywords: tuple[Signal, ...]
    pages: tuple[Signal, ...]
    plans: tuple[Plan, ...]
    model: text_model.TextModel | None
    model_points: float
    model_min_reason: float
    per_reporter: float
    max_reporters_points: float
    per_account: float
    max_accounts_points: float
    frequency: Mapping[str, float]
    affected: Mapping[str, float]
    console_error: float
    max_console_points: float
    server_error: float
    max_server_points: float

    @classmethod
    def default(cls) -> Self:
        return cls.from_mapping(read_defaults("severity"))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Self:
        score, levels, text = _table(data, "score"), _table(data, "levels"), _table(data, "text")
        mdl, group = _table(data, "model"), _table(data, "group")
        context = _table(data, "context")
        critical, high, medium = (_number(levels, k, "levels") for k in ("critical", "high", "medium"))
        if not critical >= high >= medium:
            raise RulesError("severity.levels must satisfy critical >= high >= medium")
        model: text_model.TextModel | None = None
        if _flag(mdl, "enabled", "model"):
            file = mdl.get("file")
            if not isinstance(file, str):
                raise RulesError("severity.model.file must be the model's file name")
            try:
                model = text_model.load(file)
            except (OSError, ValueError, KeyError) as e:
                raise RulesError(f"severity.model.file {file!r} cannot be used: {e}") from e
        max_chars = _number(text, "max_chars", "text")
        if max_chars < 1:
            raise RulesError("severity.text.max_chars must be at least 1")
        return cls(
            base=_number(score, "base", "score"),
            critical=critical,
            high=high,
            medium=medium,
            critical_from_circumstances=_flag(levels, "critical_from_circumstances", "levels"),
            max_chars=int(max_chars),
            keywords=_signals(data, "keywords", word=True),
            pages=_signals(data, "pages", word=False),
            plans=_plans(data),
            model=model,
            model_points=_number(mdl, "points", "model") if model else 0.0,
            model_min_reason=_number(mdl, "min_reason_points", "model") if model else 0.0,
            per_reporter=_number(group, "per_reporter", "group"),
            max_reporters_points=_number(group, "max_reporters_points", "group"),
            per_account=_number(group, "per_account", "group"),
            max_accounts_points=_number(group, "max_accounts_points", "group"),
            frequency=_numbers(data, "frequency", ("always", "sometimes", "once")),
            affected=_numbers(data, "affected", ("everyone", "some", "just_me")),
            console_error=_number(context, "console_error", "context"),
            max_console_points=_number(context, "max_console_points", "context"),
            server_error=_number(context, "server_error", "context"),
            max_server_points=_number(context, "max_server_points", "context"),
        )

    def level(self, score: float) -> Level:
        if score >= self.critical:
            return "critical"
        if score >= self.high:
            return "high"
        if score >= self.medium:
            return "medium"
        return "low"


def assess(
    report: TriageInput,
    rules: SeverityRules,
    group: GroupStats | None = None,
    written: language.Language | None = None,
) -> Severity:
    """The report's tier, score and the reasons, strongest first. ``written``: the language the
    report is in, when the caller has told it already (``language.for_rules``)."""
    moves: list[tuple[float, str]] = []
    cap = rules.max_chars
    text = prose("\n".join(getattr(report, f)[:cap] for f in TEXT_FIELDS).lower() + "\n")
    # The console's words are the app's, not the customer's: a family they alone name is a
    # circumstance (it may lift a report up to high, not into critical).
    console = prose("\n".join(line.message[:500].lower() for line in report.console[:50]))
    lang = language.for_rules(report.texts(), report.locale) if written is None else written

    # The model knows the words of its training language only; on another language its output
    # is its bias, a constant push with a made-up reason. Unknown ("") is read as before.
    if rules.model is not None and lang in ("", rules.model.language):
        verdict = rules.model.predict(report.title, _model_text(report, cap))
        points = rules.model_points * (verdict.expected - rules.model.prior) / 3
        reason = _model_reason(verdict, points) if abs(points) >= rules.model_min_reason else ""
        moves.append((points, reason))
    # Circumstances: where it happened, who reported it, what the browser captured.
    circumstances: list[tuple[float, str]] = []
    for sig in rules.keywords:
        pattern = sig.for_language(lang)
        if pattern.search(text):
            moves.append((sig.weight, sig.reason))
        elif console and pattern.search(console):
            circumstances.append((sig.weight, f"{sig.reason} (in the captured console)"))
    url = (report.page_url or "")[:2000].lower()
    if url:
        for sig in rules.pages:
            if sig.pattern.search(url):
                circumstances.append((sig.weight, sig.reason))
    plan = (report.plan or "").strip().lower()
    for p in rules.plans:
        if plan in p.names:
            circumstances.append((p.weight, p.reason))
            break
    for points, reason, outage in _context(report, rules):
        # Several of the app's requests failing on the server at once is what an outage
        # looks like from the browser: a sign, not a circumstance.
        (moves if outage else circumstances).append((points, reason))
    freq, affected = report.frequency or "", report.people_affected or ""
    if rules.frequency.get(freq):
        moves.append((rules.frequency[freq], f"happens {_FREQUENCY_WORDS[freq]}"))
    if rules.affected.get(affected):
        moves.append((rules.affected[affected], _AFFECTED_WORDS[affected]))
    if group is not None:
        moves.extend(_group(group, rules))

    without = rules.base + sum(p for p, _ in moves) + sum(min(p, 0.0) for p, _ in circumstances)
    moves.extend(circumstances)
    score = max(0.0, min(100.0, rules.base + sum(p for p, _ in moves)))
    level = rules.level(score)
    held = level == "critical" and not rules.critical_from_circumstances and without < rules.critical
    ranked = sorted((m for m in moves if m[1] and m[0]), key=lambda m: -abs(m[0]))
    reasons = tuple(f"{'+' if p > 0 else '-'} {reason}" for p, reason in ranked)
    if not reasons:
        # A level with no reason reads as arbitrary: say that nothing moved it.
        said = "no strong sign either way"
        if lang == "other":
            said = "written in a language the rules do not read"
        reasons = (f"= {said}; every report starts at {rules.base:g}",)
    if held:
        # The score is kept (it still ranks the report first among the high ones); the tier is
        # what pages someone, and a page and a captured error are not an outage by themselves.
        level = "high"
        reasons += (
            "= high, not critical: only the page, plan or what the browser captured point higher; "
            "the customer's words do not say outage, data loss, security, payment or login broken, "
            "nor do many customers",
        )
    return Severity(level=level, score=round(score, 1), reasons=reasons)


# Code, not prose: dotted names (config keys like ``hadoop.security.authentication``, class
# names and stack frames like ``org.apache.hadoop.security.UserGroupInformation.doAs``, file
# names, versions) and paths with two or more slashes. Keyword families read only the prose
# around them, so a config key in a pasted log is not a security incident. Underscored and
# CamelCase names need no rule: families match whole words only. The look-behind lets a
# match start only at a token's first character, which keeps the scan linear.
_CODE = re.compile(r"(?<![\w$./-])[\w$-]++(?:\.[\w$-]++)+|(?<![\w$./-])[\w.$-]*+(?:/+[\w.$-]++){2,}")


def prose(text: str) -> str:
    """``text`` with code (dotted names, paths) blanked out: what keyword families read."""
    return _CODE.sub(" ", text)


_FREQUENCY_WORDS = {"always": "every time", "sometimes": "some of the time", "once": "only once so far"}
_AFFECTED_WORDS = {
    "everyone": "affects everyone",
    "some": "affects several people",
    "just_me": "affects one person",
}


def _model_text(report: TriageInput, cap: int) -> str:
    # The model was trained on a title and one description; the widget's boxes are that
    # description split up, so they are read as one text in the same order.
    r = report
    parts = (r.description, r.trying_to_do, r.actual, r.expected, r.error_text, r.steps)
    return "\n".join(p[:cap] for p in parts if p)


def _model_reason(verdict: text_model.Verdict, points: float) -> str:
    words = [t for t, push in verdict.terms if (push > 0) == (points > 0)]
    like = "severe" if points > 0 else "minor"
    quoted = ", ".join(f"'{w}'" for w in words[:3])
    return f"wording like past {like} reports{f' ({quoted})' if quoted else ''} in the text model"


def _context(report: TriageInput, rules: SeverityRules) -> list[tuple[float, str, bool]]:
    """What the browser captured: points, reason, and whether it looks like an outage."""
    out: list[tuple[float, str, bool]] = []
    errors = {line.message[:200] for line in report.console[:200] if line.level.lower() == "error"}
    if errors and rules.console_error:
        n = len(errors)
        points = min(rules.max_console_points, rules.console_error * n)
        out.append((points, f"{n} console error{'s' if n != 1 else ''} captured", False))
    # No response at all is the app's only if the request was to its own site: an ad blocker
    # stops analytics beacons the same way (status 0).
    page = site.host_of(report.page_url)

    def own(r: FailedRequest) -> bool:
        return site.same(site.host_of(r.url), page)

    failed = [r for r in report.network[:200] if r.status >= 500 or (r.status == 0 and own(r))]
    if failed and rules.server_error:
        n = len(failed)
        points = min(rules.max_server_points, rules.server_error * n)
        # An outage from the browser: several of the app's own services or pages down at the
        # gateway at once; a 500 is one action failing, and ids do not make an endpoint many.
        down = {
            (r.method.upper()[:10], duplicates.route_pattern(r.url))
            for r in failed
            if r.status in site.DOWN_STATUSES and (r.status == 0 or own(r))  # status 0: own already
        }
        out.append((points, f"{n} request{'s' if n != 1 else ''} failed on the server", len(down) > 1))
    return out


def _group(group: GroupStats, rules: SeverityRules) -> list[tuple[float, str]]:
    out: list[tuple[float, str]] = []
    if group.reporters > 1:
        points = min(rules.max_reporters_points, rules.per_reporter * (group.reporters - 1))
        out.append((points, f"{group.reporters} customers reported the same problem"))
    if group.accounts > 1:
        points = min(rules.max_accounts_points, rules.per_account * (group.accounts - 1))
        out.append((points, f"{group.accounts} customer accounts affected"))
    return out


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise RulesError(f"severity.{key} must be a table")
    return value


def _number(table: Mapping[str, Any], key: str, where: str) -> float:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RulesError(f"severity.{where}.{key} must be a number")
    return float(value)


def _flag(table: Mapping[str, Any], key: str, where: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise RulesError(f"severity.{where}.{key} must be true or false")
    return value


def _numbers(data: Mapping[str, Any], key: str, names: Sequence[str]) -> dict[str, float]:
    table = _table(data, key)
    for k in table:
        if k not in names:
            raise RulesError(f"severity.{key}.{k} is not an answer: use {', '.join(names)}")
    return {k: _number(table, k, key) for k in names if k in table}


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise RulesError(f"severity.{where} must be a non-empty list of strings")
    return value


def _signals(data: Mapping[str, Any], key: str, *, word: bool) -> tuple[Signal, ...]:
    out: list[Signal] = []
    for name, entry in _table(data, key).items():
        where = f"{key}.{name}"
        if not isinstance(entry, Mapping):
            raise RulesError(f"severity.{where} must be a table with reason, weight and patterns")
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason:
            raise RulesError(f"severity.{where}.reason must be a non-empty string")
        patterns = _strings(entry.get("patterns"), f"{where}.patterns")
        extra = language.extras(entry, f"severity.{where}")

        def build(alternatives: list[str], where: str = where) -> re.Pattern[str]:
            body = "|".join(f"(?:{p})" for p in alternatives)
            # Word edges only where the alternative begins/ends with a word character, so
            # patterns such as "\\.md" or "cve-\\d+" still match.
            source = rf"(?<![\w-])(?:{body})(?![\w])" if word else body
            try:
                return re.compile(source)
            except re.error as e:
                raise RulesError(f"severity.{where} has an invalid pattern: {e}") from e

        compiled = language.by_language(patterns, extra, build)
        out.append(Signal(str(name), reason, _number(entry, "weight", where), compiled))
    return tuple(out)


def _plans(data: Mapping[str, Any]) -> tuple[Plan, ...]:
    out: list[Plan] = []
    for name, entry in _table(data, "plans").items():
        where = f"plans.{name}"
        if not isinstance(entry, Mapping):
            raise RulesError(f"severity.{where} must be a table with reason, weight and names")
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason:
            raise RulesError(f"severity.{where}.reason must be a non-empty string")
        names = frozenset(n.strip().lower() for n in _strings(entry.get("names"), f"{where}.names"))
        out.append(Plan(str(name), reason, _number(entry, "weight", where), names))
    return tuple(out)
