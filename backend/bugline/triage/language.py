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

# "other": written in a language the rules do not read (Spanish, Arabic, ...): its facts
# cannot be checked, so nothing it says is taken for missing (completeness.assess).
Language = Literal["en", "de", "fr", "other", ""]

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
# Languages the rules do not read, told only so that their reports are not judged by English
# rules (a complete Spanish report would score 0 and go back to the customer with English
# questions for facts it holds). Same discipline: no word of the three sets above, no word
# that English text or code writes often ("con", "per", "non", "come", "do", "as", "no",
# "com" of ".com"). A word may be in several of them ("quando"): each counts it.
_UNREAD: dict[str, frozenset[str]] = {
    "es": _set(
        "el los las por está están pero cuando muy también porque esto este esta hay puedo "
        "funciona desde ahora siempre nuestros nuestro todos hacer hago aparece página mismo "
        "sigue nada ningún ninguna tengo tenemos usuarios clientes"
    ),
    "it": _set(
        "della delle degli gli sono questo questa perché anche dopo funziona viene essere nel che "
        "su quando riesco sempre nella alla dal dalla ogni ancora niente nessun abbiamo siamo più "
        "cosa clienti utenti"
    ),
    "pt": _set(
        "não uma muito isso isto estão ao pelo pela meu minha depois nenhum nenhuma temos tenho "
        "você vocês usuários quando sempre aparece todos clientes nossos nossa consigo acontece "
        "página funciona está"
    ),
    "nl": _set(
        "het een niet ik wij zijn wordt maar ook nog geen werkt deze naar worden hebben heb "
        "mijn onze voor bij wanneer altijd sinds klanten gebruikers pagina"
    ),
    "pl": _set(
        "nie się jest że czy jak mnie mogę który która tak przy dla gdy kiedy jestem mamy działa strona "
        "klienci użytkownicy zawsze już tylko"
    ),
    "sv": _set("och att inte jag är för ett det som också alltid sedan fungerar kunder användare"),
    "tr": _set("bir bu için ile değil çok olarak sonra sayfa çalışmıyor müşteriler"),  # noqa: RUF001
    "id": _set("yang tidak itu saya dengan untuk akan bisa sudah halaman pelanggan"),
}
# Scripts with letters of their own: text mostly in one of them is in a language the rules
# do not read (the rules' words are all in Latin letters).
_SCRIPTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ar", re.compile(r"[\u0600-\u06ff\u0750-\u077f]")),
    ("he", re.compile(r"[\u0590-\u05ff]")),
    ("ru", re.compile(r"[\u0400-\u04ff]")),  # Cyrillic: Russian, Ukrainian, Bulgarian, ...
    ("el", re.compile(r"[\u0370-\u03ff]")),
    ("hi", re.compile(r"[\u0900-\u097f]")),
    ("th", re.compile(r"[\u0e00-\u0e7f]")),
    ("ko", re.compile(r"[\uac00-\ud7af]")),
    ("ja", re.compile(r"[\u3040-\u30ff]")),  # kana first: Japanese writes kanji too
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
)
_NAMES = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "pl": "Polish", "sv": "Swedish", "tr": "Turkish",
    "id": "Indonesian", "ar": "Arabic", "he": "Hebrew", "ru": "a Cyrillic script", "el": "Greek",
    "hi": "Devanagari", "th": "Thai", "ko": "Korean", "ja": "Japanese", "zh": "Chinese",
}  # fmt: skip
_LATIN = re.compile(r"[a-zA-Z\u00c0-\u024f]")
_WIDE = frozenset({"zh", "ja", "ko"})  # one character is about a word: it weighs as a word's letters
# What the reporter quotes (a message on screen) or pasted (a stack frame) is not the language
# they write in: "it shows '系统错误'" is English, "aparece: TypeError ... at render (...)" Spanish.
_QUOTED = re.compile(
    r"""(?<!\w)'[^'\n]{1,200}'(?!\w)|"[^"\n]{1,200}"|[“„«「][^”“»」\n]{1,200}[”“»」]|^[ \t]*at .*$""",
    re.M,
)
# Whole words of letters only: "h3et" in a code name is no French "et".
_WORD = re.compile(r"\b[^\W\d_]+\b")
# A word may belong to several unread languages ("quando"); each of them counts it.
_LANGUAGE_OF: dict[str, tuple[str, ...]] = {}
for _lang, _words in (*_WORDS.items(), *_UNREAD.items()):
    for _w in _words:
        _LANGUAGE_OF[_w] = (*_LANGUAGE_OF.get(_w, ()), _lang)


