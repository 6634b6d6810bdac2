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
# "com" of ".com", "el"/"los"/"las" of Los Angeles and SQL aliases, "det" of linalg.det,
# "sale", "care", "pot", "van", "vain", "compare", "sin", "todos", "jest", "su", "og", "bu",
# "yang", "sedan", "som", "att"; nor French "dit", "onze", "mis", "sus"; nor German "ei").
# A word may be in several of them ("quando"): each counts it.
_UNREAD: dict[str, frozenset[str]] = {
    "es": _set(
        "por está están pero cuando muy también porque esto este esta puedo funciona desde "
        "ahora siempre nuestros nuestro hacer hago aparece página mismo sigue ningún "
        "ninguna tengo tenemos usuarios clientes hola gracias ayer hoy otro otra aunque tiene "
        "cuenta usted ustedes después cada vez veces nuestra cómo qué aquí"
    ),
    "it": _set(
        "delle degli gli sono questo questa perché anche dopo funziona viene essere nel quando "
        "riesco sempre nella dalla ogni ancora niente nessun abbiamo siamo più cosa clienti utenti "
        "ciao grazie ieri oggi altro altra senza però accedere succede appare vuoto vuota nulla volta "
        "di dei sul sulla volte"
    ),
    "pt": _set(
        "não nao uma muito isso isto estão pelo pela meu minha depois nenhum nenhuma temos tenho "
        "você voce vocês usuários quando sempre aparece clientes nossos nossa consigo acontece "
        "página pagina funciona está obrigado obrigada olá ontem hoje outro outra da mas também agora "
        "ainda só"
    ),
    "nl": _set(
        "het een niet ik wij zijn wordt maar ook nog geen werkt deze naar worden hebben heb "
        "mijn voor bij wanneer altijd sinds klanten gebruikers pagina bedankt gisteren kan krijg te om "
        "heeft keer"
    ),
    "pl": _set(
        "nie się jest że czy jak mnie mogę który która tak przy dla gdy kiedy jestem mamy działa "
        "strona klienci użytkownicy zawsze już tylko też jeszcze bardzo może dodaniu robi na za "
        "od ze sie proszę prosze dzień dobry jednak nadal"
    ),
    "sv": _set("och inte jag är för ett också alltid fungerar kunder användare"),
    "da": _set("ikke jeg hvis også når kunne skal virker kunder hver sker meget fordi"),
    "tr": _set(
        "bir için değil çok olarak sonra sayfa çalışmıyor müşteriler gibi daha sadece "  # noqa: RUF001
        "hiç ancak zaman ekledikten sepet boş hata beri kez şey hiçbir merhaba teşekkürler lütfen hep "
        "ama"
    ),
    "id": _set(
        "tidak saya dengan untuk bisa sudah halaman pelanggan setelah pada juga masih belum menambahkan"
    ),
    "cs": _set("není jsem když také nebo jsou byl byla bylo mám máme pouze nemohu jiný jiné"),
    "ro": _set("și sunt că pentru când după doar foarte fiecare însă încă acum aici dată nimic deja mereu"),
    "vi": _set("không của và có được trong một những này khi tôi"),
    "fi": _set("että kun mutta olen myös jos sekä kaikki"),
    "hu": _set("és nem hogy egy csak mert amikor már még nincs"),
}
MIN_UNREAD = 4  # distinct words before a text is taken for a language the rules do not read
# With the customer's own locale as a hint (the browser's language, captured by the widget), a
# short report the strict rules leave untold needs less evidence (``_hinted``): these common
# words of each language (with ``_UNREAD``'s) speak for it, except those English, German or
# French write too (``_ENGLISH_TOO``: "no", "la", "de", "se"), which speak for neither side and,
# being the language's own, block nothing either. A Spanish browser's "Cannot open página Mi
# Cuenta" stays English; its "Al pulsar Pagar sale un error y no se completa el pedido" is
# Spanish.
_COMMON: dict[str, frozenset[str]] = {
    "es": _set(
        "no se el la los las lo le les y e o u a un una unos unas de del al en con para me mi mis "
        "es son hay ya que sí más muy nada todo algo eso ese sus tu te nos sin sobre hasta como "
        "donde dice sale pasa mes"
    ),
    "pt": _set(
        "não o a os as um uma de do da dos das no na nos nas em com para e é se me meu minha que "
        "ao aos às mais pelo pela seu sua ou já até sem mesmo mesma fica nada tudo some"
    ),
    "it": _set(
        "non il lo la le i gli un una di da in con per e è che si mi ci ti ho ha hanno al ma ai "
        "ne a ad su me avete hai dal dall del dell della delle alla allo nel nella sul mai poi già "
        "tutto tutti solo molto stesso stessa stesse stessi prima resta via all nell sull"
    ),
    "nl": _set(
        "de het een en van in op met te is niet ik je we er dat als was of wie die dit bij ook "
        "nu al zo dan nog wel maar uit door"
    ),
    "pl": _set(
        "nie się w z na do i to jest że po o a ze co tego ten ta te jak ale bo mi są był była "
        "nic już tylko samego samo ma"
    ),
    "sv": _set(
        "och i på att det en ett är inte jag med som har kan men om sig mig min mitt vi ni de "
        "till från fick fast samma efter när gör ingenting den to in"
    ),
    "da": _set(
        "og i på at det en et er ikke jeg med som har for der men om sig mig min mit vi de til "
        "fra fik samme efter når den to selvom lige gange have"
    ),
    "tr": _set("bir ve bu da de ile için ama çok değil ne mi ki ya"),
    "cs": _set("a je v na se to že s z do k ke mi mě jsem když ale i den"),
    "ro": _set("și în in la pe nu se cu de un o am mi a ai din dar are au ma"),
    "id": _set("dan di yang ini itu tidak ke dari saya"),
    "vi": _set("và của có không là được trong một"),
    "fi": _set("ja on ei se että kun"),
    "hu": _set("és a az nem egy hogy van"),
}
HINTED_MIN = 2  # distinct words that speak for the hinted language (and 1/HINTED_SHARE of all)
HINTED_WORDS = 4  # a shorter text ("No funciona") is too short to tell, hint or not
HINTED_SHARE = 6  # the hinted language's own words are at least 1/6 of a text's distinct words
# Words English, German or French write too, whatever language also has them: no evidence
# for any. With the words English reports write in lower case most often among the lists
# above (counted on the development data: "com", "ve" of "I've", "min", "fast", "op", "ha").
_ENGLISH_TOO = _set(
    "a an in on as at by so do no me to of up go be he we us it is or if my hi ok am pm id os "
    "per via van den con pro die das man men son era set top net pre post dual mini data media "
    "nil non final total normal local global actual real mode code e "
    "com lo mis sin ou em ci ha di ad ti su op met er ten co min fast sig till ve ca ini ja "
    "todo sale poi door del "
    # French and German, the rules' other languages
    "de en des du le et es um im se si y à mai so war hat da wo"
)
# Words only English, German or French write: one of them in a text means it is not (only)
# in the hinted language. The rules' function words and common English words of reports.
_BLOCKERS = (
    _WORDS["en"]
    | _WORDS["de"]
    | _WORDS["fr"]
    | _set(
        "a an on as at can so all any out got how why who our us me no in do to up per via "
        "also still then than now too very again never always before since yet most some other "
        "each every both much many ever here where while until into off down back please thanks "
        "hello nothing anything something everything everywhere anymore shows shown works broken "
        "blank greyed grayed loads loading missing instead without within about because though "
        "seems looks get gets getting keeps tried try trying goes went make makes made see seen "
        "says said wrong empty fails failed crash crashes crashed stuck slow already anyway "
        "est des du au aux qu"  # French function words the rules' set leaves out (shared)
    )
)
# Word shapes (endings, digraphs) of a language that English, German and French words
# rarely have, for words of 5 letters or more: Spanish "-ción", "-ando"; Dutch "ij"; Turkish
# "-iyor"; Polish typed without its letters ("rz", "cz"); Italian verbs' "-ano", "-ono". Each
# was checked against the words English reports write in lower case (development data): none
# of "metadata", "similar", "handler", "useful", "cookie", "removal", "param" matches.
_SHAPES: dict[str, re.Pattern[str]] = {
    lang: re.compile(shape)
    for lang, shape in {
        "es": r"(?:ción|ciones|iendo|ando|ado|ados|ada|adas|ido|ida|mente|amos|aron|ieron)$",
        "pt": r"(?:ção|ções|ando|endo|ado|ados|ada|adas|ido|ida|mente|inho|inha|amos)$",
        "it": r"(?:zione|zioni|ando|endo|ato|mente|iamo|ano|ono)$",
        "nl": r"(?<![hv])ij",
        "pl": r"rz|cz|sz",
        "tr": r"[iıuü]yor|m[ıi]yor",  # noqa: RUF001
        "cs": r"(?:ní|ých)$",
        "ro": r"(?:ului|ele)$",
    }.items()
}
# Letters only that language writes among those above, and never German or French: a word with
# one counts for it (Turkish has few function words; "yapamıyorum" and "çıkıyor" tell it; "ö",  # noqa: RUF003
# "ç", "ä", "â", "î" are German or French too).
_LETTERS: dict[str, re.Pattern[str]] = {
    lang: re.compile(f"[{letters}]")
    for lang, letters in {
        "es": "ñ¿¡", "pt": "ãõ", "pl": "łąęśźżćń", "tr": "ışğ", "ro": "ășțşă", "cs": "ěřůňščžýďť",
        "da": "æøå", "sv": "å", "hu": "őű", "vi": "ơưđạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ",
    }.items()
}  # fmt: skip
# Locales whose texts another code's words tell (Norwegian is read with the Danish set).
# Indonesian's old code "in" is still sent by some Android and Java locales.
_LOCALE_ALIAS = {"nb": "da", "nn": "da", "no": "da", "in": "id"}
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
# Letters that tell a script's other languages apart, for the name a page shows.
_SCRIPT_VARIANTS = {"ar": ("fa", re.compile(r"[پچژگ]")), "ru": ("uk", re.compile(r"[іїєґІЇЄҐ]"))}
_NAMES = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "pl": "Polish", "sv": "Swedish", "da": "Danish or Norwegian",
    "tr": "Turkish", "id": "Indonesian", "cs": "Czech", "ro": "Romanian", "vi": "Vietnamese",
    "fi": "Finnish", "hu": "Hungarian", "ar": "Arabic", "fa": "Persian", "he": "Hebrew",
    "ru": "Russian", "uk": "Ukrainian", "el": "Greek", "hi": "Hindi", "th": "Thai",
    "ko": "Korean", "ja": "Japanese", "zh": "Chinese",
}  # fmt: skip
_LATIN = re.compile(r"[a-zA-Z\u00c0-\u024f]")
_WIDE = frozenset({"zh", "ja"})  # one character is about half a word: it weighs 3 letters
# What the reporter did not write in their own words: quotes (a message on screen), quoted
# reply lines, stack frames ("at render (...)", 'File "x.py", line 3'), and tokens that are
# URLs, paths, dotted names or code (one token each, so a ";" in prose drops no sentence).
# "it shows '系统错误'" is English; "Store locator shows nothing for Los Angeles" is too.
_NOT_PROSE = re.compile(
    r"""(?<!\w)'[^'\n]{1,200}'(?!\w)|"[^"\n]{1,200}"|[“„«「][^“„«「”»」\n]{1,200}[”“»」]"""
    r"""|^[ \t]*(?:at |File "|>).*$|(?<!\S)\S*?(?:[/\\@#_<>\[\]=;{}]|\w\.\w|\w\()\S*""",
    re.M,
)
# Where a mail's own words end: a signature delimiter ("--", "—", "___"), a sign-off line in
# any language, or a confidentiality footer, from its third line on (a greeting or thanks opens
# mails too, and "area riservata" or "el destinatario" can be in the first sentence). Cutting
# there only ever makes "another language" less likely: English, German and French are told
# on the whole text.
_SIGNATURE = re.compile(
    r"^[ \t]*(?:--|—|_{3,})[ \t]*$"
    r"|^[ \t]*(?:best|kind|warm)? ?regards\b|^[ \t]*(?:cheers|thanks|thank you|sincerely)\b"
    r"|^[ \t]*(?:saludos|cordiales saludos|atentamente|un saludo|cordiali saluti|distinti saluti|"
    r"met vriendelijke groet|atenciosamente|abraços|med vänliga hälsningar|mvh|pozdrawiam|"
    r"z poważaniem|saygılarımla|с уважением|mit freundlichen grüßen|viele grüße|cordialement|"  # noqa: RUF001
    r"bien à vous|(?:muchas )?gracias|obrigad[oa]|grazie|(?:alvast )?bedankt|groeten|tack|takk|tak for|"
    r"på forhånd|på förhand|hälsningar|hilsen|dziękuję|dzięki|teşekkür\w*|děkuji|mulțumesc|kiitos|"
    r"köszönöm|terima kasih|un abrazo|ciao|buona giornata|abs)\b"
    r"|^.*\b(?:confiden\w*|riservat\w*|vertrouwelijk\w*|destinatari\w*|geadresseerde|mottagare\w*|"
    r"adresat\w*|empfänger|destinataire|intended recipient)\b",
    re.M | re.I,
)
SIGNATURE_FROM_LINE = 2  # the title and a mail's first line are no signature: "Ciao,", "Gracias por ..."
OPENING = 60  # characters of the reporter's own words (title first) that must be in it too
# Whole words of letters only: "h3et" in a code name is no French "et".
_WORD = re.compile(r"\b[^\W\d_]+\b")
_RULE_WORD: dict[str, Language] = {word: lang for lang, words in _WORDS.items() for word in words}
# A word may belong to several unread languages ("quando"); each of them counts it.
_UNREAD_OF: dict[str, tuple[str, ...]] = {}
for _lang, _words in _UNREAD.items():
    for _w in _words:
        _UNREAD_OF[_w] = (*_UNREAD_OF.get(_w, ()), _lang)
