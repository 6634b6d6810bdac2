"""Reports in German and French, the other languages Bugline speaks to customers.

A customer who writes a complete report in German must not be sent back for facts it holds,
and an English-only text model must not lower the score of every report it cannot read.
Each row is the twin of an English report the engine already reads; the facts it must find
are the ones a support agent reading that language would tick.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

import pytest

from bugline.triage import duplicates, language
from bugline.triage.completeness import CompletenessRules, assess
from bugline.triage.engine import triage
from bugline.triage.errors import RulesError
from bugline.triage.report import TriageInput
from bugline.triage.rules import default_rules, load_rules
from bugline.triage.severity import SeverityRules
from bugline.triage.severity import assess as severity

RULES = CompletenessRules.default()
ALL = ("expected", "actual", "error_text", "steps_to_reproduce", "environment", "frequency", "affected")


@dataclass(frozen=True)
class Case:
    name: str
    title: str
    description: str
    present: tuple[str, ...]
    missing: tuple[str, ...] = ()


CASES = [
    Case(
        "de template with a verb-last list",
        "Bezahlen geht nicht",
        "1. Warenkorb öffnen\n2. Auf „Jetzt bezahlen“ klicken\n3. Kartennummer eingeben\n\n"
        "Erwartet: Die Bestellung wird abgeschlossen.\nTatsächlich: Fehlermeldung „Zahlung fehlgeschlagen“.\n\n"
        "Passiert jedes Mal, alle Kunden sind betroffen. Chrome auf Windows 11.",
        ALL,
    ),
    Case(
        "fr template with guillemets",
        "Paiement impossible",
        "Étapes pour reproduire :\n1. Ouvrir le panier\n2. Cliquer sur « Payer »\n3. Saisir la carte\n\n"
        "Résultat attendu : la commande est validée.\nRésultat obtenu : le message « Paiement refusé » s'affiche.\n\n"
        "Cela arrive à chaque fois, tous les clients sont touchés. Firefox sur Mac.",
        ALL,
    ),
    Case(
        "de prose, as an email tells it",
        "Export kaputt",
        "Wenn ich im Bericht auf Exportieren klicke, erscheint die Meldung 'Export fehlgeschlagen'. "
        "Eigentlich sollte eine CSV-Datei heruntergeladen werden. Das passiert jedes Mal, auch bei "
        "meinen Kollegen.",
        ("expected", "actual", "error_text", "steps_to_reproduce", "frequency", "affected"),
        ("environment",),
    ),
    Case(
        "fr prose, as an email tells it",
        "Export cassé",
        "Quand je clique sur Exporter dans le rapport, le message « L'export a échoué » s'affiche. "
        "Normalement un fichier CSV devrait être téléchargé. Ça arrive à chaque fois, mes collègues aussi.",
        ("expected", "actual", "error_text", "steps_to_reproduce", "frequency", "affected"),
        ("environment",),
    ),
    Case(
        "de orders in the imperative",
        "Profilbild",
        "Öffne die Einstellungen. Klicke auf Profilbild ändern. Das Bild wird nicht gespeichert, "
        "stattdessen bleibt das alte stehen.",
        ("actual", "steps_to_reproduce"),
        ("expected", "frequency", "affected"),
    ),
    Case(
        "fr orders in the imperative",
        "Photo de profil",
        "Ouvrez les paramètres. Cliquez sur Changer la photo. L'image n'est pas enregistrée.",
        ("actual", "steps_to_reproduce"),
        ("expected",),
    ),
    Case(
        "de symptoms are not orders",
        "Speichern",
        "Ich kann nicht speichern. Es lässt sich nicht öffnen. Es geht immer noch nicht.",
        ("actual",),
        ("steps_to_reproduce", "frequency", "expected"),
    ),
    Case(
        "de: only one person and a wish",
        "Dunkles Design",
        "Ich möchte, dass die App ein dunkles Design hat. Das betrifft nur mich.",
        ("expected",),
        ("steps_to_reproduce",),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_german_or_french_report_is_read_like_its_english_twin(case: Case) -> None:
    result = assess(TriageInput(title=case.title, description=case.description), RULES)
    findings = {f.fact: f for f in result.findings}
    for fact in case.present:
        assert findings[fact].present, (fact, result.missing)
    for fact in case.missing:
        assert not findings[fact].present, (fact, findings[fact])


def test_a_complete_german_report_is_not_sent_back_for_facts() -> None:
    case = CASES[0]
    result = assess(TriageInput(title=case.title, description=case.description), RULES)
    assert result.score >= RULES.threshold
    assert result.score >= 80


@pytest.mark.parametrize(
    ("field", "answer"),
    [
        ("actual", "Geht nicht"),
        ("actual", "Es funktioniert nicht."),
        ("actual", "Ça ne marche pas"),
        ("expected", "Es sollte funktionieren"),
        ("expected", "Que ça marche"),
        ("steps", "keine Ahnung"),
        ("steps", "je ne sais pas"),
    ],
)
def test_vague_answers_in_german_and_french_do_not_count(field: str, answer: str) -> None:
    result = assess(TriageInput(**{field: answer}), RULES)
    fact = "steps_to_reproduce" if field == "steps" else field
    assert fact in result.missing


def test_a_german_reporter_who_cannot_reproduce_it_has_no_steps() -> None:
    result = assess(
        TriageInput(description="Schritte:\nWeiß nicht, wie man das reproduziert. Passiert einfach."), RULES
    )
    finding = next(f for f in result.findings if f.fact == "steps_to_reproduce")
    assert not finding.present
    assert finding.note == "the reporter cannot reproduce it"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The export button does nothing when I click it", "en"),
        ("Der Export-Button macht nichts, wenn ich ihn anklicke", "de"),
        ("Le bouton d'export ne fait rien quand je clique dessus", "fr"),
        ("Crash on save", ""),  # too few function words to tell
        ("NPE at org.apache.hadoop.fs.Foo.bar(Foo.java:12)", ""),
        ("h3et h3et h3et mif3et", ""),  # letters inside code names are no French "et"
        ("", ""),
    ],
)
def test_the_language_of_a_report_is_told_by_its_function_words(text: str, expected: str) -> None:
    assert language.detect(text.lower()) == expected


def test_the_english_text_model_stays_silent_on_german_and_french_reports() -> None:
    rules = SeverityRules.default()
    assert rules.model is not None
    without = dataclasses.replace(rules, model=None)
    for title, text in [
        (
            "Einstellungen",
            "Wenn ich die Einstellungen öffne, wird die Seite nicht richtig geladen, aber nur manchmal.",
        ),
        (
            "Paramètres",
            "Quand j'ouvre les paramètres, la page ne se charge pas bien, mais seulement parfois.",
        ),
    ]:
        report = TriageInput(title=title, description=text)
        assert severity(report, rules) == severity(report, without)
    # ...while on English text it still speaks.
    english = TriageInput(
        title="Settings",
        description="When I open the settings, the page does not load properly, but only sometimes.",
    )
    assert severity(english, rules).score != severity(english, without).score


def test_a_german_report_with_no_strong_sign_starts_where_every_report_starts() -> None:
    rules = default_rules()
    result = triage(
        TriageInput(title="Einstellungen", description="Die Seite sieht anders aus als gestern."), rules
    )
    assert result.severity.score == rules.severity.base


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            (
                "Export geht nicht",
                "Wenn ich auf den Export-Button klicke, dann passiert nichts und ich habe keine Datei.",
            ),
            (
                "Rechnung falsch",
                "Wenn ich auf die Rechnung schaue, dann ist der Betrag falsch und ich habe keine Erklärung.",
            ),
        ),
        (
            (
                "L'export ne marche pas",
                "Quand je clique sur le bouton d'export, il ne se passe rien et je n'ai pas de fichier.",
            ),
            (
                "La facture est fausse",
                "Quand je regarde la facture, le montant n'est pas le bon et je n'ai pas d'explication.",
            ),
        ),
    ],
)
def test_two_unrelated_reports_are_not_alike_for_sharing_function_words(
    first: tuple[str, str], second: tuple[str, str]
) -> None:
    a = duplicates.signature(TriageInput(title=first[0], description=first[1]))
    b = duplicates.signature(TriageInput(title=second[0], description=second[1]))
    # Before German and French stopwords: 0.20 and 0.11; "et" and "ai" stay (English "ET", "AI").
    assert duplicates.similarity(a, b)[0] < 0.1


def test_the_same_problem_told_twice_in_german_is_still_alike() -> None:
    a = duplicates.signature(
        TriageInput(
            title="Export geht nicht",
            description="Wenn ich auf den Export-Button klicke, dann passiert nichts und ich habe keine Datei.",
        )
    )
    b = duplicates.signature(
        TriageInput(
            title="Export geht nicht",
            description="Ich klicke auf den Export-Button, dann passiert nichts, ich habe keine Datei bekommen.",
        )
    )
    score, reasons = duplicates.similarity(a, b)
    assert score > 0.3 and any(r.startswith("text") for r in reasons)


def test_a_familys_german_words_are_read_in_german_reports_and_not_in_english_ones() -> None:
    rules = load_rules({"severity": {"keywords": {"payment": {"de": ["zahlung futsch"]}}}})
    german = triage(
        TriageInput(title="Kasse", description="Die Zahlung ist futsch, die zahlung futsch seit gestern."),
        rules,
    )
    assert "+ mentions payment failure" in german.severity.reasons
    # An English report that happens to hold the phrase is read with the English words only...
    english = triage(
        TriageInput(
            title="Checkout",
            description="The customer wrote 'zahlung futsch' in the note field and it was saved.",
        ),
        rules,
    )
    assert "+ mentions payment failure" not in english.severity.reasons
    # ...and one too short to tell its language is read in every language.
    short = triage(TriageInput(title="zahlung futsch"), rules)
    assert "+ mentions payment failure" in short.severity.reasons


def test_a_category_can_be_turned_off_in_one_language() -> None:
    rules = load_rules({"classification": {"categories": {"billing": {"fr": []}}}})
    french = triage(
        TriageInput(title="Facture", description="Je ne trouve pas la facture de mars dans mon compte."),
        rules,
    )
    assert "billing" not in french.classification.categories
    assert (
        "billing"
        in triage(
            TriageInput(title="Invoice", description="I cannot find the March invoice."), rules
        ).classification.categories
    )


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ({"severity": {"keywords": {"payment": {"de": "zahlung"}}}}, "severity.keywords.payment.de"),
        ({"severity": {"keywords": {"payment": {"fr": [3]}}}}, "severity.keywords.payment.fr"),
        ({"classification": {"kind": {"question": {"de": [""]}}}}, "classification.kind.question.de"),
        (
            {"classification": {"categories": {"ui": {"fr": ["(unclosed"]}}}},
            "classification.categories.ui.fr",
        ),
        ({"severity": {"keywords": {"login": {"de": ["(unclosed"]}}}}, "severity.keywords.login.de[0]"),
        # a language's table in the wrong place is refused, not silently ignored
        ({"completeness": {"de": {"expected": ["sollte"]}}}, "completeness.de"),
        ({"severity": {"fr": ["urgent"]}}, "severity.fr"),
    ],
)
def test_bad_language_lists_name_the_key(override: dict[str, Any], key: str) -> None:
    with pytest.raises(RulesError, match=re.escape(key)):
        load_rules(override)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Ich kann mich seit heute Morgen nicht mehr einloggen.", "+ mentions login or access broken"),
        ("Wir können seit dem Update gestern nicht mehr bezahlen.", "+ mentions payment failure"),
        ("Je ne peux plus me connecter depuis ce matin.", "+ mentions login or access broken"),
    ],
)
def test_words_between_the_verb_and_its_negation_do_not_hide_the_problem(text: str, reason: str) -> None:
    result = triage(TriageInput(title="Hilfe", description=text), default_rules())
    assert reason in result.severity.reasons
    assert result.severity.level == "critical"


def test_a_long_text_in_no_language_is_read_with_the_english_rules_only() -> None:
    log = "\n".join(f"2026-11-24T10:{i:02}:00Z worker-{i} GET /api/v1/x 200 12ms" for i in range(20))
    assert language.for_rules(("Logs", log)) == "en"  # nothing German or French to find in it
    assert language.for_rules(("zahlung futsch",)) == ""  # short: read in every language
    assert language.for_rules(("Der Export geht nicht", "Ich klicke auf Export.")) == "de"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "Login nicht möglich seit heute früh, ich bekomme nur eine Fehlermeldung.",
            "+ mentions login or access broken",
        ),
        (
            "Die Zahlung ist nicht möglich, der Kunde bekommt eine Fehlermeldung.",
            "+ mentions payment failure",
        ),
        ("Je n'arrive pas à me connecter depuis ce matin.", "+ mentions login or access broken"),
        ("Je ne parviens pas à payer ma commande, le bouton ne fait rien.", "+ mentions payment failure"),
        ("La page ne se charge pas depuis la mise à jour.", "+ mentions an outage, crash or hang"),
        ("Seit dem Update lädt die Seite nicht mehr.", "+ mentions an outage, crash or hang"),
        ("Die Seite hängt seit dem Update bei jedem Klick.", "+ mentions an outage, crash or hang"),
    ],
)
def test_the_obvious_german_and_french_phrasings_are_read(text: str, reason: str) -> None:
    assert reason in triage(TriageInput(title="Problem", description=text), default_rules()).severity.reasons


@pytest.mark.parametrize(
    "text",
    [
        "Ein Screenshot hängt an. Die Spalte ist etwas zu schmal.",  # "is attached"
        "Das hängt wohl mit dem letzten Update zusammen, die Schrift ist etwas klein.",  # "is related"
        "Es hängt von der Größe der Datei ab, ob die Vorschau erscheint.",  # "depends on"
    ],
)
def test_haengt_that_means_attached_or_related_is_no_hang(text: str) -> None:
    result = triage(TriageInput(title="Hinweis", description=text), default_rules())
    assert "+ mentions an outage, crash or hang" not in result.severity.reasons


@pytest.mark.parametrize(
    "text",
    [
        "I have been charged twice this month.",  # "been charged": the French guard "(?<!en )" must not read "been"
        "Please charge me only once.",
        "Then charged again the next day.",
    ],
)
def test_english_words_ending_like_a_french_guard_still_count(text: str) -> None:
    assert (
        "billing"
        in triage(TriageInput(title="Card", description=text), default_rules()).classification.categories
    )


def test_english_font_reports_are_still_cosmetic() -> None:
    result = triage(
        TriageInput(title="Labels", description="When font size is increased the labels overlap."),
        default_rules(),
    )
    assert "- looks cosmetic (wording, typo, layout)" in result.severity.reasons


@pytest.mark.parametrize(
    "text",
    [
        "Die Spalte ist zu schmal, das ist nicht besonders dringend.",
        "La colonne est trop étroite, ce n'est pas vraiment urgent.",
    ],
)
def test_not_really_urgent_is_not_urgent(text: str) -> None:
    result = triage(TriageInput(title="Spalte", description=text), default_rules())
    assert "+ the reporter calls it urgent" not in result.severity.reasons


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (("Export", "Der Export des Berichts des Vormonats stürzt ab, ich kann nicht weiterarbeiten."), "de"),
        (("Sync error", "Last sync: Mon Jan 18 09:21:00 EST 2024", "", "", "Nothing synced"), ""),
        (("Export failed", "Export failed Mon 02:00 EST and again Tue 02:00 EST et cetera."), ""),
        # a log pasted first hides nothing of the other fields
        (
            (
                "Export bricht ab",
                "\n".join(f"at org.example.export.Step{i}.run(Step{i}.java:{i})" for i in range(60)),
                "",
                "",
                "Die Datei wird nicht erstellt und es kommt ein Fehler, ich kann nicht weiterarbeiten",
            ),
            "de",
        ),
    ],
)
def test_the_language_a_report_is_written_in(texts: tuple[str, ...], expected: str) -> None:
    assert language.written(texts) == expected
