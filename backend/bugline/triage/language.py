"""Which of the shipped languages a report is written in, told by its function words (pure).

Bugline speaks English, German and French to customers (docs/decisions.md, "The customer's
language"), and customers write in those languages. The phrase families carry all three, but
the severity text model was trained on English reports only: on a German report it knows
almost no word, and its output is then its bias, which reads as "wording like past minor
reports" and lowers every such report's score. Knowing the language lets the model speak only
for text in its own language.

Function words ("the", "und", "les") are the cheapest reliable sign: every sentence has some,
they are the same whatever the product, and the three sets below share none. Text with too few
of them (a title, a stack trace, a list of names) is ``""``: unknown, treated as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypeVar

from bugline.triage.errors import RulesError

Language = Literal["en", "de", "fr", ""]

FIELD_CHARS = 500  # the opening of each field tells its language; reading more only costs time
MIN_WORDS = 3  # distinct function words needed before a language is named
SHORT_CHARS = 300  # a report this short is cheap to read in every language


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Distinctive function words. Left out: any word two of the languages share ("in", "die", "on",
# "an", "es", "plus"), French words that are common German too ("des", "du"), and the ones
# timestamps write ("Mon", "EST").
_WORDS: dict[Language, frozenset[str]] = {
    "en": _set(
        "the and is are was were to of it when with this that not my we have has be for but "
        "after from does doesn don didn cannot what which there they you your i at by or if its "
        "been would should could will just only"
    ),
    "de": _set(
        "der das und ist nicht ich wir ein eine einen einem einer eines mit auf bei wenn sich den "
        "dem zu von wird werden wurde wurden kann auch aber mein meine meinen nach seit noch mehr "
        "immer oder wieder keine kein dass sie geht beim als aus wie sehr nur schon hier jetzt "
        "heute gestern habe bin sind im vom zum zur durch für über ohne dann weil ob dieser diese "
        "dieses uns unser unsere mir mich ihm ihn"
    ),
    "fr": _set(
        "le la les et une un je nous pas ne que qui sur dans pour avec au ma mes "
        "il elle ce cette sont quand mais ai suis rien jamais peux aux ces ses leur leurs "
        "votre vos notre nos très aussi déjà encore où comme même sans sous chez été était ont "
        "fait ça cela lui tout tous toutes depuis après avant parce alors donc"
    ),
}
# Whole words of letters only: "h3et" in a code name is no French "et".
_WORD = re.compile(r"\b[^\W\d_]+\b")
_LANGUAGE_OF: dict[str, Language] = {word: lang for lang, words in _WORDS.items() for word in words}


def written(texts: Sequence[str | None]) -> Language:
    """The language a report (its title and fields, in any order) is written in, or ``""``.
    Each field's opening is read, so a log pasted first in one field hides nothing of the others."""
    return detect("\n".join(t[:FIELD_CHARS] for t in texts if t))


def for_rules(texts: Sequence[str]) -> Language:
    """The language to read a report's rules in: the one it is written in. A long report with
    no sign of any language (a log, code, another script) is read as English, the rules' own
    language: reading it in every language costs time and finds nothing more; a short one is
    read in every language (``""``)."""
    found = written(texts)
    if not found and sum(min(len(t), FIELD_CHARS) for t in texts if t) > SHORT_CHARS:
        return "en"
    return found


def detect(text: str) -> Language:
    """The language with the most distinct function words in ``text``, if it has at least
    ``MIN_WORDS`` of them and more than any other; else ``""``. Distinct words, so a log that
    repeats "Mon ... EST" is no French."""
    seen: set[str] = set()
    counts: dict[Language, int] = dict.fromkeys(_WORDS, 0)
    for word in _WORD.findall(text.lower()):
        lang = _LANGUAGE_OF.get(word)
        if lang is not None and word not in seen:
            seen.add(word)
            counts[lang] += 1
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    (best, most), (_, second) = ranked[0], ranked[1]
    if most < MIN_WORDS or most == second:
        return ""
    return best


# --- rules read per language ------------------------------------------------------------

# Languages whose words a rules table may list apart from its English `patterns` (as `de = [...]`
# and `fr = [...]`). Reading them only for reports in that language keeps an English report as
# fast as before they were added: scanning costs time per alternative.
EXTRA: tuple[Language, ...] = ("de", "fr")
_READ: dict[Language, tuple[Language, ...]] = {"en": (), "de": ("de",), "fr": ("fr",), "": EXTRA}


T = TypeVar("T")


def extras(entry: Mapping[str, Any], where: str) -> dict[Language, list[str]]:
    """A rules table's word lists in more languages (``de = [...]``, ``fr = [...]``), each
    alternative checked on its own so an error names its list and place (``where`` is the
    table's path, "severity.keywords.login"). An empty list turns that language off."""
    out: dict[Language, list[str]] = {}
    for lang in EXTRA:
        if lang not in entry:
            continue
        value = entry[lang]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise RulesError(f"{where}.{lang} must be a list of strings")
        for i, alternative in enumerate(value):
            try:
                re.compile(alternative)
            except re.error as e:
                raise RulesError(f"{where}.{lang}[{i}] is not a valid pattern: {e}") from e
        out[lang] = value
    return out


def by_language(
    english: Sequence[str], extra: Mapping[Language, Sequence[str]], build: Callable[[list[str]], T]
) -> dict[Language, T]:
    """``build`` applied to the alternatives read for each language a report can be in: the
    English ones alone for English, plus that language's for German or French, plus all of
    them when the language is unknown (a short report: cheap to read in every language)."""
    built: dict[tuple[str, ...], T] = {}
    out: dict[Language, T] = {}
    for lang, extras in _READ.items():
        alternatives = tuple(english) + tuple(a for x in extras for a in extra.get(x, ()))
        if alternatives not in built:
            built[alternatives] = build(list(alternatives))
        out[lang] = built[alternatives]
    return out