# Built once, for the hint: each language's words, and the words that are evidence for none.
_THEIRS: dict[str, frozenset[str]] = {lang: _COMMON[lang] | _UNREAD[lang] for lang in _COMMON}
_NO_EVIDENCE = _ENGLISH_TOO | _RULE_WORD.keys()


def written(texts: Sequence[str | None], locale: str | None = None) -> Language:
    """The language a report (its title and fields, in any order) is written in, or ``""``.
    Each field's opening is read, so a log pasted first in one field hides nothing of the others.
    ``locale``: the customer's own (a BCP 47 tag such as "es-MX"), a hint for short reports."""
    return detect("\n".join(t[:FIELD_CHARS] for t in texts if t), hint(locale))


def code(texts: Sequence[str | None], locale: str | None = None) -> str:
    """Like ``written``, but an unread language by its code ("es", "ar", ...), for saying which."""
    return identify("\n".join(t[:FIELD_CHARS] for t in texts if t), hint(locale))


def hint(locale: str | None) -> str:
    """The unread Latin-script language a locale names ("es-MX" -> "es", "nb-NO" -> "da"), or
    ``""``: a hint only matters where function words are shared; scripts tell themselves."""
    if not isinstance(locale, str) or not locale:  # stored JSON: trust no type
        return ""
    # "es-MX", "es_ES.UTF-8", "es@euro", "es;q=0.9", "es,en": the first tag's language.
    primary = re.split(r"[-_.@;, ]", locale.strip(), maxsplit=1)[0].lower()
    primary = _LOCALE_ALIAS.get(primary, primary)
    return primary if primary in _COMMON else ""