def written(texts: Sequence[str | None]) -> Language:
    """The language a report (its title and fields, in any order) is written in, or ``""``.
    Each field's opening is read, so a log pasted first in one field hides nothing of the others."""
    return detect("\n".join(t[:FIELD_CHARS] for t in texts if t))


def code(texts: Sequence[str | None]) -> str:
    """Like ``written``, but an unread language by its code ("es", "ar", ...), for saying which."""
    return identify("\n".join(t[:FIELD_CHARS] for t in texts if t))


def name(found: str) -> str:
    """A language code as a reason says it: "es" -> "Spanish"."""
    return _NAMES.get(found, "a language the rules do not read")


def for_rules(texts: Sequence[str]) -> Language:
    """The language to read a report's rules in: the one it is written in. A long report with
    no sign of any language (a log, code) is read as English, the rules' own language: reading
    it in every language costs time and finds nothing more; a short one is read in every
    language (``""``). A report in a language the rules do not read is ``"other"``."""
    found = written(texts)
    if not found and sum(min(len(t), FIELD_CHARS) for t in texts if t) > SHORT_CHARS:
        return "en"
    return found


def detect(text: str) -> Language:
    """``identify``'s answer as the rules see it: en, de, fr, other (any unread language) or ``""``."""
    found = identify(text)
    return found if found in ("en", "de", "fr", "") else "other"  # type: ignore[return-value]


def identify(text: str) -> str:
    """The language ``text`` is written in, by code. A script of its own (Arabic, Cyrillic, CJK,
    ...) names it when its letters outnumber the Latin ones outside quotes; else the language
    with the most distinct function words, if it has at least ``MIN_WORDS`` of them and more
    than any other; else ``""``. Distinct words, so a log that repeats "Mon ... EST" is no
    French. English, German and French are told on the whole text, as they always were; only
    a text none of them wins is read again without its quotes and stack frames, for a
    language the rules do not read ("Cuando hago clic ... TypeError: Cannot read ... at x")."""
    own = ""
    if not text.isascii():
        own = _QUOTED.sub(" ", text)
        script = _script(own)
        if script:
            return script
    found = _by_words(text)
    if found in _WORDS:
        return found
    # Only now is the text read without its quotes and frames: most reports stop above.
    own = own or _QUOTED.sub(" ", text)
    if own != text:
        again = _by_words(own)
        if again not in _WORDS:
            return again
    return found


def _by_words(text: str) -> str:
    seen: set[str] = set()
    counts: dict[str, int] = {}
    for word in _WORD.findall(text.lower()):
        if word in seen:
            continue
        seen.add(word)
        for lang in _LANGUAGE_OF.get(word, ()):
            counts[lang] = counts.get(lang, 0) + 1
    ranked = [*sorted(counts.items(), key=lambda item: -item[1]), ("", 0), ("", 0)]
    (best, most), (_, second) = ranked[0], ranked[1]
    if most < MIN_WORDS or most == second:
        return ""
    return best


def _script(text: str) -> str:
    """The non-Latin script most of ``text``'s letters are in, if they outnumber the Latin ones."""
    latin = len(_LATIN.findall(text))
    for name, letters in _SCRIPTS:
        n = len(letters.findall(text)) * (6 if name in _WIDE else 1)
        if n >= 12 and n > latin:
            return name
    return ""


# --- rules read per language ------------------------------------------------------------

# Languages whose words a rules table may list apart from its English `patterns` (as `de = [...]`
# and `fr = [...]`). Reading them only for reports in that language keeps an English report as
# fast as before they were added: scanning costs time per alternative.
EXTRA: tuple[Language, ...] = ("de", "fr")
# A report in an unread language is read with the English rules alone: its lists, traces,
# quoted messages and captured facts are found; its words are not.
_READ: dict[Language, tuple[Language, ...]] = {
    "en": (),
    "de": ("de",),
    "fr": ("fr",),
    "other": (),
    "": EXTRA,
}


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
