"""German and French reports get the verdict of their English twins.

Bugline ships mails and customer pages in English, German and French (docs/decisions.md,
"The customer's language"), so the triage engine's phrase families carry German and French
alternatives. Each row below is the twin of a row of test_customer_reports.py, written the
way a German or French customer would, and must come out with the same tier, the same
reason, the same kind and the same category as the English one.
"""

from __future__ import annotations

import pytest

from bugline.triage.engine import triage
from bugline.triage.report import TriageInput
from bugline.triage.rules import default_rules
from tests.unit.triage.test_customer_reports import CASES as ENGLISH
from tests.unit.triage.test_customer_reports import Case

RULES = default_rules()

PAYMENT = "+ mentions payment failure"
SECURITY = "+ mentions a security problem"
LOGIN = "+ mentions login or access broken"
DATA_LOSS = "+ mentions data loss or corruption"
COSMETIC = "- looks cosmetic (wording, typo, layout)"
WORKAROUND = "- a workaround exists"

GERMAN = [
    Case(
        "Bezahlen geht nicht",
        "Niemand kann bezahlen, der Bezahlen-Button lädt ewig. Wir verlieren Umsatz!",
        "critical",
        PAYMENT,
        category="billing",
    ),
    Case(
        "Rechnungen einer anderen Firma",
        "Unter Abrechnung > Rechnungen sehe ich die Rechnungen einer anderen Firma.",
        "critical",
        SECURITY,
        category="security",
    ),
    Case(
        "Mail zum Zurücksetzen kommt nie an",
        "Ich klicke auf 'Passwort vergessen', gebe meine E-Mail-Adresse ein und drücke auf Senden. "
        "Die Mail zum Zurücksetzen kommt nie an, im Spam-Ordner ist sie auch nicht. Chrome unter Windows 10.",
        "critical",
        LOGIN,
        category="account",
    ),
    Case(
        "Entwurf verloren",
        "Ich habe eine lange Nachricht geschrieben, auf Senden geklickt und 'Sitzung abgelaufen' "
        "bekommen. Mein ganzer Text war weg.",
        "critical",
        DATA_LOSS,
    ),
    Case(
        "Summen im Dashboard",
        "Die Summen im Dashboard sind falsch: sie zeigen 1.200, aber die Bestellungen ergeben zusammen 1.450.",
        "critical",
        DATA_LOSS,
        category="data",
    ),
    Case(
        "Tippfehler auf der Preisseite",
        "Auf der Preisseite steht 'monatlihc' statt 'monatlich'.",
        "low",
        COSMETIC,
    ),
    Case(
        "Logo unscharf",
        "Das Logo in der Kopfzeile ist auf meinem Retina-Bildschirm etwas unscharf. Nicht so wichtig.",
        "low",
        COSMETIC,
    ),
    Case(
        "Bericht langsam",
        "Der Monatsbericht braucht etwa 40 Sekunden zum Laden. Es gibt einen Umweg: die Wochenansicht ist schnell.",
        "medium",
        WORKAROUND,
        category="performance",
    ),
    Case("Dunkelmodus", "Wäre toll, wenn es einen Dunkelmodus gäbe.", "", kind="feature_request"),
    Case(
        "Export nach Excel",
        "Könntet ihr bitte einen Export nach Excel hinzufügen?",
        "",
        kind="feature_request",
    ),
    Case("Export?", "Wie kann ich alle meine Kontakte nach Excel exportieren?", "", kind="question"),
]