def name(found: str) -> str:
    """A language code as a reason says it: "es" -> "Spanish"; "" (none) -> ""."""
    return _NAMES.get(found, "a language the rules do not read") if found else ""


def for_rules(texts: Sequence[str], locale: str | None = None) -> Language:
    """The language to read a report's rules in: the one it is written in. A long report with
    no sign of any language (a log, code) is read as English, the rules' own language: reading
    it in every language costs time and finds nothing more; a short one is read in every
    language (``""``). A report in a language the rules do not read is ``"other"``."""
    found = written(texts, locale)
    if not found and sum(min(len(t), FIELD_CHARS) for t in texts if t) > SHORT_CHARS:
        return "en"
    return found


def detect(text: str, hinted: str = "") -> Language:
    """``identify``'s answer as the rules see it: en, de, fr, other (any unread language) or ``""``."""
    found = identify(text, hinted)
    return found if found in ("en", "de", "fr", "") else "other"  # type: ignore[return-value]


def identify(text: str, hinted: str = "") -> str:
    """The language ``text`` is written in, by code, or ``""``.

    English, German and French are told on the whole text exactly as they always were: the
    one with the most distinct function words, at least ``MIN_WORDS`` and more than either
    other. A language the rules do not read is told only on the reporter's own words
    (``_own_words``: no signature or footer, quotes, frames, URLs, paths or code), and only on
    strong evidence, since such a report is never asked for facts: its script's letters (see
    ``_script``), or at least ``MIN_UNREAD`` of its function words, twice as many as the best
    of English, German and French on the same words, and more of them than English words in
    the first ``OPENING`` characters. Being read as English by mistake costs a customer
    English questions; being read as Spanish by mistake costs the team the questions, so the
    first is the one left to chance.

    ``hinted``: an unread language the customer's locale names (``hint``). It is read only for
    a report the above leaves untold or tells as English, German or French on words the hinted
    language writes too (``_with_hint``); it never moves a report told on its own words.
    """
    rule, _, unread_count = _count(text)
    if text.isascii() and unread_count < MIN_UNREAD and not hinted:
        return rule  # most reports: no sign of another language anywhere in them
    own = _own_words(text)
    if not text.isascii():
        script = _script(own)
        if script:
            return script
    if unread_count < MIN_UNREAD:
        return _with_hint(rule, own, hinted)
    unread, count = _unread_language(own)
    if not unread or count < MIN_UNREAD or count < 2 * _rule_words(own, unread):
        return _with_hint(rule, own, hinted)
    # The reporter's first words too: an English report signed off in Dutch opens in English.
    head = own[:OPENING]
    said = set(_WORD.findall(head.lower()))
    opening = sum(1 for w in said if unread in _UNREAD_OF.get(w, ()))
    # English words only: French "la", "un", "que" open Spanish and Italian sentences too.
    return unread if opening > len(said & _WORDS["en"]) else _with_hint(rule, own, hinted)


def _with_hint(rule: str, own: str, hinted: str) -> str:
    """The strict verdict ``rule``, unless the customer's locale names a language and the
    verdict rests only on words that language writes too (Italian "il", "ma", "ne" and French
    make three French words in any Italian paragraph): then the hint decides (``_hinted``)."""
    if not hinted or (rule and _rule_words(own, hinted)):
        return rule
    return _hinted(own, hinted) or rule


def _hinted(own: str, hinted: str) -> str:
    """``hinted`` if the reporter's own words are in it, else ``""``. Called only for a text
    the strict rules did not tell, or told on shared words alone (``_with_hint``). It must have
    at least ``HINTED_WORDS`` distinct words, none of them an English, German or French word the
    hinted language does not write too (``_BLOCKERS``: "on", "can", "the", "broken"; Spanish
    writes "la" and "no" too, Italian "in" and "per"), and at least ``HINTED_MIN`` words that
    speak for it (``_speaks_for``), a ``1/HINTED_SHARE`` of the words that could speak either
    way."""
    tokens = _WORD.findall(own.replace("İ", "I"))
    words = {t.lower() for t in tokens}
    if len(words) < HINTED_WORDS:
        return ""
    theirs = _THEIRS[hinted]
    if (words - theirs) & _BLOCKERS:
        return ""
    found = {
        t.lower()
        for t, after in zip(tokens, [*tokens[1:], ""], strict=True)
        if _speaks_for(t, after, hinted, theirs)
    }
    # Of the words that could speak for or against it: shared ones ("la", "no") do neither.
    telling = words - (theirs & _NO_EVIDENCE)
    return hinted if len(found) >= HINTED_MIN and HINTED_SHARE * len(found) >= len(telling) else ""