FRENCH = [
    Case(
        "Paiement impossible",
        "Personne ne peut payer depuis 9h, le bouton Payer tourne indéfiniment. Nous perdons des ventes !",
        "critical",
        PAYMENT,
        category="billing",
    ),
    Case(
        "Factures d'une autre entreprise",
        "Dans Facturation > Factures, je vois les factures d'une autre entreprise.",
        "critical",
        SECURITY,
        category="security",
    ),
    Case(
        "Le mail de réinitialisation n'arrive jamais",
        "Je clique sur 'Mot de passe oublié', je saisis mon e-mail et j'appuie sur Envoyer. Le mail de "
        "réinitialisation n'arrive jamais, j'ai vérifié les spams. Chrome sous Windows 10.",
        "critical",
        LOGIN,
        category="account",
    ),
    Case(
        "Brouillon perdu",
        "J'ai écrit un long message, cliqué sur Envoyer et reçu 'Session expirée'. Tout mon texte avait disparu.",
        "critical",
        DATA_LOSS,
    ),
    Case(
        "Totaux du tableau de bord",
        "Les totaux du tableau de bord sont faux : ils affichent 1 200 alors que les commandes "
        "totalisent 1 450.",
        "critical",
        DATA_LOSS,
        category="data",
    ),
    Case(
        "Faute de frappe sur la page des tarifs",
        "La page des tarifs indique 'mensule' au lieu de 'mensuel'.",
        "low",
        COSMETIC,
    ),
    Case(
        "Logo flou",
        "Le logo dans l'en-tête est un peu flou sur mon écran Retina. Pas grave.",
        "low",
        COSMETIC,
    ),
    Case(
        "Rapport lent",
        "Le rapport mensuel met environ 40 secondes à charger. Il existe une solution de contournement : "
        "la vue hebdomadaire est rapide.",
        "medium",
        WORKAROUND,
        category="performance",
    ),
    Case("Mode sombre", "Ce serait génial d'avoir un mode sombre.", "", kind="feature_request"),
    Case(
        "Export vers Excel",
        "Pourriez-vous ajouter un export vers Excel ?",
        "",
        kind="feature_request",
    ),
    Case("Export ?", "Comment puis-je exporter tous mes contacts vers Excel ?", "", kind="question"),
]


def _check(case: Case) -> None:
    result = triage(TriageInput(title=case.title, description=case.description), RULES)
    assert result.classification.kind == case.kind, result.classification.reasons
    if case.level:
        assert result.severity.level == case.level, result.severity.reasons
    if case.reason:
        assert case.reason in result.severity.reasons, result.severity.reasons
    if case.category:
        assert case.category in result.classification.categories, result.classification.categories


@pytest.mark.parametrize("case", GERMAN, ids=[c.title for c in GERMAN])
def test_a_german_report_gets_its_english_twins_verdict(case: Case) -> None:
    _check(case)


@pytest.mark.parametrize("case", FRENCH, ids=[c.title for c in FRENCH])
def test_a_french_report_gets_its_english_twins_verdict(case: Case) -> None:
    _check(case)


def test_every_english_row_has_a_german_and_a_french_twin() -> None:
    """Same verdicts row for row: a new English row asks for its twins here."""
    english = [(c.level, c.reason, c.kind, c.category) for c in ENGLISH]
    for twins in (GERMAN, FRENCH):
        assert [
            (c.level, c.reason, c.kind, c.category)
            for c in twins
            if c.title not in ("Export nach Excel", "Export vers Excel")
        ] == english


@pytest.mark.parametrize("case", ENGLISH, ids=[c.title for c in ENGLISH])
def test_the_english_reports_keep_their_verdict(case: Case) -> None:
    """The German and French alternatives leave a report written in English as it was.

    (The English dev sets are the wider check: `python -m tests.eval.severity` gives the
    same macro-F1 with and without them.)
    """
    _check(case)


@pytest.mark.parametrize(
    ("text", "not_reason"),
    [
        (
            "Ob das ein Fehler ist, hängt davon ab, welche Version ihr nutzt.",
            "+ mentions an outage, crash or hang",
        ),
        ("Nicht dringend, aber die Spalte ist zu schmal.", "+ the reporter calls it urgent"),
        ("Ce n'est pas urgent, la colonne est trop étroite.", "+ the reporter calls it urgent"),
        (
            "Les filtres ne marchent plus et ils font planter l'export.",
            "- looks cosmetic (wording, typo, layout)",
        ),
    ],
)
def test_a_german_or_french_word_that_only_looks_like_a_signal_moves_nothing(
    text: str, not_reason: str
) -> None:
    """'hängt davon ab' is no hang, 'nicht dringend' and 'pas urgent' are not urgent, 'ils font' is no font."""
    result = triage(TriageInput(title="Bericht", description=text), RULES)
    assert not_reason not in result.severity.reasons, result.severity.reasons