def _speaks_for(token: str, after: str, hinted: str, theirs: frozenset[str]) -> bool:
    """Whether ``token`` (followed by ``after``) is a word of the hinted language and of no rule
    language: one of its words (``theirs``), letters or shapes, written in lower case (a name, a
    place or a UI label is capitalised: "Łukasz", "Mi Cuenta", "Página Mi Cuenta") unless it is
    one of its distinctive words opening a sentence, a lower-case word after it ("Cuando
    intento"); never one ASCII letter (Portuguese "é" and Italian "è" do count), never a word
    English, German or French write too (``_ENGLISH_TOO``, the rules' own words)."""
    word = token.lower()
    if (len(token) == 1 and token.isascii()) or word in _NO_EVIDENCE:
        return False
    if not token[0].islower() and (word not in _UNREAD[hinted] or not after[:1].islower()):
        return False
    if word in theirs:
        return True
    letters, shape = _LETTERS.get(hinted), _SHAPES.get(hinted)
    return (letters is not None and letters.search(word) is not None) or (
        len(word) >= 5 and shape is not None and shape.search(word) is not None
    )


def _own_words(text: str) -> str:
    """``text`` without what the reporter did not write in their own words: a signature or
    footer, quoted replies, quotes, stack frames, URLs, paths, code."""
    cut = len(text)
    for match in _SIGNATURE.finditer(text):
        if text.count("\n", 0, match.start()) >= SIGNATURE_FROM_LINE:
            cut = match.start()
            break
    return _NOT_PROSE.sub(" ", text[:cut])


def _count(text: str) -> tuple[str, int, int]:
    """English, German or French by distinct function words (``""`` when none wins), the
    largest of their counts, and how many distinct words of unread languages the text has."""
    seen: set[str] = set()
    counts: dict[str, int] = dict.fromkeys(_WORDS, 0)
    unread = 0
    for word in _WORD.findall(text.lower()):
        if word in seen:
            continue
        seen.add(word)
        lang = _RULE_WORD.get(word)
        if lang is not None:
            counts[lang] += 1
        elif word in _UNREAD_OF:
            unread += 1
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    (best, most), (_, second) = ranked[0], ranked[1]
    return ("" if most < MIN_WORDS or most == second else best), most, unread


def _rule_words(text: str, unread: str) -> int:
    """The most distinct function words of English, German or French in ``text`` that the
    unread language does not write too: Spanish and Italian sentences are full of French "la",
    "le", "un", "que", "il", which must not outvote their own words."""
    shared = _COMMON.get(unread, frozenset())
    seen = {w for w in _WORD.findall(text.lower()) if w in _RULE_WORD and w not in shared}
    return max((len(seen & words) for words in _WORDS.values()), default=0)


def _unread_language(text: str) -> tuple[str, int]:
    """The unread language with the most distinct function words in ``text`` (``""`` on a tie)."""
    seen: set[str] = set()
    counts: dict[str, int] = {}
    for word in _WORD.findall(text.lower()):
        if word in seen:
            continue
        seen.add(word)
        for lang in _UNREAD_OF.get(word, ()):
            counts[lang] = counts.get(lang, 0) + 1
    ranked = [*sorted(counts.items(), key=lambda item: -item[1]), ("", 0), ("", 0)]
    (best, most), (_, second) = ranked[0], ranked[1]
    return ("", most) if most == second else (best, most)


def _script(text: str) -> str:
    """The non-Latin script of ``text``'s letters, if they are at least 1.5 times the Latin
    ones, and at least as many in its opening (an English report signed in Cyrillic is English)."""
    latin = len(_LATIN.findall(text))
    head = text[:40]
    for code_, letters in _SCRIPTS:
        weight = 3 if code_ in _WIDE else 1
        n = len(letters.findall(text)) * weight
        if n >= 12 and n >= 1.5 * latin and len(letters.findall(head)) * weight >= len(_LATIN.findall(head)):
            variant = _SCRIPT_VARIANTS.get(code_)
            return variant[0] if variant and variant[1].search(text) else code_
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
